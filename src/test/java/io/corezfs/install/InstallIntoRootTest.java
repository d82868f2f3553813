package io.corezfs.install;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.activation.Activation;
import io.corezfs.testing.Cli;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.TarBuilder;
import io.corezfs.testing.TreeSnapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code corezfs install --archive FILE --root DIR}: an offline install, as image baking uses it. */
class InstallIntoRootTest {
    @TempDir
    Path tmp;

    Path root;

    @BeforeEach
    void flatcarRoot() {
        root = HostRoots.flatcar(tmp.resolve("root")).root();
    }

    private Cli.Run install(Path archive, String... extra) {
        String[] args = new String[5 + extra.length];
        args[0] = "install";
        args[1] = "--archive";
        args[2] = archive.toString();
        args[3] = "--root";
        args[4] = root.toString();
        System.arraycopy(extra, 0, args, 5, extra.length);
        return new Cli(tmp).run(args);
    }

    @Test
    void anOfflineInstallIsPresentedTheWayTheOverlayModeIs() {
        // install must not depend on activation, so it keeps its own copy of the overlay mode's preset rule.
        assertEquals(Activation.OVERLAY.presetRules(), RootInstaller.OFFLINE_PRESET_RULES);
    }

    @Test
    void aHostPresetFileFarLargerThanAnyRealOneIsRefusedAndNothingChanges() throws IOException {
        Path archive = TarBuilder.typicalTree().writeTo(tmp.resolve("a.tar.gz"));
        Path preset = root.resolve("etc/systemd/system-preset/99-local.preset");
        Files.createDirectories(preset.getParent());
        // Well-formed (comments only), so only its size can be what refuses it.
        Files.writeString(preset, "# local\n".repeat(300_000));
        Map<String, String> before = io.corezfs.testing.TreeSnapshot.of(root);

        Cli.Run r = install(archive);

        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(r.err().contains(preset.toString()) && r.err().contains("larger than"), r::toString);
        assertEquals(before, io.corezfs.testing.TreeSnapshot.of(root), "the root is exactly as it was");
    }

    @Test
    void placesEtcAndOptAndEnablesUnitsByPreset() throws IOException {
        Cli.Run r = install(TarBuilder.typicalTree().writeTo(tmp.resolve("a.tar.gz")));
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("installed a.tar.gz"), r::toString);

        assertEquals("zfs\n", Files.readString(root.resolve("etc/modules-load.d/zfs.conf")));
        Path zfs = root.resolve("opt/corezfs/usr/sbin/zfs");
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(zfs)));
        assertEquals(
                Path.of("libzfs.so.4.1.0"), Files.readSymbolicLink(root.resolve("opt/corezfs/usr/lib/libzfs.so.4")));

        Path wants = root.resolve("etc/systemd/system/multi-user.target.wants");
        assertEquals(
                Path.of("/etc/systemd/system/zfs-overlay.service"),
                Files.readSymbolicLink(wants.resolve("zfs-overlay.service")));
        assertFalse(
                Files.exists(wants.resolve("zfs-ignored.service"), LinkOption.NOFOLLOW_LINKS),
                "the preset disables it");

        assertNoLeftovers();
        Cli.Run s = new Cli(tmp).run("status", "--root", root.toString(), "--json");
        assertTrue(
                s.out().contains("\"archive\" : \"a.tar.gz\"") && s.out().contains("\"kernelMatches\" : true"),
                s::toString);
    }

    @Test
    void hostPresetsAreHonouredToo() {
        HostRoots.at(root).file("/usr/lib/systemd/system-preset/10-site.preset", "disable zfs-overlay.service\n");
        assertEquals(
                0,
                install(TarBuilder.typicalTree().writeTo(tmp.resolve("a.tar.gz")))
                        .exitCode());
        assertTrue(Files.exists(root.resolve("etc/systemd/system/multi-user.target.wants"))
                == Files.exists(
                        root.resolve("etc/systemd/system/multi-user.target.wants/zfs-overlay.service"),
                        LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(
                root.resolve("etc/systemd/system/multi-user.target.wants/zfs-overlay.service"),
                LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aliasRequiredByAndAlsoAreFollowed() throws IOException {
        Path a = TarBuilder.flatcar()
                .file(
                        "etc/systemd/system/zfs-a.service",
                        "[Install]\nRequiredBy=zfs.target\nAlias=zfs-alias.service\nAlso=zfs-b.service\n")
                .file("etc/systemd/system/zfs-b.service", "[Install]\nWantedBy=zfs.target\n")
                .file("etc/systemd/system-preset/40-corezfs.preset", "enable zfs-a.service\ndisable *\n")
                .writeTo(tmp.resolve("a.tar.gz"));
        assertEquals(0, install(a).exitCode());
        Path sys = root.resolve("etc/systemd/system");
        assertEquals(
                Path.of("/etc/systemd/system/zfs-a.service"),
                Files.readSymbolicLink(sys.resolve("zfs.target.requires/zfs-a.service")));
        assertEquals(
                Path.of("/etc/systemd/system/zfs-a.service"), Files.readSymbolicLink(sys.resolve("zfs-alias.service")));
        assertEquals(
                Path.of("/etc/systemd/system/zfs-b.service"),
                Files.readSymbolicLink(sys.resolve("zfs.target.wants/zfs-b.service")),
                "Also= enables a unit even when the preset alone would not");
    }

    @Test
    void reinstallingTheSameArchiveIsANoOpThatSaysSo() {
        Path a = TarBuilder.typicalTree().writeTo(tmp.resolve("a.tar.gz"));
        assertEquals(0, install(a).exitCode());
        Map<String, String> before = TreeSnapshot.of(root);
        Cli.Run again = install(a);
        assertEquals(0, again.exitCode(), again::toString);
        assertTrue(again.out().startsWith("unchanged: a.tar.gz is already installed"), again::toString);
        assertEquals(before, TreeSnapshot.of(root));
    }

    @Test
    void aDamagedInstallIsRepairedNotSkipped() throws IOException {
        Path a = TarBuilder.typicalTree().writeTo(tmp.resolve("a.tar.gz"));
        assertEquals(0, install(a).exitCode());
        Map<String, String> good = TreeSnapshot.of(root);
        Files.delete(root.resolve("opt/corezfs/usr/sbin/zfs"));
        Cli.Run again = install(a);
        assertEquals(0, again.exitCode(), again::toString);
        assertTrue(Files.exists(root.resolve("opt/corezfs/usr/sbin/zfs")));
        assertEquals(
                without(good, "opt/corezfs/.corezfs/state.json"),
                without(TreeSnapshot.of(root), "opt/corezfs/.corezfs/state.json"));
    }

    @Test
    void aDifferentArchiveReplacesTheOldOneAndLeavesNoStrayFiles() throws IOException {
        assertEquals(
                0,
                install(TarBuilder.typicalTree()
                                .file("opt/corezfs/usr/sbin/old-only", "x")
                                .file("etc/zfs/old-only.conf", "x")
                                .writeTo(tmp.resolve("a.tar.gz")))
                        .exitCode());
        Cli.Run r = install(TarBuilder.typicalTree()
                .zfs("2.1.12")
                .file("opt/corezfs/usr/sbin/zpool", "new")
                .writeTo(tmp.resolve("b.tar.gz")));
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("replaced the previous install with b.tar.gz"), r::toString);
        assertFalse(Files.exists(root.resolve("opt/corezfs/usr/sbin/old-only")));
        assertFalse(
                Files.exists(root.resolve("etc/zfs/old-only.conf")), "files only the old archive shipped are removed");
        assertEquals("new", Files.readString(root.resolve("opt/corezfs/usr/sbin/zpool")));

        // Installing b into a fresh root gives exactly the same tree (apart from install time in the state).
        Path fresh = HostRoots.flatcar(tmp.resolve("fresh")).root();
        Path keep = root;
        root = fresh;
        assertEquals(0, install(tmp.resolve("b.tar.gz")).exitCode());
        assertEquals(
                without(TreeSnapshot.of(fresh), "opt/corezfs/.corezfs/state.json"),
                without(TreeSnapshot.of(keep), "opt/corezfs/.corezfs/state.json"));
        assertNoLeftovers();
    }

    @Test
    void locallyChangedEtcFilesAreKeptWithTheNewVersionBeside() throws IOException {
        assertEquals(
                0,
                install(TarBuilder.typicalTree().writeTo(tmp.resolve("a.tar.gz")))
                        .exitCode());
        Files.writeString(root.resolve("etc/zfs/zed.rc"), "ZED_EMAIL_ADDR=ops@example.com\n");
        // b ships a different zed.rc than a did.
        Path b2 = TarBuilderVariants.withZedRc(tmp.resolve("b2.tar.gz"), "ZED_DEBUG_LOG=/var/log/zed.log\n");
        Cli.Run r = install(b2);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("ZED_EMAIL_ADDR=ops@example.com\n", Files.readString(root.resolve("etc/zfs/zed.rc")));
        assertEquals("ZED_DEBUG_LOG=/var/log/zed.log\n", Files.readString(root.resolve("etc/zfs/zed.rc.corezfs-new")));
        assertTrue(
                r.err()
                        .contains(
                                "kept /etc/zfs/zed.rc (changed locally); the new version is at /etc/zfs/zed.rc.corezfs-new"),
                r::toString);
    }

    @Test
    void unchangedEtcFilesFollowTheNewArchive() throws IOException {
        assertEquals(
                0,
                install(TarBuilder.typicalTree().writeTo(tmp.resolve("a.tar.gz")))
                        .exitCode());
        assertEquals(
                0,
                install(TarBuilderVariants.withZedRc(tmp.resolve("b.tar.gz"), "NEW=1\n"))
                        .exitCode());
        assertEquals("NEW=1\n", Files.readString(root.resolve("etc/zfs/zed.rc")));
        assertFalse(Files.exists(root.resolve("etc/zfs/zed.rc.corezfs-new")));
    }

    @Test
    void aFileTheUserCreatedBeforeTheFirstInstallIsKept() throws IOException {
        HostRoots.at(root).file("/etc/zfs/zed.rc", "MINE=1\n");
        Cli.Run r = install(TarBuilder.typicalTree().writeTo(tmp.resolve("a.tar.gz")));
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("MINE=1\n", Files.readString(root.resolve("etc/zfs/zed.rc")));
        assertTrue(Files.exists(root.resolve("etc/zfs/zed.rc.corezfs-new")));
    }

    @Test
    void kernelMismatchCanBeForcedWithAWarning() {
        Cli.Run r = install(
                TarBuilder.typicalTree().kernel("6.1.0-47-cloud-amd64").writeTo(tmp.resolve("a.tar.gz")), "--force");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.err().contains("warning: archive was built for kernel 6.1.0-47-cloud-amd64"), r::toString);
        Cli.Run s = new Cli(tmp).run("status", "--root", root.toString());
        assertTrue(
                s.out().contains("built for kernel 6.1.0-47-cloud-amd64: will not load on 6.1.0-55-cloud-amd64"),
                s::toString);
    }

    @Test
    void forceDoesNotOverrideTheOsVersion() {
        Cli.Run r = install(TarBuilder.typicalTree().osVersion("3815.2.5").writeTo(tmp.resolve("a.tar.gz")), "--force");
        assertEquals(5, r.exitCode(), r::toString);
    }

    @Test
    void kernelOptionNamesTheTargetKernel() {
        Cli.Run r = install(
                TarBuilder.typicalTree().kernel("6.1.0-47-cloud-amd64").writeTo(tmp.resolve("a.tar.gz")),
                "--kernel",
                "6.1.0-47-cloud-amd64");
        assertEquals(0, r.exitCode(), r::toString);
    }

    @Test
    void liveInstallWithoutRootIsRefusedWithoutTouchingAnything() throws IOException {
        Files.writeString(tmp.resolve("whatever.tar.gz"), "");
        Map<String, String> before = TreeSnapshot.of(tmp);
        Cli.Run r = new Cli(tmp).run("install", "--archive", "whatever.tar.gz");
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(r.err().contains("live install needs root"), r::toString);
        assertEquals(before, TreeSnapshot.of(tmp));
    }

    @ParameterizedTest(name = "the move #{0} fails")
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7})
    void aFailedMoveIsRolledBackCompletely(int failAt) throws IOException {
        assertEquals(
                0,
                install(TarBuilder.typicalTree()
                                .file("etc/zfs/old-only.conf", "x")
                                .writeTo(tmp.resolve("a.tar.gz")))
                        .exitCode());
        Files.writeString(root.resolve("etc/zfs/zed.rc"), "LOCAL=1\n");
        Map<String, String> before = TreeSnapshot.of(tmp.resolve("root"));
        AtomicInteger moves = new AtomicInteger();
        Cli cli = new Cli(tmp).fileOps((from, to) -> {
            if (moves.incrementAndGet() == failAt) {
                throw new IOException("injected failure");
            }
            FileOps.DEFAULT.move(from, to);
        });
        Path b = TarBuilderVariants.withZedRc(tmp.resolve("b.tar.gz"), "NEW=1\n");
        Cli.Run r = cli.run("install", "--archive", b.toString(), "--root", root.toString());
        assertEquals(1, r.exitCode(), r::toString);
        assertTrue(r.err().contains("rolled back"), r::toString);
        assertEquals(before, TreeSnapshot.of(tmp.resolve("root")));
    }

    @Test
    void aRollbackThatCannotFinishSaysSoInsteadOfClaimingSuccess() throws IOException {
        assertEquals(
                0,
                install(TarBuilder.typicalTree().writeTo(tmp.resolve("a.tar.gz")))
                        .exitCode());
        AtomicInteger moves = new AtomicInteger();
        // The commit's second rename fails, and so does putting the old tree back.
        Cli cli = new Cli(tmp).fileOps((from, to) -> {
            if (to.getFileName().toString().equals("corezfs") && moves.incrementAndGet() >= 1) {
                throw new IOException("injected failure on " + to);
            }
            FileOps.DEFAULT.move(from, to);
        });
        Path b = TarBuilderVariants.withZedRc(tmp.resolve("b.tar.gz"), "NEW=1\n");
        Cli.Run r = cli.run("install", "--archive", b.toString(), "--root", root.toString());
        assertEquals(1, r.exitCode(), r::toString);
        assertTrue(r.err().contains("could not undo"), () -> "the rollback's own failure is told: " + r);
    }

    @Test
    void everyStagedByteIsFlushedBeforeTheCommitRenameAndTheRenamesAfterIt() throws IOException {
        Path real = root.toRealPath();
        List<String> log = new ArrayList<>();
        FileOps recording = new FileOps() {
            @Override
            public void move(Path from, Path to) throws IOException {
                log.add("move " + real.relativize(to));
                FileOps.DEFAULT.move(from, to);
            }

            @Override
            public void syncFilesystem(Path path) throws IOException {
                log.add("sync " + real.relativize(path).toString().replaceFirst("\\.corezfs-stage-.*", "STAGE"));
                FileOps.DEFAULT.syncFilesystem(path);
            }
        };
        Path a = TarBuilder.typicalTree().writeTo(tmp.resolve("a.tar.gz"));
        Cli.Run r =
                new Cli(tmp).fileOps(recording).run("install", "--archive", a.toString(), "--root", root.toString());
        assertEquals(0, r.exitCode(), r::toString);

        int commit = log.indexOf("move opt/corezfs");
        assertTrue(commit > 0, () -> "the staged tree is renamed onto /opt/corezfs: " + log);
        assertEquals(
                List.of("sync opt/STAGE", "sync etc/STAGE"),
                log.stream().limit(2).toList(),
                () -> "both staged trees are flushed before the first rename: " + log);
        assertEquals(
                List.of("sync opt", "sync etc"),
                log.subList(commit + 1, log.size()),
                () -> "and the filesystems of /opt and /etc after the commit: " + log);
        assertEquals(
                "zfs\n", Files.readString(root.resolve("etc/modules-load.d/zfs.conf")), "the real flush worked too");
    }

    @Test
    void anInterruptedSwapIsRecoveredOnTheNextRun() throws IOException {
        Path a = TarBuilder.typicalTree().writeTo(tmp.resolve("a.tar.gz"));
        assertEquals(0, install(a).exitCode());
        // What a crash between the two renames of the swap leaves behind.
        Files.move(root.resolve("opt/corezfs"), root.resolve("opt/.corezfs-old-deadbeef"));
        Files.createDirectories(root.resolve("opt/.corezfs-stage-deadbeef/usr"));
        Files.createDirectories(root.resolve("etc/.corezfs-stage-deadbeef"));
        Cli.Run r = install(a);
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("unchanged"), "the old tree came back and is what a asks for: " + r);
        assertNoLeftovers();
    }

    private void assertNoLeftovers() {
        for (String d : new String[] {"etc", "opt"}) {
            try (var s = Files.list(root.resolve(d))) {
                assertTrue(
                        s.noneMatch(p -> p.getFileName().toString().startsWith(".corezfs-")),
                        "no staging left in " + d);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    private static Map<String, String> without(Map<String, String> m, String key) {
        Map<String, String> c = new java.util.TreeMap<>(m);
        c.remove(key);
        return c;
    }
}
