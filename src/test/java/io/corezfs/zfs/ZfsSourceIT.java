package io.corezfs.zfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.net.Downloader;
import io.corezfs.net.Progress;
import io.corezfs.testing.Lab;
import io.corezfs.testing.Requirements;
import io.corezfs.zfs.ZfsSourceResolver.Request;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real OpenZFS 2.1.11 release tarball, as lab/zfs-source.sh fetches it from Debian (byte-identical to the
 * GitHub release asset), against the table corezfs ships. The lab folder is {@link Lab#dir()}.
 */
class ZfsSourceIT {
    private static final String KERNEL = "6.1.0-56-cloud-amd64";
    private static final String SHA_2_1_11 = "a54fe4e854d0a207584f1799a80e165eae66bc30dc8e8c96a1f99ed9d4d8ceb2";

    @TempDir
    Path cache;

    Path tarball;

    @BeforeEach
    void needTheLabTarball() {
        tarball = Lab.dir().resolve("zfs-source/zfs-linux_2.1.11.orig.tar.gz").toAbsolutePath();
        Requirements.need(
                Files.isRegularFile(tarball),
                "the OpenZFS 2.1.11 tarball at " + tarball + " (run sudo lab/zfs-source.sh, or set -Dcorezfs.lab.dir)");
    }

    private ZfsSourceResolver resolver() {
        return new ZfsSourceResolver(
                ZfsReleases.shipped(), new Downloader(Downloader.defaultClient(), Progress.NONE), cache);
    }

    @Test
    void theRealTarballIsRecognisedAsPinned2_1_11AndItsMetaTopFolderAndEpochAreRead() {
        ZfsSource s = resolver().resolve(Request.forKernel(KERNEL).withSource(tarball.toString()));

        assertEquals(ZfsVersion.of("2.1.11"), s.version());
        assertTrue(s.pinned());
        assertEquals(SHA_2_1_11, s.sha256());
        assertEquals(List.of(tarball), s.files());
        assertEquals("zfs-2.1.11", s.topDir());
        assertEquals("zfs", s.meta().name());
        assertEquals(Optional.of("3.10"), s.meta().linuxMinimum());
        assertEquals(Optional.of("6.2"), s.meta().linuxMaximum());
        // The newest entry is the top folder itself, written when the release was rolled.
        assertEquals(Instant.parse("2023-04-19T23:46:22Z").getEpochSecond(), s.sourceDateEpoch());
    }

    @Test
    void theDefaultForADebian61KernelIsDownloadedFromAMirrorInTheGitHubLayout() throws IOException {
        try (LoopbackFiles mirror = new LoopbackFiles()) {
            mirror.put("/gh/openzfs/zfs/releases/download/zfs-2.1.11/zfs-2.1.11.tar.gz", Files.readAllBytes(tarball));

            ZfsSource s = resolver().resolve(Request.forKernel(KERNEL).withMirror(mirror.url("/gh")));

            assertEquals(ZfsVersion.of("2.1.11"), s.version());
            assertEquals(List.of(cache.resolve("sources/zfs-2.1.11.tar.gz")), s.files());
            assertEquals(SHA_2_1_11, s.sha256());
        }
    }

    @Test
    void aKernelNewerThanItsMetaAllowsIsRefusedBeforeAnyCompile() {
        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> resolver().resolve(Request.forKernel("6.6.30-flatcar").withSource(tarball.toString())));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertTrue(
                e.getMessage().contains("OpenZFS 2.1.11 supports Linux 3.10 to 6.2, but the kernel is 6.6.30-flatcar"),
                e.getMessage());
    }
}
