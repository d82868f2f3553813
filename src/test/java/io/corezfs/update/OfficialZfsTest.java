package io.corezfs.update;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.corezfs.testing.Cli;
import io.corezfs.testing.FakeLiveSystem;
import io.corezfs.testing.HostRoots;
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
 * A node that also enables Flatcar's own zfs extension would stack two ZFS builds: {@code install}, {@code status}
 * and {@code boot} each refuse with exit 3 and say what to remove.
 */
class OfficialZfsTest {
    static final String NAME =
            "corezfs_amd64-usr_" + io.corezfs.testing.HostRoots.FLATCAR_VERSION + "_stable_zfs-2.1.11.tar.gz";

    @TempDir
    Path tmp;

    Path root;
    Path work;
    FakeLiveSystem host;

    @BeforeEach
    void aNode() throws IOException {
        aNode("node");
    }

    void aNode(String name) throws IOException {
        root = HostRoots.flatcar(tmp.resolve(name).resolve("root")).root();
        host = new FakeLiveSystem(root, "2.1.11");
        work = Files.createDirectories(tmp.resolve(name).resolve("work"));
        TarBuilder.typicalTree().writeTo(work.resolve(NAME));
    }

    private Cli.Run corezfs(String... args) {
        return new Cli(work).live(root, host).run(args);
    }

    private void enable(String how) throws IOException {
        if (how.equals("conf")) {
            HostRoots.at(root).file("/etc/flatcar/enabled-sysext.conf", "# official extensions\npodman\n zfs \n");
        } else {
            Files.createDirectories(root.resolve("etc/extensions"));
            // A link whose target arrives with the extension: dangling counts.
            Files.createSymbolicLink(
                    root.resolve("etc/extensions/flatcar-zfs.raw"), Path.of("/usr/share/flatcar/sysext/x.raw"));
        }
    }

    @Test
    void installRefusesAndChangesNothing() throws IOException {
        for (String how : List.of("conf", "link")) {
            aNode(how);
            enable(how);
            Map<String, String> before = TreeSnapshot.of(root);
            Cli.Run r = corezfs("install", "--mode", "overlay");
            assertEquals(3, r.exitCode(), how + ": " + r);
            assertTrue(r.err().contains("Flatcar's own zfs extension is enabled"), r::toString);
            assertEquals(1, r.err().strip().lines().count(), r::toString);
            assertEquals(before, TreeSnapshot.of(root));
            assertFalse(host.moduleLoaded());
        }
    }

    @Test
    void anotherExtensionOrACommentedOutZfsIsNotTheOfficialZfs() throws IOException {
        HostRoots.at(root).file("/etc/flatcar/enabled-sysext.conf", "podman\n# zfs\nzfs-tools\n");
        Cli.Run r = corezfs("install", "--mode", "overlay");
        assertEquals(0, r.exitCode(), r::toString);
    }

    @Test
    void statusShowsTheHostThenRefuses() throws IOException {
        enable("conf");
        Cli.Run r = corezfs("status", "--json");
        assertEquals(3, r.exitCode(), r::toString);
        var json = new ObjectMapper().readTree(r.out());
        assertTrue(json.get("officialZfsExtension").asText().contains("lists zfs"), r::toString);
        assertTrue(r.err().contains("remove zfs from /etc/flatcar/enabled-sysext.conf"), r::toString);
    }

    @Test
    void theBootUnitLeavesZfsAloneAndRecordsWhy() throws IOException {
        assertEquals(0, corezfs("install", "--mode", "overlay").exitCode());
        enable("link");
        host.crashAndReboot();
        Map<String, String> before = TreeSnapshot.of(root.resolve("opt"));
        Cli.Run r = corezfs("boot");
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("corezfs boot: refused: Flatcar's own zfs extension"), r::toString);
        assertEquals(before, TreeSnapshot.of(root.resolve("opt")));
        Cli.Run late = corezfs("boot", "--late");
        assertEquals(3, late.exitCode(), late::toString);
    }
}
