package io.corezfs.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corezfs.install.FileOps;
import io.corezfs.install.InstallState;
import io.corezfs.install.RootInstaller;
import io.corezfs.testing.Cli;
import io.corezfs.testing.FakeLiveSystem;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.StaticHttpServer;
import io.corezfs.testing.TarBuilder;
import io.corezfs.testing.TreeSnapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sudo corezfs install} on a running host: lookup, install, activation, verification, rollback, uninstall and
 * status, against a miniature host ({@link FakeLiveSystem}) on a temporary root. The real thing runs in a VM
 * (LiveInstallIT).
 */
class LiveInstallTest {
    @TempDir
    Path tmp;

    Path root;
    Path work;
    FakeLiveSystem host;

    @BeforeEach
    void runningFlatcarNode() throws IOException {
        root = HostRoots.flatcar(tmp.resolve("root")).root();
        host = new FakeLiveSystem(root, "2.1.11");
        work = Files.createDirectories(tmp.resolve("work"));
    }

    private Cli.Run corezfs(String... args) {
        return new Cli(work).live(root, host).run(args);
    }

    private Path archive(String name) {
        return TarBuilder.typicalTree().writeTo(work.resolve(name));
    }

    private static final String NAME = "corezfs_amd64-usr_3975.2.0_stable_zfs-2.1.11.tar.gz";

    @Test
    void installsActivatesAndVerifiesInOverlayMode() throws IOException {
        archive(NAME);
        Cli.Run r = corezfs("install", "--mode", "overlay");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("installed and activated " + NAME + " (overlay mode)"), r::toString);
        assertTrue(
                r.err().contains("archive: " + work.resolve(NAME) + " (newest archive for flatcar 3975.2.0"),
                r::toString);
        assertTrue(r.err().contains("in the current directory"), "says where and why: " + r);

        assertTrue(host.moduleLoaded() && host.overlayMounted(), "module loaded and /usr presented");
        assertTrue(Files.isRegularFile(root.resolve("opt/corezfs/usr/sbin/zfs")));
        assertEquals("overlay\n", Files.readString(root.resolve("etc/corezfs/activation")));
        List<String> calls = host.calls();
        assertTrue(calls.contains("systemctl daemon-reload"), calls::toString);
        assertTrue(calls.contains("systemctl enable --no-reload zfs-overlay.service"), calls::toString);
        assertTrue(
                calls.stream().anyMatch(c -> c.startsWith("systemctl start --no-block") && c.endsWith(" zfs.target")),
                "pools import now and at every boot: " + calls);
        assertTrue(calls.contains("zfs version"), "verified: " + calls);
        assertTrue(calls.contains("modprobe loop"), "a stock module still loads: " + calls);
        assertTrue(calls.indexOf("systemctl enable --no-reload zfs-overlay.service")
                < calls.indexOf("systemctl start zfs-overlay.service"));
    }

    @Test
    void aBootThatRanWithoutZfsGetsItsImportAndMountUnitsStartedByName() throws IOException {
        // The boot reached zfs.target with these skipped (no module then); starting the active target runs nothing.
        host.override(
                "systemctl show -p Wants --value zfs.target zfs-import.target zfs-volumes.target",
                0,
                "zfs-import.target zfs-mount.service zfs-zed.service zfs-volumes.target\n"
                        + "zfs-import-cache.service zfs-import-scan.service\nzfs-volume-wait.service\n"
                        + "some-other.service\n");
        archive(NAME);

        Cli.Run r = corezfs("install", "--mode", "overlay");

        assertEquals(0, r.exitCode(), r::toString);
        List<String> calls = host.calls();
        String imports = "systemctl start zfs-import-cache.service zfs-import-scan.service";
        String rest = "systemctl start --no-block zfs-mount.service zfs-zed.service zfs-volume-wait.service"
                + " zfs-import.target zfs.target";
        assertTrue(calls.contains(imports), "the import is awaited: " + calls);
        assertTrue(calls.contains(rest), calls::toString);
        assertTrue(
                calls.indexOf(imports) < calls.indexOf(rest), "pools are imported before they are mounted: " + calls);
    }

    @Test
    void autoPicksSysextWhereTheHostHasItAndBindsTheExtensionToThisOsVersion() throws IOException {
        host.withSysext();
        archive(NAME);
        Cli.Run r = corezfs("install");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("(sysext mode)"), r::toString);
        assertEquals(Path.of("/opt/corezfs"), Files.readSymbolicLink(root.resolve("var/lib/extensions/corezfs")));
        String release =
                Files.readString(root.resolve("opt/corezfs/usr/lib/extension-release.d/extension-release.corezfs"));
        assertTrue(release.contains("\nID=flatcar\nVERSION_ID=3975.2.0\nARCHITECTURE=x86-64\n"), release);
        assertTrue(
                Files.isRegularFile(root.resolve("etc/systemd/system/corezfs-sysext.service")),
                "an archive without the sysext unit gets the tool's copy");
        assertTrue(host.calls().contains("systemctl disable --no-reload zfs-overlay.service"), host.calls()::toString);
        assertTrue(
                host.calls().contains("systemctl enable --no-reload corezfs-sysext.service"), host.calls()::toString);
        assertFalse(host.overlayMounted(), "one mode at a time");
        assertTrue(host.extensionMerged() && host.moduleLoaded());
    }

    @Test
    void aSysextInstallNeverLinksTheOverlayUnitEvenThoughTheArchivePresetsIt() throws IOException {
        // The links the commit makes are what a host boots with if it loses power before activation ends.
        host.withSysext();
        archive(NAME);
        assertEquals(0, corezfs("install").exitCode());
        InstallState state = InstallState.read(root).orElseThrow();
        assertTrue(
                state.links().stream().noneMatch(l -> l.path().endsWith("/zfs-overlay.service")),
                state.links()::toString);
        try (var links = Files.walk(root.resolve("etc/systemd/system"))) {
            assertTrue(
                    links.noneMatch(
                            p -> p.getFileName().toString().equals("zfs-overlay.service") && Files.isSymbolicLink(p)),
                    "no enablement link for the overlay unit anywhere");
        }
    }

    @Test
    void leftoversOfAnInstallCutShortGoEvenWhenTheRerunIsANoOp() throws IOException {
        archive(NAME);
        assertEquals(0, corezfs("install", "--mode", "overlay").exitCode());
        // What a power cut right after the commit rename leaves: the previous tree aside, the /etc staging area.
        Files.createDirectories(root.resolve("opt/.corezfs-old-deadbeef/usr"));
        Files.createDirectories(root.resolve("etc/.corezfs-stage-deadbeef/.backup"));
        Cli.Run r = corezfs("install");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("unchanged"), r::toString);
        assertFalse(Files.exists(root.resolve("opt/.corezfs-old-deadbeef")), "the old tree is gone");
        assertFalse(Files.exists(root.resolve("etc/.corezfs-stage-deadbeef")), "the staging area is gone");
    }

    @Test
    void uninstallInSysextModeLeavesNoExtensionBehind() throws IOException {
        host.withSysext();
        archive(NAME);
        Map<String, String> before = TreeSnapshot.of(root);
        assertEquals(0, corezfs("install").exitCode());
        Cli.Run r = corezfs("uninstall");
        assertEquals(0, r.exitCode(), r::toString);
        assertFalse(host.extensionMerged() || host.moduleLoaded());
        assertFalse(Files.exists(root.resolve("var/lib/extensions/corezfs"), LinkOption.NOFOLLOW_LINKS));
        Map<String, String> after = TreeSnapshot.of(root);
        after.keySet().removeIf(k -> k.startsWith("var"));
        assertEquals(before, after, "every file and directory corezfs made is gone");
    }

    @Test
    void theSameArchiveAgainIsANoOpAndSaysSo() {
        archive(NAME);
        assertEquals(0, corezfs("install", "--mode", "overlay").exitCode());
        int before = host.calls().size();
        Cli.Run again = corezfs("install");
        assertEquals(0, again.exitCode(), again::toString);
        assertTrue(
                again.out().startsWith("unchanged: " + NAME + " is already installed and active (overlay mode)"),
                again::toString);
        List<String> later = host.calls().subList(before, host.calls().size());
        assertEquals(
                List.of("systemctl is-active zfs-overlay.service"),
                later,
                "a no-op touches nothing and asks systemd one question: every program costs on a slow node");
    }

    @Test
    void activationReloadsTheManagerOnceAfterEveryLinkIsMadeAndBeforeAnythingStarts() {
        host.withSysext();
        archive(NAME);
        assertEquals(0, corezfs("install").exitCode());
        List<String> calls = host.calls();
        assertEquals(
                1,
                calls.stream().filter(c -> c.equals("systemctl daemon-reload")).count(),
                calls::toString);
        assertTrue(
                calls.stream()
                        .filter(c -> c.matches("systemctl (enable|disable) .*"))
                        .allMatch(c -> c.contains(" --no-reload ")),
                "an enable or disable that reloads on its own costs one more full reread of every unit: " + calls);
        int reload = calls.indexOf("systemctl daemon-reload");
        assertTrue(reload > calls.indexOf("systemctl enable --no-reload corezfs-sysext.service"), calls::toString);
        assertTrue(reload < calls.indexOf("systemctl start corezfs-sysext.service"), calls::toString);
    }

    @Test
    void withoutRootNothingIsTouched() {
        archive(NAME);
        host.uid(1000);
        Map<String, String> before = TreeSnapshot.of(tmp);
        Cli.Run r = corezfs("install");
        assertEquals(3, r.exitCode(), r::toString);
        assertEquals("corezfs: live install needs root (run it with sudo); nothing was changed\n", r.err());
        assertEquals(before, TreeSnapshot.of(tmp));
        assertTrue(host.calls().isEmpty());
    }

    @Test
    void withoutSystemdItPointsToRoot() throws IOException {
        archive(NAME);
        Files.delete(root.resolve("run/systemd/system"));
        Cli.Run r = corezfs("install");
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(r.err().contains("systemd is not running") && r.err().contains("--root DIR"), r::toString);
    }

    @Test
    void anArchiveForAnotherKernelIsRefusedAndChangesNothing() {
        TarBuilder.typicalTree().kernel("6.1.0-50-cloud-amd64").writeTo(work.resolve("other.tar.gz"));
        Map<String, String> before = TreeSnapshot.of(tmp);
        Cli.Run r = corezfs("install", "--archive", "other.tar.gz");
        assertEquals(5, r.exitCode(), r::toString);
        assertTrue(
                r.err().contains("built for kernel 6.1.0-50-cloud-amd64 but this host runs " + HostRoots.KERNEL),
                r::toString);
        assertEquals(before, TreeSnapshot.of(tmp));
    }

    @Test
    void aFailedVerificationRollsBackToTheHostAsItWas() {
        archive(NAME);
        Map<String, String> before = TreeSnapshot.of(root);
        host.override("zfs version", 127, "zfs: error while loading shared libraries: libtirpc.so.3");
        Cli.Run r = corezfs("install", "--mode", "overlay");
        assertEquals(8, r.exitCode(), r::toString);
        assertTrue(
                r.err()
                        .contains(
                                "activation failed and was rolled back: `zfs version` failed: zfs: error while loading shared libraries"),
                r::toString);
        assertFalse(host.moduleLoaded(), "module unloaded");
        assertFalse(host.overlayMounted(), "/usr withdrawn");
        assertEquals(before, TreeSnapshot.of(root), "no file of corezfs remains");
    }

    @Test
    void aWrongModuleVersionIsCaught() {
        FakeLiveSystem other = new FakeLiveSystem(root, "2.2.0");
        archive(NAME);
        Cli.Run r = new Cli(work).live(root, other).run("install", "--mode", "overlay");
        assertEquals(8, r.exitCode(), r::toString);
        assertTrue(r.err().contains("does not report userland 2.1.11"), r::toString);
    }

    @Test
    void dryRunPrintsThePlanAndChangesNothing() {
        archive(NAME);
        Map<String, String> before = TreeSnapshot.of(tmp);
        Cli.Run r = corezfs("install", "--dry-run", "--mode", "overlay");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("archive: " + work.resolve(NAME)), r::toString);
        assertTrue(r.out().contains("activate in overlay mode: enable and start zfs-overlay.service"), r::toString);
        assertTrue(r.out().contains("enable from presets"), r::toString);
        assertEquals(before, TreeSnapshot.of(tmp));
        assertTrue(
                host.calls().stream()
                        .noneMatch(c -> c.matches("systemctl (start|stop|enable|disable).*|modprobe.*|umount.*")),
                host.calls()::toString);
    }

    @Test
    void dryRunWithoutAnArchiveSaysItWouldBuild() {
        Cli.Run r = corezfs("install", "--dry-run");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("a real run would build one through Docker"), r::toString);
    }

    @Test
    void noArchiveAndNoBuildFailsClearly() {
        Cli.Run r = corezfs("install", "--no-build");
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(
                r.err().contains("no archive for flatcar 3975.2.0 (amd64-usr) with kernel " + HostRoots.KERNEL),
                r::toString);
    }

    @Test
    void noArchiveAndNoDockerSaysWhatToDo() {
        Cli.Run r = corezfs("install");
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(
                r.err().contains("building one needs Docker") && r.err().contains("Start Docker, or bring an archive"),
                r::toString);
        assertEquals(1, r.err().lines().filter(l -> l.startsWith("corezfs:")).count(), "one error line: " + r);
    }

    @Test
    void archiveDirsComeBeforeTheStoreAndTheCurrentDirectory() throws IOException {
        Path mine = Files.createDirectories(tmp.resolve("mine"));
        TarBuilder.typicalTree().file("etc/zfs/which", "mine\n").writeTo(mine.resolve(NAME));
        Files.createDirectories(work.resolve("archives"));
        TarBuilder.typicalTree()
                .file("etc/zfs/which", "store\n")
                .writeTo(work.resolve("archives").resolve(NAME));
        archive(NAME);
        Cli.Run r = corezfs("install", "--archive-dir", mine.toString(), "--mode", "overlay");
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("mine\n", Files.readString(root.resolve("etc/zfs/which")));
        assertTrue(r.err().contains("in --archive-dir " + mine), r::toString);
    }

    @Test
    void anArchiveForAnotherKernelInADirectoryIsPassedOverWithTheReason() throws IOException {
        Files.createDirectories(work.resolve("archives"));
        TarBuilder.typicalTree()
                .kernel("6.1.0-50-cloud-amd64")
                .writeTo(work.resolve("archives").resolve(NAME));
        Cli.Run r = corezfs("install", "--no-build");
        assertEquals(3, r.exitCode(), r::toString);
        Cli.Run verbose = corezfs("-v", "install", "--no-build");
        assertTrue(
                verbose.err()
                        .contains("passed over " + work.resolve("archives").resolve(NAME)
                                + ": built for kernel 6.1.0-50-cloud-amd64"),
                verbose::toString);
    }

    @Test
    void aMirrorPublishedByCorezfsIsUsedLastAndVerified() throws Exception {
        Path served = Files.createDirectories(tmp.resolve("served"));
        TarBuilder.typicalTree().writeTo(served.resolve(NAME));
        TarBuilder.typicalTree()
                .kernel("6.1.0-50-cloud-amd64")
                .writeTo(served.resolve("corezfs_amd64-usr_3975.2.0_stable_zfs-2.1.12.tar.gz"));
        Files.writeString(served.resolve("corezfs_amd64-usr_3975.2.0_stable_zfs-9.9.9.tar.gz"), "not an archive");
        Cli.Run pub = corezfs("publish", served.toString());
        assertEquals(0, pub.exitCode(), pub::toString);
        assertTrue(pub.out().contains("2 archive(s)"), pub::toString);
        assertTrue(pub.err().contains("left out corezfs_amd64-usr_3975.2.0_stable_zfs-9.9.9.tar.gz"), pub::toString);
        try (StaticHttpServer http = new StaticHttpServer(served)) {
            Cli.Run r = corezfs("install", "--mirror", http.base().toString(), "--no-build", "--mode", "overlay");
            assertEquals(0, r.exitCode(), r::toString);
            assertTrue(
                    r.err()
                            .contains(
                                    "(downloaded from " + http.base().toString().replaceFirst("/$", "") + "/" + NAME),
                    r::toString);
            assertTrue(Files.isRegularFile(work.resolve("archives").resolve(NAME)), "kept in the store for next time");
            assertTrue(host.moduleLoaded());
        }
    }

    @Test
    void aMirrorFileThatDoesNotMatchItsIndexIsRefusedAndNotKept() throws Exception {
        Path served = Files.createDirectories(tmp.resolve("served"));
        TarBuilder.typicalTree().writeTo(served.resolve(NAME));
        assertEquals(0, corezfs("publish", served.toString()).exitCode());
        // Same size as the index says, other bytes: only the sha256 can tell.
        byte[] bytes = Files.readAllBytes(served.resolve(NAME));
        bytes[bytes.length / 2] ^= 1;
        Files.write(served.resolve(NAME), bytes);
        Map<String, String> before = TreeSnapshot.of(root);
        try (StaticHttpServer http = new StaticHttpServer(served)) {
            Cli.Run r = corezfs("install", "--mirror", http.base().toString(), "--no-build");
            assertEquals(5, r.exitCode(), r::toString);
            assertTrue(r.err().contains("does not match the mirror's index"), r::toString);
        }
        assertEquals(before, TreeSnapshot.of(root));
        assertFalse(Files.exists(work.resolve("archives").resolve(NAME)));
    }

    @Test
    void uninstallRefusesWhilePoolsAreImportedUnlessAskedToExport() throws IOException {
        archive(NAME);
        assertEquals(0, corezfs("install", "--mode", "overlay").exitCode());
        host.pool("tank", "ONLINE");
        Cli.Run refused = corezfs("uninstall");
        assertEquals(3, refused.exitCode(), refused::toString);
        assertTrue(
                refused.err().contains("pools are imported (tank); export them first or pass --export"),
                refused::toString);
        assertTrue(host.moduleLoaded() && Files.isDirectory(root.resolve("opt/corezfs")), "nothing changed");

        Cli.Run r = corezfs("uninstall", "--export");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(host.calls().contains("zpool export tank"));
        assertFalse(host.moduleLoaded() || host.overlayMounted());
        assertFalse(Files.exists(root.resolve("opt/corezfs")));
        assertFalse(Files.exists(root.resolve("etc/systemd/system/zfs-overlay.service")));
        assertFalse(Files.exists(
                root.resolve("etc/systemd/system/multi-user.target.wants/zfs-overlay.service"),
                LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(root.resolve("etc/corezfs")));
        assertTrue(
                host.calls().indexOf("modprobe -r zfs")
                        < host.calls().lastIndexOf("systemctl stop zfs-overlay.service corezfs-sysext.service"),
                "the module goes while the index that knows it is still on /usr");
    }

    @Test
    void uninstallOnAHostWithoutCorezfsSaysSoAndTouchesNothing() {
        Map<String, String> before = TreeSnapshot.of(root);
        Cli.Run r = corezfs("uninstall");
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("nothing to uninstall: corezfs is not installed on this host\n", r.out());
        assertEquals(before, TreeSnapshot.of(root));
        assertTrue(
                host.calls().stream().noneMatch(c -> c.matches("systemctl (stop|disable|daemon-reload).*|modprobe.*")),
                host.calls()::toString);
    }

    @Test
    void uninstallThroughASymlinkedUnitDirectoryIsRefusedBeforeAnythingStops() throws IOException {
        host.withSysext();
        archive(NAME);
        assertEquals(0, corezfs("install").exitCode());
        Path units = root.resolve("etc/systemd/system");
        Path outside = tmp.resolve("outside-units");
        Files.move(units, outside);
        Files.createSymbolicLink(units, outside);
        Map<String, String> before = io.corezfs.testing.TreeSnapshot.of(outside);
        Cli.Run r = corezfs("uninstall");
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(r.err().contains(units.toString()), r::toString);
        assertEquals(before, io.corezfs.testing.TreeSnapshot.of(outside), "nothing outside the root was removed");
        assertTrue(host.moduleLoaded() && host.extensionMerged(), "and nothing was stopped");
    }

    @Test
    void uninstallKeepsFilesTheOperatorChanged() throws IOException {
        archive(NAME);
        assertEquals(0, corezfs("install", "--mode", "overlay").exitCode());
        Files.writeString(root.resolve("etc/zfs/zed.rc"), "ZED_EMAIL_ADDR=ops@example.org\n");
        Cli.Run r = corezfs("uninstall");
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("ZED_EMAIL_ADDR=ops@example.org\n", Files.readString(root.resolve("etc/zfs/zed.rc")));
        assertTrue(r.err().contains("kept /etc/zfs/zed.rc: changed locally"), r::toString);
    }

    @Test
    void anUpgradeAppliesNowWhenNoPoolIsImported() throws IOException {
        archive(NAME);
        assertEquals(0, corezfs("install", "--mode", "overlay").exitCode());
        TarBuilder.typicalTree().file("etc/zfs/which", "new\n").writeTo(work.resolve("new.tar.gz"));
        Cli.Run r = corezfs("install", "--archive", "new.tar.gz");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("installed and activated new.tar.gz"), r::toString);
        assertEquals("new\n", Files.readString(root.resolve("etc/zfs/which")));
        assertTrue(host.calls().contains("modprobe -r zfs"), "the old module went first");
        assertTrue(host.moduleLoaded() && host.overlayMounted());
    }

    @Test
    void anUpgradeWhilePoolsAreImportedIsStagedForTheNextBoot() throws IOException {
        archive(NAME);
        assertEquals(0, corezfs("install", "--mode", "overlay").exitCode());
        host.pool("tank", "ONLINE");
        TarBuilder.typicalTree().file("etc/zfs/which", "new\n").writeTo(work.resolve("new.tar.gz"));
        Cli.Run r = corezfs("install", "--archive", "new.tar.gz");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("staged new.tar.gz for the next boot: pools are imported (tank)"), r::toString);
        assertFalse(Files.exists(root.resolve("etc/zfs/which")), "the running ZFS is untouched");
        assertTrue(Files.isRegularFile(root.resolve("var/lib/corezfs/pending/new.tar.gz")));
        String unit = Files.readString(root.resolve("etc/systemd/system/corezfs-pending.service"));
        assertTrue(
                unit.contains(
                        "\"/opt/corezfs-tool/bin/corezfs\" install --at-boot --archive \"/var/lib/corezfs/pending/new.tar.gz\""),
                unit);
        assertTrue(unit.contains("Before=zfs-overlay.service corezfs-sysext.service"), unit);
        assertTrue(host.calls().contains("systemctl enable --no-reload corezfs-pending.service"));
        assertTrue(host.calls().stream().noneMatch(c -> c.equals("modprobe -r zfs")), host.calls()::toString);
    }

    @Test
    void theBootHalfOfAStagedUpgradeSwapsTheFilesOnly() throws IOException {
        archive(NAME);
        assertEquals(0, corezfs("install", "--mode", "overlay").exitCode());
        host.crashAndReboot();
        int before = host.calls().size();
        TarBuilder.typicalTree().file("etc/zfs/which", "new\n").writeTo(work.resolve("new.tar.gz"));
        Cli.Run r = corezfs("install", "--at-boot", "--archive", "new.tar.gz");
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("new\n", Files.readString(root.resolve("etc/zfs/which")));
        assertTrue(
                host.calls().subList(before, host.calls().size()).stream().noneMatch(c -> c.startsWith("systemctl")),
                "at boot nothing is started from inside a unit");
    }

    @Test
    void theBootHalfOfAStagedUpgradeDoesNotDependOnTheNodeConfiguration() throws IOException {
        archive(NAME);
        assertEquals(0, corezfs("install", "--mode", "overlay").exitCode());
        host.crashAndReboot();
        Files.createDirectories(root.resolve("etc/corezfs"));
        Files.writeString(root.resolve("etc/corezfs/corezfs.conf"), "BUILD=sometimes\n");
        TarBuilder.typicalTree().file("etc/zfs/which", "new\n").writeTo(work.resolve("new.tar.gz"));
        Cli.Run r = corezfs("install", "--at-boot", "--archive", "new.tar.gz");
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("new\n", Files.readString(root.resolve("etc/zfs/which")));
    }

    @Test
    void aRunKilledAfterTheFilesWentInConvergesOnTheNextRun() {
        archive(NAME);
        // As if kill -9 hit right after the file commit: files in place, units enabled, nothing activated.
        new RootInstaller(
                        new io.corezfs.archive.ArchiveReader(io.corezfs.archive.ArchiveLimits.DEFAULT),
                        FileOps.DEFAULT,
                        io.corezfs.Reporter.SILENT,
                        java.time.Clock.systemUTC(),
                        "t")
                .install(
                        work.resolve(NAME),
                        root,
                        io.corezfs.host.HostDetector.class.isInstance(null)
                                ? null
                                : new io.corezfs.host.HostDetector(io.corezfs.host.Environment.of(
                                                Map.of(), "x86_64", java.time.Clock.systemUTC()))
                                        .detect(new io.corezfs.host.RootFs(root), java.util.Optional.empty()),
                        false);
        Cli.Run r = corezfs("install", "--mode", "overlay");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("installed and activated"), "not mistaken for a no-op: " + r);
        assertTrue(host.moduleLoaded() && host.overlayMounted());
    }

    @Test
    void statusReportsTheLiveState() throws IOException {
        archive(NAME);
        assertEquals(0, corezfs("install", "--mode", "overlay").exitCode());
        host.pool("tank", "ONLINE");
        Cli.Run r = corezfs("status", "--json");
        assertEquals(0, r.exitCode(), r::toString);
        JsonNode live = new ObjectMapper().readTree(r.out()).get("live");
        assertEquals("overlay", live.get("mode").asText());
        assertTrue(live.get("active").asBoolean() && live.get("moduleLoaded").asBoolean());
        assertEquals("2.1.11-1", live.get("kmodVersion").asText());
        assertEquals("2.1.11-1", live.get("zfsVersion").asText());
        assertEquals("tank", live.get("pools").get(0).get("name").asText());
        assertEquals("ONLINE", live.get("pools").get(0).get("health").asText());

        Cli.Run human = corezfs("status");
        assertTrue(human.out().contains("Mode:      overlay (zfs-overlay.service active)"), human::toString);
        assertTrue(human.out().contains("Pools:     tank ONLINE"), human::toString);
    }
}
