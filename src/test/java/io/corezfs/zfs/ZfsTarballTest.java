package io.corezfs.zfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZfsTarballTest {
    @TempDir
    Path dir;

    @Test
    void readsTheTopFolderItsMetaAndTheNewestEntryTime() {
        Path file = TestTarball.zfs("2.2.6")
                .linux("4.18", "6.10")
                .file("zfs-2.2.6/module/zfs/spa.c", "/* newest */", TestTarball.RELEASED.plusSeconds(3600))
                .writeTo(dir.resolve("zfs-2.2.6.tar.gz"));

        ZfsTarball t = ZfsTarball.read(file, "hash");

        assertEquals("zfs-2.2.6", t.topDir());
        assertEquals("2.2.6", t.meta().version());
        assertEquals(Optional.of("6.10"), t.meta().linuxMaximum());
        assertEquals(TestTarball.RELEASED.plusSeconds(3600), t.newestMtime());
        assertEquals("hash", t.sha256());
        assertEquals(file, t.file());
    }

    @Test
    void entriesSpelledWithALeadingDotSlashCountAsTheSameTree() throws IOException {
        Path file = dir.resolve("dot.tar.gz");
        try (TarArchiveOutputStream tar =
                new TarArchiveOutputStream(new GZIPOutputStream(Files.newOutputStream(file)))) {
            entry(tar, "./", "");
            entry(tar, "./zfs-2.1.11/META", "Name: zfs\nVersion: 2.1.11\n");
        }

        assertEquals("zfs-2.1.11", ZfsTarball.read(file, "h").topDir());
    }

    @Test
    void theHashIsOfTheFileBytes() throws IOException {
        byte[] bytes = TestTarball.zfs("2.2.6").bytes();
        Path file = Files.write(dir.resolve("x"), bytes);

        assertEquals(TestTarball.sha256(bytes), ZfsTarball.sha256(file));
    }

    @Test
    void aTarballWithoutMetaIsNotARelease() {
        Path file = TestTarball.zfs("2.2.6").noMeta().writeTo(dir.resolve("zfs.tar.gz"));

        assertRefused(file, "is not an OpenZFS release tarball: it has no zfs-2.2.6/META");
    }

    @Test
    void aTarballWithTwoTopFoldersIsNotARelease() {
        Path file = TestTarball.zfs("2.2.6")
                .file("evil/META", "Name: zfs\nVersion: 9.9.9\n", TestTarball.RELEASED)
                .writeTo(dir.resolve("zfs.tar.gz"));

        assertRefused(file, "entries lie under both 'zfs-2.2.6/' and 'evil/'");
    }

    @Test
    void aMetaFileInsideTheTreeButNotAtItsTopDoesNotCount() {
        Path file = TestTarball.zfs("2.2.6")
                .noMeta()
                .file("zfs-2.2.6/contrib/META", "Name: zfs\nVersion: 2.2.6\n", TestTarball.RELEASED)
                .writeTo(dir.resolve("zfs.tar.gz"));

        assertRefused(file, "has no zfs-2.2.6/META");
    }

    @Test
    void aHugeMetaIsNotReadIntoMemory() {
        Path file = TestTarball.zfs("2.2.6")
                .meta("Name: zfs\nVersion: 2.2.6\n# " + "x".repeat(70_000) + "\n")
                .writeTo(dir.resolve("zfs.tar.gz"));

        assertRefused(file, "too large for a META file");
    }

    @Test
    void aMetaThatIsNotOpenZfsMetaIsRefusedByTheMetaParser() {
        Path file = TestTarball.zfs("2.2.6").meta("Name: zfs\n").writeTo(dir.resolve("zfs.tar.gz"));

        assertRefused(file, "zfs.tar.gz:zfs-2.2.6/META: no 'Version:' line");
    }

    @Test
    void somethingThatIsNotATarGzIsAReadError() throws IOException {
        Path file = Files.writeString(dir.resolve("zfs-2.2.6.tar.gz"), "<html>Not Found</html>");

        assertRefused(file, "cannot read " + file + " as a .tar.gz");
    }

    @Test
    void anEmptyTarballIsNotARelease() throws IOException {
        Path file = dir.resolve("empty.tar.gz");
        new TarArchiveOutputStream(new GZIPOutputStream(Files.newOutputStream(file))).close();

        assertRefused(file, "it is empty");
    }

    private static void assertRefused(Path file, String message) {
        CorezfsException e = assertThrows(CorezfsException.class, () -> ZfsTarball.read(file, "h"));
        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    private static void entry(TarArchiveOutputStream tar, String name, String content) throws IOException {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(data.length);
        tar.putArchiveEntry(e);
        tar.write(data);
        tar.closeArchiveEntry();
    }
}
