package io.corezfs.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corezfs.testing.Cli;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.TarBuilder;
import io.corezfs.testing.TreeSnapshot;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code corezfs archive pack | verify | list}. */
class ArchiveCommandsTest {
    @TempDir
    Path tmp;

    Path host;
    Path tree;

    @BeforeEach
    void hostAndTree() throws IOException {
        host = HostRoots.flatcar(tmp.resolve("host")).root();
        tree = tmp.resolve("tree");
        write("etc/modules-load.d/zfs.conf", "zfs\n", "rw-r--r--");
        write("etc/systemd/system/zfs-overlay.service", "[Install]\nWantedBy=multi-user.target\n", "rw-r--r--");
        write("opt/corezfs/usr/sbin/zpool", "#!/bin/sh\n", "rwxr-xr-x");
        write("opt/corezfs/usr/lib/libzfs.so.4.1.0", "x".repeat(300_000), "rwxr-xr-x");
        Files.createSymbolicLink(tree.resolve("opt/corezfs/usr/lib/libzfs.so.4"), Path.of("libzfs.so.4.1.0"));
        // Deeper than ustar's 100-character name field: needs a PAX header.
        write(
                "opt/corezfs/usr/share/man/man8/" + "a-very-long-manual-page-name-".repeat(6) + ".8",
                "man\n",
                "rw-r--r--");
    }

    private void write(String rel, String content, String perms) throws IOException {
        Path p = tree.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
    }

    private Cli cli() {
        return new Cli(tmp).env("SOURCE_DATE_EPOCH", "1700000000");
    }

    private Cli.Run pack(Cli cli, String... out) {
        List<String> a = new ArrayList<>(
                List.of("archive", "pack", tree.toString(), "--root", host.toString(), "--zfs-version", "2.1.11"));
        a.addAll(Arrays.asList(out));
        return cli.run(a.toArray(String[]::new));
    }

    @Test
    void packWritesAVersionedNameIntoTheStore() {
        Cli.Run r = pack(cli(), "--archive-dir", tmp.resolve("store").toString());
        assertEquals(0, r.exitCode(), r::toString);
        Path expected = tmp.resolve("store/corezfs_amd64-usr_3975.2.0_stable_zfs-2.1.11.tar.gz");
        assertEquals(expected.toString(), r.out().strip(), "the archive path is the command's data");
        assertTrue(Files.isRegularFile(expected));
    }

    @Test
    void defaultStoreIsArchivesInTheWorkingDirectory() {
        assertEquals(0, pack(cli()).exitCode());
        assertTrue(Files.exists(tmp.resolve("archives/corezfs_amd64-usr_3975.2.0_stable_zfs-2.1.11.tar.gz")));
    }

    @Test
    void packingTwiceGivesIdenticalBytes() throws IOException {
        assertEquals(0, pack(cli(), "-o", tmp.resolve("one.tar.gz").toString()).exitCode());
        // Touch every file: content and metadata are the same, times are not.
        try (var s = Files.walk(tree)) {
            for (Path p : s.toList()) {
                if (!Files.isSymbolicLink(p)) {
                    Files.setLastModifiedTime(
                            p, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()));
                }
            }
        }
        assertEquals(0, pack(cli(), "-o", tmp.resolve("two.tar.gz").toString()).exitCode());
        assertArrayEquals(Files.readAllBytes(tmp.resolve("one.tar.gz")), Files.readAllBytes(tmp.resolve("two.tar.gz")));
    }

    @Test
    void withoutSourceDateEpochTheNewestFileDatesTheArchive() throws IOException {
        Cli plain = new Cli(tmp);
        assertEquals(0, pack(plain, "-o", tmp.resolve("one.tar.gz").toString()).exitCode());
        assertEquals(0, pack(plain, "-o", tmp.resolve("two.tar.gz").toString()).exitCode());
        assertArrayEquals(Files.readAllBytes(tmp.resolve("one.tar.gz")), Files.readAllBytes(tmp.resolve("two.tar.gz")));
    }

    @Test
    void layoutIsManifestFirstThenSortedEntriesOwnedByRootWithFixedTimes() throws IOException {
        Path a = tmp.resolve("a.tar.gz");
        assertEquals(0, pack(cli(), "-o", a.toString()).exitCode());
        byte[] gz = Files.readAllBytes(a);
        assertEquals(0x1f, gz[0] & 0xff);
        assertEquals(0x8b, gz[1] & 0xff);
        assertEquals(0, gz[3], "no FNAME or other optional header fields");
        assertArrayEquals(new byte[4], Arrays.copyOfRange(gz, 4, 8), "no mtime in the gzip header");

        List<String> names = new ArrayList<>();
        try (InputStream in = new GZIPInputStream(Files.newInputStream(a));
                TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                names.add(e.getName());
                assertEquals(0, e.getLongUserId());
                assertEquals(0, e.getLongGroupId());
                assertEquals("", e.getUserName());
                assertEquals("", e.getGroupName());
                assertEquals(1_700_000_000_000L, e.getModTime().getTime(), e.getName());
            }
        }
        assertEquals("corezfs-manifest.json", names.get(0));
        List<String> rest = names.subList(1, names.size());
        List<String> sorted = new ArrayList<>(rest);
        sorted.sort(null);
        assertEquals(sorted, rest);
        assertTrue(rest.contains("opt/corezfs/usr/lib/libzfs.so.4"));
        assertTrue(rest.stream().anyMatch(n -> n.length() > 150), "long names survive through PAX");
        assertFalse(rest.contains("etc/") || rest.contains("opt/"), "the host's own /etc and /opt are not entries");
    }

    @Test
    void gnuTarReadsItAndExtractsTheSameTree() throws Exception {
        Path a = tmp.resolve("a.tar.gz");
        assertEquals(0, pack(cli(), "-o", a.toString()).exitCode());
        Path out = Files.createDirectories(tmp.resolve("gnutar"));
        Process p = new ProcessBuilder("tar", "-xzf", a.toString(), "-C", out.toString())
                .inheritIO()
                .start();
        assertEquals(0, p.waitFor());
        Files.delete(out.resolve("corezfs-manifest.json"));
        Map<String, String> want = TreeSnapshot.of(tree);
        Map<String, String> got = TreeSnapshot.of(out);
        want.remove("");
        got.remove("");
        for (String k : List.of("etc", "opt")) {
            want.remove(k);
            got.remove(k);
        }
        assertEquals(want, got);
    }

    @Test
    void packedArchiveInstallsAndVerifies() {
        Path a = tmp.resolve("a.tar.gz");
        assertEquals(0, pack(cli(), "-o", a.toString()).exitCode());
        Cli.Run v = cli().run("archive", "verify", a.toString());
        assertEquals(0, v.exitCode(), v::toString);
        assertTrue(v.out().contains("flatcar 3975.2.0 amd64-usr (x86_64), channel stable"), v::toString);
        assertTrue(v.out().contains("kernel     " + HostRoots.KERNEL), v::toString);
        Path target = HostRoots.flatcar(tmp.resolve("target")).root();
        Cli.Run i = cli().run("install", "--archive", a.toString(), "--root", target.toString());
        assertEquals(0, i.exitCode(), i::toString);
    }

    @Test
    void verifyJsonCarriesTheMetadata() throws IOException {
        Path a = tmp.resolve("a.tar.gz");
        assertEquals(
                0, pack(cli(), "-o", a.toString(), "--kernel", "6.6.95-flatcar").exitCode());
        Cli.Run v = cli().run("archive", "verify", a.toString(), "--json");
        JsonNode j = new ObjectMapper().readTree(v.out());
        assertEquals("6.6.95-flatcar", j.get("kernel").asText());
        assertEquals("2.1.11", j.get("zfsVersion").asText());
        assertEquals(1_700_000_000L, j.get("buildEpoch").asLong());
        assertEquals("0.0.0-test", j.get("toolVersion").asText());
    }

    @Test
    void packRefusesWhatInstallWouldRefuse() throws IOException {
        write("usr/bin/stray", "x", "rw-r--r--");
        Cli.Run r = pack(cli(), "-o", tmp.resolve("x.tar.gz").toString());
        assertEquals(4, r.exitCode(), r::toString);
        assertTrue(r.err().contains("only etc/ and opt/corezfs/ may be packed"), r::toString);
        assertFalse(Files.exists(tmp.resolve("x.tar.gz")));
    }

    @Test
    void packRefusesSetuidAndEscapingLinks() throws IOException {
        write("opt/corezfs/usr/sbin/suid", "x", "rwxr-xr-x");
        Files.setAttribute(tree.resolve("opt/corezfs/usr/sbin/suid"), "unix:mode", 04755);
        Cli.Run r = pack(cli(), "-o", tmp.resolve("x.tar.gz").toString());
        assertEquals(4, r.exitCode(), r::toString);
        Files.delete(tree.resolve("opt/corezfs/usr/sbin/suid"));
        Files.createSymbolicLink(tree.resolve("opt/corezfs/usr/lib/libc.so.6"), Path.of("/usr/lib/libc.so.6"));
        r = pack(cli(), "-o", tmp.resolve("x.tar.gz").toString());
        assertEquals(4, r.exitCode(), r::toString);
        assertTrue(r.err().contains("resolves outside etc/ and opt/corezfs/"), r::toString);
        try (var s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().contains("x.tar.gz")), "no partial archive left");
        }
    }

    @Test
    void packRefusesFifos() throws Exception {
        Process p =
                new ProcessBuilder("mkfifo", tree.resolve("opt/corezfs/fifo").toString()).start();
        assertEquals(0, p.waitFor());
        Cli.Run r = pack(cli(), "-o", tmp.resolve("x.tar.gz").toString());
        assertEquals(4, r.exitCode(), r::toString);
        assertTrue(r.err().contains("device nodes, fifos and sockets"), r::toString);
    }

    @Test
    void hardlinkedFilesArePackedOnceAndInstallAsLinks() throws IOException {
        Files.createLink(tree.resolve("opt/corezfs/usr/sbin/zfs"), tree.resolve("opt/corezfs/usr/sbin/zpool"));
        Path a = tmp.resolve("a.tar.gz");
        assertEquals(0, pack(cli(), "-o", a.toString()).exitCode());
        Path target = HostRoots.flatcar(tmp.resolve("target")).root();
        assertEquals(
                0,
                cli().run("install", "--archive", a.toString(), "--root", target.toString())
                        .exitCode());
        assertTrue(Files.isSameFile(
                target.resolve("opt/corezfs/usr/sbin/zfs"), target.resolve("opt/corezfs/usr/sbin/zpool")));
    }

    @Test
    void listShowsWhatMatchesThisHost() throws IOException {
        Path store = tmp.resolve("store");
        assertEquals(0, pack(cli(), "--archive-dir", store.toString()).exitCode());
        TarBuilder.typicalTree()
                .kernel("6.1.0-47-cloud-amd64")
                .zfs("2.1.12")
                .writeTo(store.resolve("corezfs_amd64-usr_3975.2.0_stable_zfs-2.1.12.tar.gz"));
        TarBuilder.typicalTree()
                .osVersion("3815.2.5")
                .writeTo(store.resolve("corezfs_amd64-usr_3815.2.5_stable_zfs-2.1.11.tar.gz"));
        Files.write(
                store.resolve("corezfs_amd64-usr_3975.2.0_stable.tar.gz"),
                TarBuilder.typicalTree().noManifest().gzBytes());
        Files.writeString(store.resolve("notes.txt"), "not an archive");

        Cli.Run r = cli().run("archive", "list", "--archive-dir", store.toString(), "--root", host.toString());
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(
                r.out()
                        .contains(
                                "* corezfs_amd64-usr_3975.2.0_stable_zfs-2.1.11.tar.gz  matches OS version and kernel"),
                r::toString);
        assertTrue(
                r.out()
                        .contains(
                                "  corezfs_amd64-usr_3975.2.0_stable_zfs-2.1.12.tar.gz  built for kernel 6.1.0-47-cloud-amd64"),
                r::toString);
        assertTrue(
                r.out().contains("corezfs_amd64-usr_3975.2.0_stable.tar.gz  made by the original tool"), r::toString);
        assertFalse(r.out().contains("notes.txt"));

        JsonNode j = new ObjectMapper()
                .readTree(cli().run(
                                "archive",
                                "list",
                                "--archive-dir",
                                store.toString(),
                                "--root",
                                host.toString(),
                                "--kernel",
                                "6.1.0-47-cloud-amd64",
                                "--json")
                        .out());
        assertEquals(4, j.size());
        for (JsonNode row : j) {
            boolean is212 = row.get("archive").asText().contains("zfs-2.1.12");
            assertEquals(is212, row.get("selected").asBoolean(), row.toString());
        }
    }

    @Test
    void listOfAMissingStoreSaysSo() {
        Cli.Run r = cli().run(
                        "archive", "list", "--archive-dir", tmp.resolve("nope").toString(), "--root", host.toString());
        assertEquals(0, r.exitCode());
        assertTrue(r.out().contains("No archives."));
    }
}
