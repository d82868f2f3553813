package io.corezfs.archive.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.host.HostFacts;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.TarBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node's store: atomic adds under the manifest's name, lookups by the manifest, and retention that keeps what a rollback needs. */
class NodeStoreTest {
    @TempDir
    Path tmp;

    private Path archive(String osVersion, String zfs) throws IOException {
        Path p = tmp.resolve("in-" + osVersion + "-" + zfs + ".tar.gz");
        TarBuilder.typicalTree()
                .osVersion(osVersion)
                .kernel("k-" + osVersion)
                .zfs(zfs)
                .writeTo(p);
        return p;
    }

    private static String name(String osVersion, String zfs) {
        return "corezfs_amd64-usr_" + osVersion + "_stable_zfs-" + zfs + ".tar.gz";
    }

    private List<String> names(NodeStore s) throws IOException {
        try (Stream<Path> l = Files.list(s.dir())) {
            return l.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void addsUnderTheManifestsNameAndFindsByTheManifest() throws IOException {
        NodeStore s = new NodeStore(tmp.resolve("root"));
        Path added = s.add(archive("9999.1.0", "2.3.2"));
        assertEquals(tmp.resolve("root/var/lib/corezfs/archives").resolve(name("9999.1.0", "2.3.2")), added);
        assertEquals(List.of(name("9999.1.0", "2.3.2")), names(s), "no temporary file left");
        assertEquals(added, s.add(archive("9999.1.0", "2.3.2")), "adding the same archive again is a no-op");
        HostFacts next = new HostFacts("flatcar", "9999.1.0", "amd64-usr", "stable", "stable", "k-9999.1.0", "x86_64");
        assertEquals(added, s.find(next).orElseThrow());
        assertTrue(
                s.find(new HostFacts("flatcar", "9999.1.0", "amd64-usr", "stable", "stable", "other", "x86_64"))
                        .isEmpty(),
                "the kernel must match");
        assertEquals(added, s.findVersion("flatcar", "9999.1.0", "amd64-usr").orElseThrow());
        assertTrue(s.findVersion("flatcar", "9999.2.0", "amd64-usr").isEmpty());
    }

    @Test
    void aBrokenArchiveIsRefusedBeforeAnythingIsWritten() throws IOException {
        Path bad = tmp.resolve("bad.tar.gz");
        Files.writeString(bad, "not a tar");
        NodeStore s = new NodeStore(tmp.resolve("root"));
        CorezfsException e = assertThrows(CorezfsException.class, () -> s.add(bad));
        assertEquals(ExitCode.ARCHIVE_INVALID, e.exitCode(), e::getMessage);
        assertFalse(Files.exists(s.dir()) && !names(s).isEmpty());
    }

    @Test
    void aSymlinkedStoreDirectoryIsRefused() throws IOException {
        Path root = tmp.resolve("root");
        Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
        Files.createDirectories(root.resolve("var/lib"));
        Files.createSymbolicLink(root.resolve("var/lib/corezfs"), elsewhere);
        NodeStore s = new NodeStore(root);
        Path a = archive("9999.1.0", "2.3.2");
        CorezfsException e = assertThrows(CorezfsException.class, () -> s.add(a));
        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertTrue(e.getMessage().contains("symlink"), e::getMessage);
        try (Stream<Path> l = Files.list(elsewhere)) {
            assertEquals(0, l.count(), "nothing written through the link");
        }
    }

    @Test
    void retentionKeepsTheNewestVersionsAndEveryProtectedArchive() throws IOException {
        NodeStore s = new NodeStore(tmp.resolve("root"));
        Path oldest = s.add(archive("9997.0.0", "2.1.11"));
        s.add(archive("9998.0.0", "2.1.11"));
        s.add(archive("9999.0.0", "2.1.11"));
        s.add(archive("9999.0.0", "2.3.2"));
        s.add(archive("9999.1.0", "2.3.2"));
        // KEEP=2: the two newest versions, one archive each; the installed (oldest) one stays whatever its age.
        List<Path> gone = s.prune(2, Set.of(oldest));
        assertEquals(
                List.of(name("9997.0.0", "2.1.11"), name("9999.0.0", "2.3.2"), name("9999.1.0", "2.3.2")), names(s));
        assertEquals(2, gone.size(), gone::toString);
        assertEquals(List.of(), s.prune(2, Set.of(oldest)), "a second prune has nothing left to do");
    }

    @Test
    void retentionNeverTouchesWhatIsNotAValidArchive() throws IOException {
        NodeStore s = new NodeStore(tmp.resolve("root"));
        s.add(archive("9999.1.0", "2.3.2"));
        Files.writeString(s.dir().resolve("notes.txt"), "mine");
        Files.writeString(s.dir().resolve(name("9990.0.0", "2.1.11")), "garbage, but not ours to delete");
        s.prune(1, Set.of());
        assertEquals(List.of(name("9990.0.0", "2.1.11"), name("9999.1.0", "2.3.2"), "notes.txt"), names(s));
    }

    @Test
    void theStoreLivesInOnePlace() {
        assertEquals("var/lib/corezfs/archives", NodeStore.DIR);
        assertEquals(HostRoots.at(tmp).root().resolve("var/lib/corezfs/archives"), new NodeStore(tmp).dir());
    }

    @Test
    void anUninstallEmptiesTheStoreButLeavesWhatIsNotOurs() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("root"));
        NodeStore s = new NodeStore(root);
        s.add(archive("9999.1.0", "2.3.2"));
        assertEquals(1, s.removeAll().size());
        assertFalse(Files.exists(root.resolve("var")), "the directories the store created are gone");

        s.add(archive("9999.1.0", "2.3.2"));
        Files.writeString(s.dir().resolve("notes.txt"), "mine");
        s.removeAll();
        assertEquals(List.of("notes.txt"), names(s));
    }
}
