package io.corezfs.update;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.testing.Cli;
import io.corezfs.testing.FakeLiveSystem;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.TarBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** corezfs-boot.service: where it sits in the boot, and how the live install ships and removes it. */
class BootUnitTest {
    @TempDir
    Path tmp;

    static String unit(String name) throws IOException {
        try (InputStream in = BootUnitTest.class.getResourceAsStream("/io/corezfs/units/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Every value of a directive, over all its lines, split into words. */
    static List<String> values(String unit, String key) {
        return unit.lines()
                .filter(l -> l.startsWith(key + "="))
                .flatMap(l -> Arrays.stream(l.substring(key.length() + 1).trim().split("\\s+")))
                .toList();
    }

    @Test
    void itRunsBeforeEveryActivationAndImportUnitWithoutAnOrderingCycle() throws IOException {
        String u = unit("corezfs-boot.service");
        List<String> before = values(u, "Before");
        for (String must : List.of(
                "zfs-overlay.service",
                "corezfs-sysext.service",
                "systemd-sysext.service",
                "zfs-load-module.service",
                "zfs-import-cache.service",
                "zfs-import-scan.service",
                "zfs-mount.service")) {
            assertTrue(before.contains(must), "Before= lacks " + must + ": " + before);
        }
        List<String> after = values(u, "After");
        assertFalse(after.contains("local-fs.target"), "zfs-mount.service is before local-fs.target: a cycle");
        assertFalse(after.contains("sysinit.target") || after.contains("basic.target"), after::toString);
        assertTrue(after.contains("corezfs-pending.service"), "a staged upgrade is applied first: " + after);
        assertEquals(List.of("no"), values(u, "DefaultDependencies"));
        assertTrue(values(u, "RequiresMountsFor").containsAll(List.of("/opt", "/var/lib/corezfs")), u);
    }

    @Test
    void nothingThatTheBootNeedsRequiresItAndItsWaitIsBounded() throws IOException {
        String u = unit("corezfs-boot.service");
        assertEquals(List.of("sysinit.target"), values(u, "WantedBy"), "pulled in by Wants= only");
        assertTrue(values(u, "RequiredBy").isEmpty() && values(u, "UpheldBy").isEmpty(), u);
        assertEquals(List.of("@TIMEOUT@"), values(u, "TimeoutStartSec"));
        assertEquals(List.of("@LAUNCHER@", "boot"), values(u, "ExecStart"));
        String build = unit(BootReconciler.LATE_UNIT);
        assertTrue(values(build, "After").contains("network-online.target"), build);
        assertTrue(values(build, "WantedBy").isEmpty(), "started by corezfs boot only, never at every boot");
    }

    @Test
    void theLiveInstallWritesItWithItsLauncherAndTimeoutEnablesItAndUninstallRemovesIt() throws IOException {
        Path root = HostRoots.flatcar(tmp.resolve("root"))
                .file("/etc/corezfs/corezfs.conf", "BOOT_FETCH_TIMEOUT=30\n")
                .root();
        FakeLiveSystem host = new FakeLiveSystem(root, "2.1.11");
        Path work = Files.createDirectories(tmp.resolve("work"));
        TarBuilder.typicalTree().writeTo(work.resolve("corezfs_amd64-usr_3975.2.0_stable_zfs-2.1.11.tar.gz"));
        Cli cli = new Cli(work).live(root, host);
        Cli.Run r = cli.run("install", "--mode", "overlay");
        assertEquals(0, r.exitCode(), r::toString);
        Path written = root.resolve("etc/systemd/system/corezfs-boot.service");
        String u = Files.readString(written);
        assertEquals(List.of("/opt/corezfs-tool/bin/corezfs", "boot"), values(u, "ExecStart"));
        assertEquals(List.of("930"), values(u, "TimeoutStartSec"), "BOOT_FETCH_TIMEOUT plus room for one archive");
        assertFalse(u.contains("@"), u);
        assertTrue(Files.readString(root.resolve("etc/systemd/system/" + BootReconciler.LATE_UNIT))
                .contains("ExecStart=/opt/corezfs-tool/bin/corezfs boot --late"));
        assertTrue(Files.readString(root.resolve("etc/systemd/system/corezfs-prepare.service"))
                .contains("ExecStart=/opt/corezfs-tool/bin/corezfs prepare --from-update-engine"));
        List<String> calls = host.calls();
        int enable = calls.indexOf("systemctl enable --no-reload corezfs-boot.service");
        assertTrue(enable >= 0 && enable < calls.indexOf("systemctl daemon-reload"), calls::toString);

        Cli.Run un = cli.run("uninstall");
        assertEquals(0, un.exitCode(), un::toString);
        assertFalse(Files.exists(written));
        assertFalse(Files.exists(root.resolve("etc/systemd/system/" + BootReconciler.LATE_UNIT)));
        assertFalse(Files.exists(root.resolve("etc/systemd/system/corezfs-prepare.service")));
        assertTrue(host.calls().contains("systemctl disable --no-reload corezfs-boot.service"), host.calls()::toString);
    }
}
