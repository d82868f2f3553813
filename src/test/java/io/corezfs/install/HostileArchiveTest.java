package io.corezfs.install;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.archive.ArchiveLimits;
import io.corezfs.testing.Cli;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.TarBuilder;
import io.corezfs.testing.TreeSnapshot;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every archive that breaks a safety rule is refused with one line and the right exit code, and neither the
 * target root nor anything beside it changes, byte for byte and entry for entry. Each case runs twice: on a root
 * that already has an install and a user's file, and on a bare root without {@code /opt} and {@code /etc/systemd},
 * where a refused install must not leave a directory it created.
 */
class HostileArchiveTest {
    @TempDir
    Path tmp;

    Path world;
    Path root;

    static final String INSTALLED = "installed";
    static final String BARE = "bare";

    /** {@link #INSTALLED}: a root with an earlier install; {@link #BARE}: a root without /opt and /etc/systemd. */
    void host(String kind) {
        world = tmp.resolve("world");
        root = HostRoots.flatcar(world.resolve("root"))
                .file("/etc/hostname", "node-1\n")
                .root();
        HostRoots.at(world.resolve("beside")).file("/secret", "do not touch\n");
        if (kind.equals(BARE)) {
            assertTrue(Files.notExists(root.resolve("opt")) && Files.notExists(root.resolve("etc/systemd")));
            return;
        }
        // An older build than any case below, so no case is mistaken for a reinstall of the same content.
        Path first =
                TarBuilder.typicalTree().file("etc/zfs/from-the-old-build", "1").writeTo(tmp.resolve("good.tar.gz"));
        Cli.Run r = new Cli(tmp).run("install", "--archive", first.toString(), "--root", root.toString());
        assertEquals(0, r.exitCode(), r::toString);
    }

    static Stream<Arguments> unsafeOnEachRoot() {
        return unsafe().flatMap(a -> Stream.of(INSTALLED, BARE).map(k -> {
            Object[] g = a.get();
            return Arguments.of(g[0], k, g[1], g[2]);
        }));
    }

    static Stream<Arguments> unsafe() {
        return Stream.of(
                c("absolute path", 4, () -> TarBuilder.flatcar().file("/etc/evil", "x")),
                c("dot-dot path", 4, () -> TarBuilder.flatcar().file("etc/../../beside/secret", "x")),
                c("dot-dot inside the prefix", 4, () -> TarBuilder.flatcar().file("opt/corezfs/../../etc/passwd", "x")),
                c("non-canonical path", 4, () -> TarBuilder.flatcar().file("etc//x", "x")),
                c("control character in name", 4, () -> TarBuilder.flatcar().file("etc/a\nb", "x")),
                c("outside etc and opt/corezfs", 4, () -> TarBuilder.flatcar().file("usr/bin/zfs", "x")),
                c("another /opt package", 4, () -> TarBuilder.flatcar().file("opt/other/x", "x")),
                c("prefix lookalike", 4, () -> TarBuilder.flatcar().file("opt/corezfsevil/x", "x")),
                c("var", 4, () -> TarBuilder.flatcar().file("var/lib/x", "x")),
                c(
                        "reserved state dir",
                        4,
                        () -> TarBuilder.typicalTree().file("opt/corezfs/.corezfs/state.json", "{}")),
                c(
                        "absolute symlink outside",
                        4,
                        () -> TarBuilder.typicalTree().symlink("opt/corezfs/usr/lib/x", "/usr/lib/libc.so.6")),
                c(
                        "relative symlink escaping",
                        4,
                        () -> TarBuilder.typicalTree()
                                .symlink("opt/corezfs/usr/lib/x", "../../../../../beside/secret")),
                c(
                        "symlink to a host file in /etc",
                        4,
                        () -> TarBuilder.typicalTree().symlink("etc/zfs/x", "/etc/shadow")),
                c("symlink resolving to / ", 4, () -> TarBuilder.typicalTree().symlink("etc/zfs/x", "../..")),
                c(
                        "symlink chain escaping through another link",
                        4,
                        () -> TarBuilder.typicalTree()
                                .symlink("opt/corezfs/usr/lib/up", "../../../../etc")
                                .symlink("opt/corezfs/usr/lib/x", "up/../usr/bin/passwd")),
                c(
                        "symlink loop",
                        4,
                        () -> TarBuilder.typicalTree()
                                .symlink("opt/corezfs/usr/lib/a", "b")
                                .symlink("opt/corezfs/usr/lib/b", "a")),
                c(
                        "write through a symlink",
                        4,
                        () -> TarBuilder.typicalTree()
                                .symlink("opt/corezfs/usr/lib/etcdir", "../../../../etc/zfs")
                                .file("opt/corezfs/usr/lib/etcdir/zed.rc", "pwned")),
                c(
                        "write through a symlink listed after",
                        4,
                        () -> TarBuilder.typicalTree()
                                .file("opt/corezfs/usr/lib/d/zed.rc", "pwned")
                                .symlink("opt/corezfs/usr/lib/d", "../../../../etc/zfs")),
                c(
                        "hardlink outside",
                        4,
                        () -> TarBuilder.typicalTree().hardlink("opt/corezfs/usr/lib/h", "/etc/shadow")),
                c(
                        "hardlink dot-dot",
                        4,
                        () -> TarBuilder.typicalTree().hardlink("opt/corezfs/usr/lib/h", "../../../beside/secret")),
                c(
                        "hardlink to a later entry",
                        4,
                        () -> TarBuilder.flatcar()
                                .hardlink("opt/corezfs/a", "opt/corezfs/b")
                                .file("opt/corezfs/b", "x")),
                c(
                        "hardlink across etc and opt",
                        4,
                        () -> TarBuilder.typicalTree().hardlink("etc/zfs/h", "opt/corezfs/usr/sbin/zfs")),
                c("opt/corezfs as a symlink", 4, () -> TarBuilder.flatcar().symlink("opt/corezfs", "../etc")),
                c("opt/corezfs as a file", 4, () -> TarBuilder.flatcar().file("opt/corezfs", "x")),
                c(
                        "character device",
                        4,
                        () -> TarBuilder.typicalTree()
                                .raw(dev("opt/corezfs/null", TarConstants.LF_CHR), new byte[0], null)),
                c(
                        "block device",
                        4,
                        () -> TarBuilder.typicalTree()
                                .raw(dev("opt/corezfs/sda", TarConstants.LF_BLK), new byte[0], null)),
                c(
                        "fifo",
                        4,
                        () -> TarBuilder.typicalTree()
                                .raw(dev("opt/corezfs/fifo", TarConstants.LF_FIFO), new byte[0], null)),
                c("socket mode bits", 4, () -> TarBuilder.typicalTree().raw(socket(), new byte[0], null)),
                c("setuid file", 4, () -> TarBuilder.typicalTree().file("opt/corezfs/usr/sbin/suid", "x", 04755)),
                c("setgid file", 4, () -> TarBuilder.typicalTree().file("opt/corezfs/usr/sbin/sgid", "x", 02755)),
                c("duplicate entry", 4, () -> TarBuilder.typicalTree().file("etc/zfs/zed.rc", "second copy")),
                c(
                        "entry not in the manifest",
                        4,
                        () -> TarBuilder.typicalTree().unlisted("opt/corezfs/usr/sbin/extra", "x")),
                c(
                        "manifest entry missing from the tar",
                        4,
                        () -> TarBuilder.typicalTree()
                                .editManifest(m -> ((com.fasterxml.jackson.databind.node.ArrayNode) m.get("entries"))
                                        .add(new TarBuilder().line("opt/corezfs/usr/sbin/zpool", "dir", 0755)))),
                c(
                        "mode differs from the manifest",
                        4,
                        () -> TarBuilder.typicalTree()
                                .editManifest(m -> ((com.fasterxml.jackson.databind.node.ObjectNode)
                                                m.get("entries").get(1))
                                        .put("mode", "0600"))),
                c(
                        "size differs from the manifest",
                        4,
                        () -> TarBuilder.typicalTree()
                                .editManifest(m -> ((com.fasterxml.jackson.databind.node.ObjectNode)
                                                m.get("entries").get(1))
                                        .put("size", 1))),
                c("no manifest", 4, () -> TarBuilder.typicalTree().noManifest()),
                c("manifest not JSON", 4, () -> TarBuilder.typicalTree().rawManifest("{not json")),
                c("manifest from the future", 4, () -> TarBuilder.typicalTree().editManifest(m -> m.put("format", 99))),
                c(
                        "hash mismatch",
                        5,
                        () -> TarBuilder.typicalTree().fileWithWrongHash("opt/corezfs/usr/sbin/zpool", "evil")),
                c("other OS version", 5, () -> TarBuilder.typicalTree().osVersion("3815.2.5")),
                c("other kernel", 5, () -> TarBuilder.typicalTree().kernel("6.1.0-47-cloud-amd64")));
    }

    private static Arguments c(String name, int code, Supplier<TarBuilder> b) {
        return Arguments.of(name, code, b);
    }

    private static TarArchiveEntry dev(String name, byte type) {
        TarArchiveEntry t = TarBuilder.entry(name, type, 0666);
        t.setDevMajor(1);
        t.setDevMinor(3);
        return t;
    }

    private static TarArchiveEntry socket() {
        TarArchiveEntry t = TarBuilder.entry("opt/corezfs/sock", TarConstants.LF_NORMAL, 0140755);
        return t;
    }

    @ParameterizedTest(name = "{0} ({1} root)")
    @MethodSource("unsafeOnEachRoot")
    void refusedAndNothingChanges(String name, String kind, int code, Supplier<TarBuilder> archive) {
        host(kind);
        Path file = archive.get().writeTo(tmp.resolve("hostile.tar.gz"));
        assertRefused(file, code, new Cli(tmp));
        // verify judges the archive alone: it agrees on every flaw of the archive, and has no host to mismatch.
        Cli.Run v = new Cli(tmp).run("archive", "verify", file.toString());
        assertEquals(name.startsWith("other ") ? 0 : code, v.exitCode(), v::toString);
    }

    @ParameterizedTest(name = "{0} root")
    @ValueSource(strings = {INSTALLED, BARE})
    void truncatedArchive(String kind) throws Exception {
        host(kind);
        byte[] full = TarBuilder.typicalTree()
                .file("opt/corezfs/big", "y".repeat(200_000))
                .gzBytes();
        Path file = tmp.resolve("cut.tar.gz");
        Files.write(file, Arrays.copyOf(full, full.length - 40));
        assertRefused(file, 4, new Cli(tmp));
    }

    @ParameterizedTest(name = "{0} root")
    @ValueSource(strings = {INSTALLED, BARE})
    void truncatedInsideTheGzipTrailerOnly(String kind) throws Exception {
        host(kind);
        byte[] full = TarBuilder.typicalTree().gzBytes();
        Path file = tmp.resolve("cut.tar.gz");
        Files.write(file, Arrays.copyOf(full, full.length - 4));
        assertRefused(file, 4, new Cli(tmp));
    }

    @ParameterizedTest(name = "{0} root")
    @ValueSource(strings = {INSTALLED, BARE})
    void plainTarIsNotGzip(String kind) throws Exception {
        host(kind);
        Path file = tmp.resolve("plain.tar.gz");
        Files.write(file, TarBuilder.typicalTree().tarBytes());
        assertRefused(file, 4, new Cli(tmp));
    }

    @ParameterizedTest(name = "{0} root")
    @ValueSource(strings = {INSTALLED, BARE})
    void randomBytesAndEmptyFile(String kind) throws Exception {
        host(kind);
        Path junk = tmp.resolve("junk.tar.gz");
        Files.write(junk, "this is not an archive at all".getBytes(StandardCharsets.UTF_8));
        assertRefused(junk, 4, new Cli(tmp));
        Path empty = tmp.resolve("empty.tar.gz");
        Files.write(empty, new byte[0]);
        assertRefused(empty, 4, new Cli(tmp));
    }

    @ParameterizedTest(name = "{0} root")
    @ValueSource(strings = {INSTALLED, BARE})
    void contentPastTheSizeLimit(String kind) {
        host(kind);
        Path file = TarBuilder.typicalTree()
                .file("opt/corezfs/big", "z".repeat(300_000))
                .writeTo(tmp.resolve("big.tar.gz"));
        assertRefused(file, 4, new Cli(tmp).limits(new ArchiveLimits(100_000, 1000, 1 << 20, 1 << 16)));
    }

    @ParameterizedTest(name = "{0} root")
    @ValueSource(strings = {INSTALLED, BARE})
    void entriesPastTheCountLimit(String kind) {
        host(kind);
        TarBuilder b = TarBuilder.typicalTree();
        for (int i = 0; i < 50; i++) {
            b.file("opt/corezfs/many/f" + i, "x");
        }
        assertRefused(
                b.writeTo(tmp.resolve("many.tar.gz")),
                4,
                new Cli(tmp).limits(new ArchiveLimits(1 << 20, 40, 1 << 20, 1 << 16)));
    }

    @ParameterizedTest(name = "{0} root")
    @ValueSource(strings = {INSTALLED, BARE})
    void hugePaxHeaderIsStoppedWhileReading(String kind) {
        host(kind);
        TarBuilder b = TarBuilder.typicalTree().unlisted("opt/corezfs/" + "n".repeat(200) + "/x".repeat(40_000), "x");
        Cli.Run r = assertRefused(
                b.writeTo(tmp.resolve("pax.tar.gz")),
                4,
                new Cli(tmp).limits(new ArchiveLimits(1 << 20, 1000, 1 << 20, 16_384)));
        assertTrue(r.err().contains("a tar header is larger than allowed"), r::toString);
    }

    @ParameterizedTest(name = "{0} root")
    @ValueSource(strings = {INSTALLED, BARE})
    void gzipBombIsStoppedByTheSizeLimit(String kind) {
        host(kind);
        // The manifest claims a small file; the tar header claims 2 GB of zeros.
        TarArchiveEntry t = TarBuilder.entry("opt/corezfs/bomb", TarConstants.LF_NORMAL, 0644);
        t.setSize(5_000_000);
        var line = new TarBuilder().line("opt/corezfs/bomb", "file", 0644);
        line.put("size", 5_000_000);
        line.put("sha256", "0".repeat(64));
        Path file = TarBuilder.typicalTree().raw(t, new byte[5_000_000], line).writeTo(tmp.resolve("bomb.tar.gz"));
        assertRefused(file, 4, new Cli(tmp).limits(new ArchiveLimits(1_000_000, 1000, 1 << 20, 1 << 16)));
    }

    @ParameterizedTest(name = "{0} root")
    @ValueSource(strings = {INSTALLED, BARE})
    void symlinkedEtcInsideTheTargetIsNotWrittenThrough(String kind) throws Exception {
        host(kind);
        Path etcSystemd = root.resolve("etc/systemd");
        Path aside = world.resolve("beside/systemd");
        if (Files.exists(etcSystemd)) {
            Files.move(etcSystemd, aside);
        } else {
            Files.createDirectories(aside);
        }
        Files.createSymbolicLink(etcSystemd, aside);
        Path file = TarBuilder.typicalTree()
                .file("etc/systemd/system/new.service", "[Service]\n")
                .writeTo(tmp.resolve("a.tar.gz"));
        assertTrue(assertRefused(file, 3, new Cli(tmp)).err().contains("is a symlink; refusing to write through it"));
    }

    @ParameterizedTest(name = "{0} root")
    @ValueSource(strings = {INSTALLED, BARE})
    void symlinkedOptCorezfsIsNotReplaced(String kind) throws Exception {
        host(kind);
        Path opt = root.resolve("opt/corezfs");
        if (Files.exists(opt)) {
            Files.move(opt, world.resolve("beside/corezfs"));
        } else {
            Files.createDirectories(world.resolve("beside/corezfs"));
            Files.createDirectories(opt.getParent());
        }
        Files.createSymbolicLink(opt, world.resolve("beside/corezfs"));
        Path file = TarBuilder.typicalTree()
                .file("opt/corezfs/usr/sbin/zpool", "new")
                .writeTo(tmp.resolve("a.tar.gz"));
        assertRefused(file, 3, new Cli(tmp));
    }

    private Cli.Run assertRefused(Path archive, int code, Cli cli) {
        Map<String, String> before = TreeSnapshot.of(world);
        Cli.Run r = cli.run("install", "--archive", archive.toString(), "--root", root.toString());
        assertEquals(code, r.exitCode(), r::toString);
        assertEquals(1, r.err().strip().lines().count(), () -> "one line: " + r);
        assertTrue(r.err().startsWith("corezfs: "), r::toString);
        assertEquals(before, TreeSnapshot.of(world), "the target and everything beside it are unchanged");
        return r;
    }
}
