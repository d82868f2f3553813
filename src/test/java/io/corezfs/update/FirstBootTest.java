package io.corezfs.update;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corezfs.install.InstallState;
import io.corezfs.testing.Cli;
import io.corezfs.testing.FakeLiveSystem;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.StaticHttpServer;
import io.corezfs.testing.TarBuilder;
import io.corezfs.testing.TreeSnapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The first boot of a node provisioned by {@code corezfs provision}: corezfs is not installed, but the node store
 * holds the archive its config delivered, or its config names a mirror. {@code corezfs boot} hands the install to the
 * late unit, which installs and activates it. A node with nothing of the kind is left alone, as before.
 */
class FirstBootTest {
    static final String NAME = "corezfs_amd64-usr_" + HostRoots.FLATCAR_VERSION + "_stable_zfs-2.1.11.tar.gz";

    @TempDir
    Path tmp;

    Path root;
    Path work;
    Path store;
    FakeLiveSystem host;

    @BeforeEach
    void aFreshNode() throws IOException {
        root = HostRoots.flatcar(tmp.resolve("root")).root();
        host = new FakeLiveSystem(root, "2.1.11");
        work = Files.createDirectories(tmp.resolve("work"));
        store = root.resolve("var/lib/corezfs/archives");
    }

    private Cli.Run corezfs(String... args) {
        return new Cli(work).live(root, host).run(args);
    }

    private JsonNode boot() throws IOException {
        Cli.Run s = corezfs("status", "--json");
        assertEquals(0, s.exitCode(), s::toString);
        return new ObjectMapper().readTree(s.out()).get("boot");
    }

    private void delivered(Path archive) throws IOException {
        Files.createDirectories(store);
        Files.copy(archive, store.resolve(archive.getFileName()));
    }

    @Test
    void anArchiveDeliveredWithTheConfigIsInstalledAndActivatedByTheLateUnit() throws IOException {
        delivered(TarBuilder.typicalTree().writeTo(work.resolve("in").resolve(NAME)));
        HostRoots.at(root).file("/etc/corezfs/corezfs.conf", "MODE=overlay\nBUILD=never\n");

        Cli.Run early = corezfs("boot");
        assertEquals(0, early.exitCode(), early::toString);
        assertTrue(early.out().startsWith("corezfs boot: installing: "), early::toString);
        assertTrue(early.out().contains("installs " + NAME + " from the node store"), early::toString);
        assertTrue(
                host.calls().contains("systemctl start --no-block " + BootReconciler.LATE_UNIT),
                host.calls()::toString);
        assertTrue(InstallState.read(root).isEmpty(), "nothing is installed this early");
        assertTrue(boot().get("zfsOff").asBoolean());

        Cli.Run late = corezfs("boot", "--late");
        assertEquals(0, late.exitCode(), late::toString);
        assertTrue(late.out().startsWith("corezfs boot: applied: installed " + NAME), late::toString);
        assertEquals(NAME, InstallState.read(root).orElseThrow().archive());
        assertTrue(host.moduleLoaded(), "activated at once");
        assertTrue(host.overlayMounted(), "in the MODE the config names");
        assertEquals("applied", boot().get("outcome").asText());
        assertFalse(boot().get("zfsOff").asBoolean());

        host.crashAndReboot();
        Cli.Run next = corezfs("boot");
        assertEquals(0, next.exitCode(), next::toString);
        assertTrue(next.out().startsWith("corezfs boot: matched: "), "later boots find it installed: " + next);
    }

    @Test
    void withOnlyAMirrorTheLateUnitFetchesInstallsAndActivates() throws IOException {
        Path served = TarBuilder.typicalTree()
                .writeTo(work.resolve("mirror").resolve(NAME))
                .getParent();
        assertEquals(0, corezfs("publish", served.toString()).exitCode());
        try (StaticHttpServer http = new StaticHttpServer(served)) {
            HostRoots.at(root).file("/etc/corezfs/corezfs.conf", "MIRRORS=" + http.base() + "/\n");
            Cli.Run early = corezfs("boot");
            assertEquals(0, early.exitCode(), early::toString);
            assertTrue(early.out().contains("fetches an archive"), early::toString);
            Cli.Run late = corezfs("boot", "--late");
            assertEquals(0, late.exitCode(), late::toString);
            assertTrue(late.out().startsWith("corezfs boot: fetched: "), late::toString);
            assertTrue(Files.exists(store.resolve(NAME)), "kept in the node store for rollbacks");
            assertTrue(host.moduleLoaded());
        }
    }

    @Test
    void aTamperedDeliveredArchiveIsRefusedAndNothingIsInstalled() throws IOException {
        delivered(TarBuilder.typicalTree()
                .fileWithWrongHash("opt/corezfs/usr/sbin/zpool", "#!/bin/sh\necho evil\n")
                .writeTo(work.resolve("bad").resolve(NAME)));
        HostRoots.at(root).file("/etc/corezfs/corezfs.conf", "BUILD=never\n");
        assertEquals(0, corezfs("boot").exitCode());
        Map<String, String> etc = TreeSnapshot.of(root.resolve("etc"));
        Cli.Run late = corezfs("boot", "--late");
        assertEquals(5, late.exitCode(), late::toString);
        assertTrue(late.out().contains("refused " + NAME + " from the node store"), late::toString);
        assertFalse(Files.exists(root.resolve("opt/corezfs")));
        assertEquals(etc, TreeSnapshot.of(root.resolve("etc")));
        assertFalse(host.moduleLoaded());
        assertEquals("refused", boot().get("outcome").asText());
    }

    @Test
    void aNodeNeverProvisionedIsLeftAlone() throws IOException {
        Cli.Run r = corezfs("boot");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("corezfs boot: not-installed: "), r::toString);
        assertEquals(
                List.of(),
                host.calls().stream()
                        .filter(c -> c.startsWith("systemctl start"))
                        .toList());
        Cli.Run late = corezfs("boot", "--late");
        assertEquals(0, late.exitCode(), late::toString);
        assertTrue(late.out().startsWith("corezfs boot: not-installed: "), late::toString);
    }
}
