package io.corezfs.devcontainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Reporter;
import io.corezfs.net.Downloader;
import io.corezfs.net.Progress;
import io.corezfs.system.HostCommands;
import io.corezfs.testing.FakeDocker;
import io.corezfs.testing.StaticHttpServer;
import io.corezfs.testing.TestPgp;
import io.corezfs.trust.DigestsFile;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Developer container acquisition against a loopback release server, a fake engine and recorded host commands. */
class DevContainerImagesTest {
    static final String NAME = "flatcar_developer_container.bin.bz2";

    @TempDir
    Path tmp;

    Path served;
    StaticHttpServer server;
    final FakeDocker docker = new FakeDocker();
    final List<List<String>> commands = new ArrayList<>();
    final List<Path> mounted = new ArrayList<>();
    TestPgp vendor;
    Path keyring;

    final HostCommands recorded = new HostCommands() {
        @Override
        public void run(List<String> command) {
            commands.add(command);
        }

        @Override
        public Running start(List<String> command) {
            commands.add(command);
            return new Running() {
                @Override
                public InputStream stdout() {
                    return new ByteArrayInputStream("rootfs as tar".getBytes());
                }

                @Override
                public void finish() {}

                @Override
                public void kill() {}
            };
        }

        @Override
        public List<Path> mountPoints() {
            return List.copyOf(mounted);
        }
    };

    @BeforeEach
    void releaseServer() throws IOException {
        served = tmp.resolve("mirror");
        Path dir = Files.createDirectories(served.resolve("amd64-usr/9999.0.0"));
        Path raw = new TestGpt(8192)
                .partition(1, "EFI-SYSTEM", 64, 2047)
                .partition(9, "ROOT", 4096, 8000)
                .write(tmp.resolve("disk.bin"));
        try (OutputStream out = new BZip2CompressorOutputStream(Files.newOutputStream(dir.resolve(NAME)))) {
            Files.copy(raw, out);
        }
        vendor = TestPgp.generate("Lab Buildbot <lab@example.invalid>");
        Files.write(dir.resolve(NAME + ".sig"), vendor.sign(Files.readAllBytes(dir.resolve(NAME)), false));
        Files.writeString(
                dir.resolve(NAME + ".DIGESTS"),
                "# SHA512 HASH\n" + DigestsFile.sha512(dir.resolve(NAME)) + "  " + NAME + "\n");
        keyring = Files.write(tmp.resolve("vendor.asc"), vendor.publicKeyring(true));
        server = new StaticHttpServer(served);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private DevContainerImages images() {
        return new DevContainerImages(
                docker,
                new Downloader(Downloader.defaultClient(), Progress.NONE),
                recorded,
                tmp.resolve("cache"),
                Reporter.SILENT);
    }

    private DevContainerSource source() {
        return DevContainerSource.of("flatcar", "stable", "amd64-usr", "9999.0.0", Optional.of(server.base()));
    }

    @Test
    void downloadsVerifiesMountsTheRootPartitionAndImportsWithTheHashLabel() throws Exception {
        String ref = images().imageFor(source(), Optional.of(keyring));
        assertEquals("corezfs/devcontainer:flatcar-9999.0.0", ref);
        String sha = HexFormat.of()
                .formatHex(java.security.MessageDigest.getInstance("SHA-256")
                        .digest(Files.readAllBytes(served.resolve("amd64-usr/9999.0.0/" + NAME))));
        assertEquals(sha, docker.images.get(ref).labels().get(DevContainerImages.SHA_LABEL));
        List<String> mount = commands.get(0);
        assertEquals("mount", mount.get(0));
        assertTrue(
                mount.get(2).contains("offset=" + 4096 * 512)
                        && mount.get(2).contains("sizelimit=" + (8000 - 4096 + 1) * 512L),
                "the ROOT partition is found in the GPT, not assumed: " + mount);
        assertEquals("tar", commands.get(1).get(0));
        assertEquals("umount", commands.get(2).get(0));
        Path cached = tmp.resolve("cache/devcontainer/amd64-usr/9999.0.0");
        assertTrue(Files.exists(cached.resolve(NAME)), "the verified download is cached");
        assertFalse(Files.exists(cached.resolve("developer-container.raw")), "the large raw image is not kept");
    }

    @Test
    void anImageLeftMountedByAnInterruptedImportIsUnmountedFirst() throws IOException {
        Path mnt = Files.createDirectories(tmp.resolve("cache/devcontainer/amd64-usr/9999.0.0/mnt"));
        mounted.add(tmp.resolve("elsewhere"));
        mounted.add(mnt.toAbsolutePath());
        images().imageFor(source(), Optional.of(keyring));
        assertEquals(List.of("umount", mnt.toString()), commands.get(0));
        assertEquals("mount", commands.get(1).get(0));
    }

    @Test
    void aLabelledImageIsReusedWithoutDownloadOrImport() {
        images().imageFor(source(), Optional.of(keyring));
        long downloads = server.count("GET", NAME);
        commands.clear();
        images().imageFor(source(), Optional.empty());
        assertEquals(downloads, server.count("GET", NAME));
        assertTrue(commands.isEmpty(), "no mount, no tar");
    }

    @Test
    void aTamperedImageIsRefusedAndNeitherCachedNorImported() throws IOException {
        Path bz2 = served.resolve("amd64-usr/9999.0.0/" + NAME);
        byte[] b = Files.readAllBytes(bz2);
        b[b.length / 2] ^= 0x01;
        Files.write(bz2, b);
        CorezfsException e =
                assertThrows(CorezfsException.class, () -> images().imageFor(source(), Optional.of(keyring)));
        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(docker.images.isEmpty());
        assertTrue(commands.isEmpty());
        try (var s = Files.walk(tmp.resolve("cache"))) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(NAME + ".unverified")
                    || p.getFileName().toString().equals(NAME)));
        }
    }

    @Test
    void aSignatureByAnotherKeyIsRefused() throws IOException {
        Path other = Files.write(
                tmp.resolve("other.asc"),
                TestPgp.generate("Someone Else <x@example.invalid>").publicKeyring(true));
        CorezfsException e =
                assertThrows(CorezfsException.class, () -> images().imageFor(source(), Optional.of(other)));
        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(docker.images.isEmpty());
    }

    @Test
    void aDigestMismatchIsRefused() throws IOException {
        Files.writeString(
                served.resolve("amd64-usr/9999.0.0/" + NAME + ".DIGESTS"),
                "# SHA512 HASH\n" + "ab".repeat(64) + "  " + NAME + "\n");
        CorezfsException e =
                assertThrows(CorezfsException.class, () -> images().imageFor(source(), Optional.of(keyring)));
        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(docker.images.isEmpty());
    }

    @Test
    void withoutAKeyringFlatcarsBundledKeyIsUsedAndAnImageItDidNotSignIsRefusedSayingHowToPassANewerKey() {
        // The test image is signed by a throwaway key, so Flatcar's real key must refuse it.
        CorezfsException e = assertThrows(CorezfsException.class, () -> images().imageFor(source(), Optional.empty()));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains("signed by unknown key"), e.getMessage());
        assertTrue(e.getMessage().contains("bundled with corezfs"), e.getMessage());
        assertTrue(e.getMessage().contains("--keyring FILE"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
        assertTrue(docker.images.isEmpty());
    }

    @Test
    void anOsWithoutABundledKeyNeedsAKeyring() {
        DevContainerSource coreos =
                DevContainerSource.of("coreos", "stable", "amd64-usr", "2512.3.0", Optional.of(server.base()));

        CorezfsException e = assertThrows(CorezfsException.class, () -> images().imageFor(coreos, Optional.empty()));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertTrue(e.getMessage().contains("--keyring"));
    }

    @Test
    void theBundledFlatcarKeyIsTheOfficialOne() throws java.io.IOException {
        assertTrue(io.corezfs.trust.BundledKeys.load(io.corezfs.trust.BundledKeys.FLATCAR)
                .isPresent());
        String header = new String(
                        java.util.Objects.requireNonNull(DevContainerImages.class.getResourceAsStream(
                                        io.corezfs.trust.BundledKeys.FLATCAR))
                                .readAllBytes(),
                        java.nio.charset.StandardCharsets.US_ASCII)
                .lines()
                .filter(l -> l.startsWith("#"))
                .reduce("", String::concat);
        assertTrue(header.contains("F88C FEDE FF29 A5B4 D952  3864 E25D 9AED 0593 B34A"), header);
    }
}
