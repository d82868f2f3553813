package io.corezfs.update;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corezfs.install.InstallState;
import io.corezfs.testing.Cli;
import io.corezfs.testing.FakeLiveSystem;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.TarBuilder;
import io.corezfs.testing.TreeSnapshot;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code corezfs boot} (corezfs-boot.service) after an OS update, a rollback, or a kernel swap, on a miniature
 * running Flatcar node: it makes the installed ZFS match the running kernel and OS version, or leaves ZFS off and
 * says why. The real reboots run in the VM.
 */
class BootReconcileTest {
    static final String OLD_VERSION = HostRoots.FLATCAR_VERSION;
    static final String OLD_KERNEL = HostRoots.KERNEL;
    static final String NEW_VERSION = "3975.3.0";
    static final String NEW_KERNEL = "6.12.95+deb12-cloud-amd64";
    static final String OLD_NAME = "corezfs_amd64-usr_" + OLD_VERSION + "_stable_zfs-2.1.11.tar.gz";
    static final String NEW_NAME = "corezfs_amd64-usr_" + NEW_VERSION + "_stable_zfs-2.3.2.tar.gz";

    @TempDir
    Path tmp;

    Path root;
    Path work;
    Path store;
    FakeLiveSystem host;

    @BeforeEach
    void aNodeRunningZfsForItsKernel() throws IOException {
        root = HostRoots.flatcar(tmp.resolve("root")).root();
        host = new FakeLiveSystem(root, "2.1.11");
        work = Files.createDirectories(tmp.resolve("work"));
        store = root.resolve("var/lib/corezfs/archives");
        TarBuilder.typicalTree().writeTo(work.resolve(OLD_NAME));
        Cli.Run r = corezfs("install", "--mode", "overlay");
        assertEquals(0, r.exitCode(), r::toString);
    }

    private Cli.Run corezfs(String... args) {
        return new Cli(work).live(root, host).run(args);
    }

    /** What a reboot into another /usr partition brings: its release files and its kernel. */
    private void rebootInto(String version, String kernel) throws IOException {
        for (String f : List.of("usr/share/flatcar/release", "usr/lib/os-release")) {
            Path p = root.resolve(f);
            String text = Files.readString(p).replaceAll("[0-9]+\\.[0-9]+\\.[0-9]+", version);
            Files.writeString(p, text);
        }
        HostRoots.at(root)
                .kernel(kernel)
                .file("/usr/lib/modules/" + kernel + "/modules.dep", "kernel/drivers/block/loop.ko:\n");
        host.crashAndReboot();
    }

    private Path newVersionArchive() {
        return TarBuilder.typicalTree()
                .osVersion(NEW_VERSION)
                .kernel(NEW_KERNEL)
                .zfs("2.3.2")
                .file("etc/zfs/which", "new\n")
                .writeTo(work.resolve("next").resolve(NEW_NAME));
    }

    private void inStore(Path archive) throws IOException {
        Files.createDirectories(store);
        Files.copy(archive, store.resolve(archive.getFileName()));
    }

    private String installedKernel() {
        return InstallState.read(root).orElseThrow().manifest().kernel();
    }

    private JsonNode statusJson() throws IOException {
        Cli.Run s = corezfs("status", "--json");
        assertEquals(0, s.exitCode(), s::toString);
        return new ObjectMapper().readTree(s.out());
    }

    @Test
    void whenTheInstalledArchiveMatchesThereIsNothingToDo() throws IOException {
        host.crashAndReboot();
        Map<String, String> before = TreeSnapshot.of(root.resolve("opt"));
        int calls = host.calls().size();
        Cli.Run r = corezfs("boot");
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(1, r.out().lines().count(), r::toString);
        assertTrue(r.out().startsWith("corezfs boot: matched: " + OLD_NAME), r::toString);
        assertEquals(before, TreeSnapshot.of(root.resolve("opt")));
        assertEquals(List.of(), host.calls().subList(calls, host.calls().size()), "asks the host nothing");
        assertEquals("matched", statusJson().get("boot").get("outcome").asText());
    }

    @Test
    void theArchivePreparedBeforeTheUpdateIsAppliedBeforeAnythingActivates() throws IOException {
        inStore(newVersionArchive());
        rebootInto(NEW_VERSION, NEW_KERNEL);
        int calls = host.calls().size();
        Cli.Run r = corezfs("boot");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(
                r.out().startsWith("corezfs boot: applied: applied " + NEW_NAME + " from the node store"), r::toString);
        assertEquals(NEW_KERNEL, installedKernel());
        assertEquals("new\n", Files.readString(root.resolve("etc/zfs/which")));
        assertFalse(host.moduleLoaded(), "files only: the activation units load the module after this unit");
        assertTrue(
                host.calls().subList(calls, host.calls().size()).stream().noneMatch(c -> c.startsWith("modprobe")),
                host.calls()::toString);
        JsonNode boot = statusJson().get("boot");
        assertEquals("applied", boot.get("outcome").asText());
        assertFalse(boot.get("zfsOff").asBoolean());
    }

    @Test
    void aRollbackToThePreviousVersionGetsItsZfsBackFromTheStore() throws IOException {
        assertTrue(Files.isRegularFile(store.resolve(OLD_NAME)), "the live install keeps its archive in the store");
        inStore(newVersionArchive());
        rebootInto(NEW_VERSION, NEW_KERNEL);
        assertEquals(0, corezfs("boot").exitCode());
        assertEquals(NEW_KERNEL, installedKernel());

        rebootInto(OLD_VERSION, OLD_KERNEL);
        Cli.Run r = corezfs("boot");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("applied " + OLD_NAME + " from the node store"), r::toString);
        assertEquals(OLD_KERNEL, installedKernel());
        assertTrue(Files.isRegularFile(store.resolve(NEW_NAME)), "nothing is pruned at boot: the other version stays");
    }

    @Test
    void anArchiveForAnotherKernelIsNeverAppliedZfsStaysOffAndStatusSaysWhy() throws IOException {
        // Right OS version, wrong kernel: the name says it fits, only the manifest can tell.
        Path wrong = TarBuilder.typicalTree()
                .osVersion(NEW_VERSION)
                .kernel("6.12.94+deb12-cloud-amd64")
                .zfs("2.3.2")
                .writeTo(work.resolve("wrong").resolve(NEW_NAME));
        inStore(wrong);
        host.withSysext();
        rebootInto(NEW_VERSION, NEW_KERNEL);
        Map<String, String> before = TreeSnapshot.of(root.resolve("opt"));
        Cli.Run r = corezfs("boot");
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("corezfs boot: off: no usable archive for flatcar " + NEW_VERSION), r::toString);
        assertTrue(r.out().contains("to get ZFS back, run: sudo corezfs install"), r::toString);
        assertEquals(before, TreeSnapshot.of(root.resolve("opt")), "the installed tree is untouched");
        assertEquals(OLD_KERNEL, installedKernel());
        assertFalse(host.moduleLoaded());
        assertTrue(host.calls().stream().noneMatch(c -> c.startsWith("modprobe zfs")), host.calls()::toString);

        JsonNode boot = statusJson().get("boot");
        assertEquals("off", boot.get("outcome").asText());
        assertTrue(boot.get("zfsOff").asBoolean());
        assertTrue(boot.get("detail").asText().contains("kernel " + NEW_KERNEL), boot::toString);
        assertEquals("sudo corezfs install", boot.get("command").asText());
        Cli.Run human = corezfs("status");
        assertTrue(
                human.out().contains("Boot:      off: no usable archive for flatcar " + NEW_VERSION), human::toString);
        assertTrue(human.out().contains("to get ZFS back, run: sudo corezfs install"), human::toString);
    }

    @Test
    void inSysextModeTheExtensionIsWithdrawnWhenNothingMatches() throws IOException {
        host.withSysext();
        assertEquals(0, corezfs("uninstall").exitCode());
        assertEquals(0, corezfs("install", "--mode", "sysext").exitCode());
        assertTrue(Files.isSymbolicLink(root.resolve("var/lib/extensions/corezfs")));
        rebootInto(OLD_VERSION, NEW_KERNEL);
        assertEquals(3, corezfs("boot").exitCode());
        assertFalse(
                Files.exists(root.resolve("var/lib/extensions/corezfs"), java.nio.file.LinkOption.NOFOLLOW_LINKS),
                "systemd-sysext.service must not merge a tree whose module is for another kernel");
    }

    @Test
    void aFileMirrorServesTheArchiveWhichIsVerifiedKeptAndApplied() throws IOException {
        Path served = newVersionArchive().getParent();
        assertEquals(0, corezfs("publish", served.toString()).exitCode());
        HostRoots.at(root).file("/etc/corezfs/corezfs.conf", "MIRRORS=" + served.toUri() + "\n");
        rebootInto(NEW_VERSION, NEW_KERNEL);
        Cli.Run r = corezfs("boot");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("corezfs boot: fetched: fetched " + NEW_NAME + " from file:"), r::toString);
        assertTrue(Files.isRegularFile(store.resolve(NEW_NAME)), "kept in the node store for the next boot");
        assertEquals(NEW_KERNEL, installedKernel());
        assertFalse(Files.exists(root.resolve(BootReconciler.INCOMING)), "nothing left half-way");
    }

    @Test
    void aMirrorArchiveThatDoesNotMatchItsIndexIsRefusedAndNotKept() throws IOException {
        Path archive = newVersionArchive();
        Path served = archive.getParent();
        assertEquals(0, corezfs("publish", served.toString()).exitCode());
        byte[] bytes = Files.readAllBytes(archive);
        bytes[bytes.length / 2] ^= 1;
        Files.write(archive, bytes);
        HostRoots.at(root).file("/etc/corezfs/corezfs.conf", "MIRRORS=" + served.toUri() + "\n");
        rebootInto(NEW_VERSION, NEW_KERNEL);
        Cli.Run r = corezfs("boot");
        assertEquals(5, r.exitCode(), r::toString);
        assertTrue(r.out().contains("does not match the mirror's index"), r::toString);
        assertFalse(Files.exists(store.resolve(NEW_NAME)));
        assertEquals(OLD_KERNEL, installedKernel());
    }

    @Test
    void aNetworkMirrorIsLeftToTheLateUnitWhichWaitsOnlyUpToTheTimeoutThenZfsStaysOff() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        HostRoots.at(root)
                .file(
                        "/etc/corezfs/corezfs.conf",
                        "MIRRORS=http://127.0.0.1:" + port + "/corezfs/\nBOOT_FETCH_TIMEOUT=1\n");
        rebootInto(NEW_VERSION, NEW_KERNEL);

        // Early: the network is not up yet, so the mirror is not asked; the late unit is started instead.
        Cli.Run early = corezfs("boot");
        assertEquals(0, early.exitCode(), early::toString);
        assertTrue(
                host.calls().contains("systemctl start --no-block " + BootReconciler.LATE_UNIT),
                "started, not waited for: " + host.calls());
        assertTrue(early.out().startsWith("corezfs boot: waiting: "), early::toString);
        assertEquals("waiting", statusJson().get("boot").get("outcome").asText());

        // Late: the mirror is asked within the budget, then ZFS stays off and the record says why.
        Cli.Run late = corezfs("boot", "--late");
        assertEquals(3, late.exitCode(), late::toString);
        assertTrue(
                late.err().contains("gave up on 1 unreachable mirror(s) after 1s (BOOT_FETCH_TIMEOUT)"),
                late::toString);
        assertTrue(late.out().contains("mirror(s) unreachable within BOOT_FETCH_TIMEOUT=1s"), late::toString);
        assertEquals(OLD_KERNEL, installedKernel());
        assertEquals("off", statusJson().get("boot").get("outcome").asText());
    }

    @Test
    void theLateUnitFetchesFromANetworkMirrorAndActivatesAtOnce() throws IOException {
        Path served = newVersionArchive().getParent();
        assertEquals(0, corezfs("publish", served.toString()).exitCode());
        try (io.corezfs.testing.StaticHttpServer http = new io.corezfs.testing.StaticHttpServer(served)) {
            HostRoots.at(root).file("/etc/corezfs/corezfs.conf", "MIRRORS=" + http.base() + "/\n");
            rebootInto(NEW_VERSION, NEW_KERNEL);
            host.kmod("2.3.2");

            Cli.Run late = corezfs("boot", "--late");

            assertEquals(0, late.exitCode(), late::toString);
            assertTrue(late.out().startsWith("corezfs boot: fetched: "), late::toString);
            assertEquals(NEW_KERNEL, installedKernel());
            assertTrue(Files.exists(store.resolve(NEW_NAME)));
        }
    }

    @Test
    void withATimeoutOfZeroTheNetworkMirrorsAreNotAskedAtBoot() throws IOException {
        HostRoots.at(root).file("/etc/corezfs/corezfs.conf", "MIRRORS=http://127.0.0.1:9/x/\nBOOT_FETCH_TIMEOUT=0\n");
        rebootInto(NEW_VERSION, NEW_KERNEL);
        Cli.Run r = corezfs("boot");
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(r.err().contains("BOOT_FETCH_TIMEOUT=0: the network mirrors are not asked at boot"), r::toString);
        assertFalse(host.calls().contains("systemctl start --no-block " + BootReconciler.LATE_UNIT));
        assertFalse(Files.exists(store.resolve(NEW_NAME)));
    }

    @Test
    void withBuildAtBootABuildStartsInItsOwnUnitAndTheLogSaysPoolsImportWhenItEnds() throws IOException {
        HostRoots.at(root).file("/etc/corezfs/corezfs.conf", "BUILD=boot\n");
        rebootInto(NEW_VERSION, NEW_KERNEL);
        Cli.Run r = corezfs("boot");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(
                host.calls().contains("systemctl start --no-block " + BootReconciler.LATE_UNIT),
                "started, not waited for: " + host.calls());
        assertTrue(
                r.err().contains("an archive is built (BUILD=boot); ZFS stays off until then, and the pools import"),
                r::toString);
        assertTrue(r.out().startsWith("corezfs boot: building: "), r::toString);
        assertEquals(OLD_KERNEL, installedKernel(), "nothing for another kernel was applied meanwhile");
        JsonNode boot = statusJson().get("boot");
        assertEquals("building", boot.get("outcome").asText());
        assertEquals(
                "journalctl -u " + BootReconciler.LATE_UNIT + " -f",
                boot.get("command").asText());
    }

    @Test
    void aTamperedArchiveInTheStoreIsRefusedAndNothingChanges() throws IOException {
        Path tampered = TarBuilder.typicalTree()
                .osVersion(NEW_VERSION)
                .kernel(NEW_KERNEL)
                .zfs("2.3.2")
                .fileWithWrongHash("opt/corezfs/usr/sbin/zpool", "#!/bin/sh\necho evil\n")
                .writeTo(work.resolve("bad").resolve(NEW_NAME));
        inStore(tampered);
        rebootInto(NEW_VERSION, NEW_KERNEL);
        Map<String, String> before = TreeSnapshot.of(root.resolve("opt"));
        Map<String, String> etc = TreeSnapshot.of(root.resolve("etc"));
        Cli.Run r = corezfs("boot");
        assertEquals(5, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("corezfs boot: refused: "), r::toString);
        assertTrue(r.out().contains("refused " + NEW_NAME + " from the node store"), r::toString);
        assertEquals(before, TreeSnapshot.of(root.resolve("opt")));
        assertEquals(etc, TreeSnapshot.of(root.resolve("etc")));
        assertEquals("refused", statusJson().get("boot").get("outcome").asText());
    }

    @Test
    void aTamperedBootRecordIsRefusedByStatusInOneLine() throws IOException {
        for (String bad : List.of(
                "{\"outcome\":\"fine\",\"detail\":\"x\",\"command\":\"\",\"kernel\":\"k\",\"osVersion\":\"v\",\"at\":\"t\"}",
                "{\"outcome\":\"off\",\"detail\":\"\\u001b[2Jall good\",\"command\":\"\",\"kernel\":\"k\","
                        + "\"osVersion\":\"v\",\"at\":\"t\"}",
                "{\"outcome\":\"off\",\"detail\":\"x\"}",
                "{\"outcome\":\"off\",\"detail\":\"x\",\"command\":\"\",\"kernel\":\"k\",\"osVersion\":\"v\","
                        + "\"at\":\"t\",\"extra\":1}",
                "not json")) {
            HostRoots.at(root).file("/run/corezfs/boot.json", bad);
            Cli.Run r = corezfs("status");
            assertEquals(4, r.exitCode(), bad + "\n" + r);
            assertEquals(1, r.err().lines().count(), r::toString);
            assertTrue(r.err().contains("invalid boot record, refusing to show it"), r::toString);
            assertFalse(r.err().contains("\u001b"), r::toString);
        }
        Files.delete(root.resolve("run/corezfs/boot.json"));
        HostRoots.at(root).symlink("/run/corezfs/boot.json", "../../etc/os-release");
        Cli.Run r = corezfs("status", "--json");
        assertEquals(4, r.exitCode(), r::toString);
        assertTrue(r.err().contains("not a regular file"), r::toString);
    }

    @Test
    void whenOnlyTheOsVersionMovedTheOverlayKeepsTheZfsBuiltForThisKernel() throws IOException {
        rebootInto(NEW_VERSION, OLD_KERNEL);
        Cli.Run r = corezfs("boot");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("corezfs boot: kept: no usable archive for flatcar " + NEW_VERSION), r::toString);
        JsonNode boot = statusJson().get("boot");
        assertEquals("kept", boot.get("outcome").asText());
        assertFalse(boot.get("zfsOff").asBoolean());
    }

    @Test
    void whenOnlyTheOsVersionMovedASysextIsOffBecauseItIsBoundToItsVersion() throws IOException {
        host.withSysext();
        assertEquals(0, corezfs("uninstall").exitCode());
        assertEquals(0, corezfs("install", "--mode", "sysext").exitCode());
        rebootInto(NEW_VERSION, OLD_KERNEL);
        Cli.Run r = corezfs("boot");
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("corezfs boot: off: "), r::toString);
    }

    @Test
    void afterAManualInstallStatusSaysTheBootsProblemIsResolved() throws IOException {
        rebootInto(NEW_VERSION, NEW_KERNEL);
        assertEquals(3, corezfs("boot").exitCode());
        String name = "corezfs_amd64-usr_" + NEW_VERSION + "_stable_zfs-2.1.11.tar.gz";
        TarBuilder.typicalTree().osVersion(NEW_VERSION).kernel(NEW_KERNEL).writeTo(work.resolve(name));
        Cli.Run i = corezfs("install", "--no-build");
        assertEquals(0, i.exitCode(), i::toString);
        JsonNode boot = statusJson().get("boot");
        assertEquals("off", boot.get("outcome").asText());
        assertTrue(boot.get("resolved").asBoolean(), boot::toString);
        Cli.Run human = corezfs("status");
        assertTrue(human.out().contains("since resolved: " + name + " is installed for this kernel"), human::toString);
        assertFalse(human.out().contains("to get ZFS back"), human::toString);
    }

    @Test
    void anInstallStateThatCannotBeTrustedIsRecordedAndNothingIsApplied() throws IOException {
        inStore(newVersionArchive());
        rebootInto(NEW_VERSION, NEW_KERNEL);
        Path state = root.resolve("opt/corezfs/.corezfs/state.json");
        Files.writeString(state, "{\"archive\": \"x\"}");
        Map<String, String> before = TreeSnapshot.of(root.resolve("opt"));
        Cli.Run r = corezfs("boot");
        assertEquals(4, r.exitCode(), r::toString);
        assertEquals(1, r.err().lines().count(), r::toString);
        assertTrue(r.err().contains("invalid install state"), r::toString);
        assertEquals(before, TreeSnapshot.of(root.resolve("opt")));
        BootRecord rec = BootRecord.read(root).orElseThrow();
        assertEquals("refused", rec.outcome());
        assertTrue(rec.detail().contains("invalid install state"), rec::toString);
    }

    @Test
    void withoutABootRecordStatusHasNoBootSection() throws IOException {
        assertNull(statusJson().get("boot").textValue());
        assertTrue(statusJson().get("boot").isNull());
    }
}
