package io.corezfs.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.Reporter;
import io.corezfs.host.RootFs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** From `make install` output to the archive layout. */
class TreeCollectorTest {
    @TempDir
    Path tmp;

    private Path file(String rel, String content) throws IOException {
        Path p = tmp.resolve(rel);
        Files.createDirectories(p.getParent());
        return Files.writeString(p, content);
    }

    private Path buildOutput() throws IOException {
        file("out/build.env", "LIBDIR=/usr/lib/x86_64-linux-gnu\nKERNEL_TREE=/usr/lib/modules/6.1.0-56-cloud-amd64\n");
        file("out/destdir/usr/sbin/zpool", "zpool");
        file("out/destdir/usr/lib/x86_64-linux-gnu/libzfs.so.4.1.0", "lib");
        Files.createSymbolicLink(
                tmp.resolve("out/destdir/usr/lib/x86_64-linux-gnu/libzfs.so.4"), Path.of("libzfs.so.4.1.0"));
        file("out/destdir/usr/lib/x86_64-linux-gnu/libzfs.a", "static");
        file("out/destdir/usr/lib/x86_64-linux-gnu/libzfs.la", "libtool");
        file("out/destdir/usr/include/libzfs.h", "header");
        file("out/destdir/usr/share/zfs/zfs-tests/tests/functional/x.ksh", "test");
        file("out/destdir/usr/share/zfs/zfs-tests.sh", "test");
        file("out/destdir/lib/modules/6.1.0-56-cloud-amd64/extra/zfs.ko", "ko");
        file("out/destdir/lib/modules/6.1.0-56-cloud-amd64/modules.dep", "extra/zfs.ko: extra/spl.ko\n");
        file("out/destdir/usr/lib/systemd/system/zfs-import-cache.service", "[Install]\nWantedBy=zfs-import.target\n");
        file("out/destdir/usr/lib/systemd/system-preset/50-zfs.preset", "enable zfs-import-cache.service\n");
        file("out/destdir/usr/lib/modules-load.d/zfs.conf", "zfs\n");
        file("out/destdir/etc/zfs/zed.d/zed.rc", "rc");
        file("out/destdir/etc/init.d/zfs-import", "sysv");
        file("out/destdir/usr/libexec/zfs/zpool.d/iostat", "#!/bin/sh\n");
        Files.createDirectories(tmp.resolve("out/destdir/etc/zfs/zpool.d"));
        Files.createSymbolicLink(
                tmp.resolve("out/destdir/etc/zfs/zpool.d/iostat"), Path.of("/usr/libexec/zfs/zpool.d/iostat"));
        Files.createSymbolicLink(
                tmp.resolve("out/destdir/usr/lib/systemd/system/zfs-import.service"), Path.of("/dev/null"));
        file("out/syslibs/libtirpc.so.3", "tirpc");
        file("out/syslibs/libuuid.so.1", "uuid");
        file("out/syslibs/libc.so.6", "libc");
        file("out/syslibs/libm.so.6", "libm");
        return tmp.resolve("out");
    }

    private Path collect(Path target) throws IOException {
        Path tree = tmp.resolve("tree");
        new TreeCollector(Reporter.SILENT).collect(buildOutput(), new RootFs(target), "6.1.0-56-cloud-amd64", tree);
        return tree;
    }

    @Test
    void userlandGoesUnderOptCorezfsAndConfigurationUnderEtc() throws IOException {
        Path tree = collect(Files.createDirectories(tmp.resolve("target")));
        assertTrue(Files.exists(tree.resolve("opt/corezfs/usr/sbin/zpool")));
        assertEquals(
                Path.of("libzfs.so.4.1.0"),
                Files.readSymbolicLink(tree.resolve("opt/corezfs/usr/lib/x86_64-linux-gnu/libzfs.so.4")));
        assertTrue(
                Files.exists(tree.resolve("opt/corezfs/usr/lib/modules/6.1.0-56-cloud-amd64/extra/zfs.ko")),
                "split /lib merges into /usr/lib");
        assertTrue(Files.exists(tree.resolve("opt/corezfs/usr/lib/modules/6.1.0-56-cloud-amd64/modules.dep")));
        assertTrue(Files.exists(tree.resolve("etc/zfs/zed.d/zed.rc")));
        assertEquals("6.1.0-56-cloud-amd64\n", Files.readString(tree.resolve("opt/corezfs/kernel-release")));
        try (var s = Files.list(tree)) {
            assertEquals(
                    List.of("etc", "opt"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void noStaticLibsHeadersTestSuitesOrSysvinit() throws IOException {
        Path tree = collect(Files.createDirectories(tmp.resolve("target")));
        assertFalse(Files.exists(tree.resolve("opt/corezfs/usr/lib/x86_64-linux-gnu/libzfs.a")));
        assertFalse(Files.exists(tree.resolve("opt/corezfs/usr/lib/x86_64-linux-gnu/libzfs.la")));
        assertFalse(Files.exists(tree.resolve("opt/corezfs/usr/include")));
        assertFalse(Files.exists(tree.resolve("opt/corezfs/usr/share/zfs/zfs-tests")));
        assertFalse(Files.exists(tree.resolve("opt/corezfs/usr/share/zfs/zfs-tests.sh")));
        assertFalse(Files.exists(tree.resolve("etc/init.d")));
        assertFalse(
                Files.exists(tree.resolve("opt/corezfs/usr/lib/modules-load.d")),
                "the overlay unit loads the module; modules-load.d would try before the overlay exists");
    }

    @Test
    void zfsUnitsAndPresetsMoveToEtcWhereSystemdSeesThemAtBoot() throws IOException {
        Path tree = collect(Files.createDirectories(tmp.resolve("target")));
        assertTrue(Files.exists(tree.resolve("etc/systemd/system/zfs-import-cache.service")));
        assertTrue(Files.exists(tree.resolve("etc/systemd/system-preset/50-zfs.preset")));
        assertFalse(Files.exists(tree.resolve("opt/corezfs/usr/lib/systemd/system")));
        assertTrue(
                Files.exists(tree.resolve("etc/systemd/system/zfs-overlay.service")), "corezfs's own unit from units/");
        assertTrue(
                Files.readString(tree.resolve("etc/systemd/system-preset/40-corezfs.preset"))
                        .contains("enable zfs-overlay.service"),
                "static files from overlay/");
    }

    @Test
    void librariesTheTargetLacksAreBundledButNeverTheCRuntime() throws IOException {
        Path target = tmp.resolve("target");
        Files.createDirectories(target.resolve("usr/lib/x86_64-linux-gnu"));
        Files.writeString(target.resolve("usr/lib/x86_64-linux-gnu/libuuid.so.1"), "base");
        Path tree = collect(target);
        Path lib = tree.resolve("opt/corezfs/usr/lib/x86_64-linux-gnu");
        assertTrue(Files.exists(lib.resolve("libtirpc.so.3")), "missing on the target: bundled");
        assertFalse(Files.exists(lib.resolve("libuuid.so.1")), "the target has it: never shadowed");
        assertFalse(Files.exists(lib.resolve("libc.so.6")));
        assertFalse(Files.exists(lib.resolve("libm.so.6")));
    }

    @Test
    void absoluteLinksIntoUsrPointIntoOptCorezfsAndMasksAreDropped() throws IOException {
        Path tree = collect(Files.createDirectories(tmp.resolve("target")));
        assertEquals(
                Path.of("/opt/corezfs/usr/libexec/zfs/zpool.d/iostat"),
                Files.readSymbolicLink(tree.resolve("etc/zfs/zpool.d/iostat")));
        assertFalse(Files.exists(
                tree.resolve("etc/systemd/system/zfs-import.service"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void mapsSplitUsrTreesAndDropsTheRest() {
        assertEquals("opt/corezfs/usr/sbin/mount.zfs", TreeCollector.map("sbin/mount.zfs"));
        assertEquals("opt/corezfs/usr/lib64/libx.so", TreeCollector.map("lib64/libx.so"));
        assertEquals("etc/default/zfs", TreeCollector.map("etc/default/zfs"));
        assertNull(TreeCollector.map("var/lib/zfs"));
        assertNull(TreeCollector.map("run/x"));
    }
}
