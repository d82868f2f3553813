package io.corezfs.zfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.net.Downloader;
import io.corezfs.net.Progress;
import io.corezfs.testing.TestPgp;
import io.corezfs.trust.SignatureVerifier;
import io.corezfs.zfs.ZfsSourceResolver.Request;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resolves OpenZFS sources from a mirror on 127.0.0.1 that holds small synthetic release tarballs, against a
 * pinned table made here from those tarballs' hashes.
 */
class ZfsSourceResolverTest {
    private static final String KERNEL = "6.1.0-56-cloud-amd64";
    private static final String OPENZFS = "/mirror/openzfs/zfs/releases/download/";
    private static final String ZFSONLINUX = "/mirror/zfsonlinux/zfs/releases/download/";

    @TempDir
    Path tmp;

    final LoopbackFiles server = new LoopbackFiles();
    final URI mirror = server.url("/mirror");

    final TestTarball zfs226 = TestTarball.zfs("2.2.6").linux("4.18", "6.10");
    final TestTarball zfs2111 = TestTarball.zfs("2.1.11").linux("3.10", "6.2");
    final ZfsReleases table = ZfsReleases.of(zfs226.pin(), zfs2111.pin());

    @AfterEach
    void stop() {
        server.close();
    }

    private Path cache() {
        return tmp.resolve("cache");
    }

    private ZfsSourceResolver resolver(ZfsReleases releases) {
        return new ZfsSourceResolver(releases, new Downloader(Downloader.defaultClient(), Progress.NONE), cache());
    }

    private ZfsSource resolve(Request request) {
        return resolver(table).resolve(request);
    }

    private CorezfsException refused(ExitCode code, Request request) {
        CorezfsException e = assertThrows(CorezfsException.class, () -> resolve(request));
        assertEquals(code, e.exitCode(), e.getMessage());
        return e;
    }

    private void publish(TestTarball t, String version) {
        server.put(OPENZFS + "zfs-" + version + "/zfs-" + version + ".tar.gz", t.bytes());
    }

    private static void assertMentions(CorezfsException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void withoutAVersionTheNewestPinnedReleaseForTheKernelIsDownloadedCheckedAndRead() {
        publish(zfs226, "2.2.6");

        ZfsSource s = resolve(Request.forKernel(KERNEL).withMirror(mirror));

        assertEquals(ZfsVersion.of("2.2.6"), s.version());
        assertEquals(List.of(OPENZFS + "zfs-2.2.6/zfs-2.2.6.tar.gz"), server.requests());
        assertEquals(List.of(cache().resolve("sources/zfs-2.2.6.tar.gz")), s.files());
        assertEquals(TestTarball.sha256(zfs226.bytes()), s.sha256());
        assertEquals("zfs-2.2.6", s.topDir());
        assertEquals("2.2.6", s.meta().version());
        assertEquals(TestTarball.RELEASED, s.epoch());
        assertEquals(TestTarball.RELEASED.getEpochSecond(), s.sourceDateEpoch());
        assertTrue(s.pinned());
        assertEquals(Optional.empty(), s.spl());
    }

    @Test
    void anOlderKernelGetsTheNewestReleaseThatStillSupportsIt() {
        publish(zfs2111, "2.1.11");

        ZfsSource s = resolve(Request.forKernel("4.14.336-flatcar").withMirror(mirror));

        assertEquals(ZfsVersion.of("2.1.11"), s.version());
    }

    @Test
    void aKernelNoPinnedReleaseSupportsIsAPreconditionFailureListingTheKernelAndTheRanges() {
        CorezfsException e = refused(
                ExitCode.PRECONDITION, Request.forKernel("6.11.2-flatcar").withMirror(mirror));

        assertMentions(e, "6.11.2-flatcar", "2.2.6 (Linux 4.18 to 6.10)", "2.1.11 (Linux 3.10 to 6.2)");
        assertEquals(List.of(), server.requests());
    }

    @Test
    void aCachedTarballIsCheckedAgainButNotDownloadedAgain() {
        publish(zfs226, "2.2.6");
        Request r = Request.forKernel(KERNEL).withMirror(mirror);

        resolve(r);
        ZfsSource again = resolve(r);

        assertEquals(1, server.requests().size());
        assertEquals("zfs-2.2.6", again.topDir());
    }

    @Test
    void aDownloadWhoseHashDiffersIsAVerificationFailureAndIsDeleted() {
        byte[] tampered = TestTarball.zfs("2.2.6")
                .linux("4.18", "6.10")
                .file("zfs-2.2.6/backdoor.c", "/* */", TestTarball.RELEASED)
                .bytes();
        server.put(OPENZFS + "zfs-2.2.6/zfs-2.2.6.tar.gz", tampered);
        Request r = Request.forKernel(KERNEL).withMirror(mirror);

        CorezfsException e = refused(ExitCode.VERIFICATION_FAILED, r);

        assertMentions(e, "zfs-2.2.6.tar.gz", TestTarball.sha256(tampered), TestTarball.sha256(zfs226.bytes()));
        assertFalse(Files.exists(cache().resolve("sources/zfs-2.2.6.tar.gz")));

        publish(zfs226, "2.2.6");
        assertTrue(resolve(r).pinned(), "the next run downloads it anew");
    }

    @Test
    void aDamagedCachedTarballIsCaughtAndDeleted() throws IOException {
        Files.createDirectories(cache().resolve("sources"));
        Files.write(cache().resolve("sources/zfs-2.2.6.tar.gz"), new byte[] {1, 2, 3});

        refused(ExitCode.VERIFICATION_FAILED, Request.forKernel(KERNEL).withMirror(mirror));

        assertFalse(Files.exists(cache().resolve("sources/zfs-2.2.6.tar.gz")));
    }

    @Test
    void anAskedPinnedVersionThatDoesNotSupportTheKernelFailsBeforeDownloading() {
        CorezfsException e = refused(
                ExitCode.PRECONDITION,
                Request.forKernel("6.5.0-flatcar").withVersion("2.1.11").withMirror(mirror));

        assertMentions(e, "OpenZFS 2.1.11 supports Linux 3.10 to 6.2", "6.5.0-flatcar");
        assertEquals(List.of(), server.requests());
    }

    @Test
    void theTarballsOwnMetaHasTheLastWordOnTheKernel() {
        // A table entry wider than the release's META (a mistake in the table) must not let a build start.
        TestTarball narrow = TestTarball.zfs("2.2.6").linux("4.18", "6.1");
        ZfsReleases wide = ZfsReleases.of(new ZfsReleases.Release(
                ZfsVersion.of("2.2.6"), TestTarball.sha256(narrow.bytes()), "4.18", "6.10", Optional.empty()));
        publish(narrow, "2.2.6");

        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> resolver(wide).resolve(Request.forKernel("6.5.0").withMirror(mirror)));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertMentions(e, "OpenZFS 2.2.6 supports Linux 4.18 to 6.1", "6.5.0");
    }

    @Test
    void aVersionThatIsNotPinnedNeedsInsecureSourceAndIsNotEvenDownloadedWithoutIt() {
        TestTarball zfs230 = TestTarball.zfs("2.3.0").linux("4.18", "6.12");
        publish(zfs230, "2.3.0");
        Request r = Request.forKernel(KERNEL).withVersion("2.3.0").withMirror(mirror);

        CorezfsException e = refused(ExitCode.VERIFICATION_FAILED, r);
        assertMentions(e, "OpenZFS 2.3.0 is not in corezfs's table", "--insecure-source");
        assertEquals(List.of(), server.requests());

        ZfsSource s = resolve(r.insecure());
        assertEquals(ZfsVersion.of("2.3.0"), s.version());
        assertFalse(s.pinned());
    }

    @Test
    void anUnpinnedDownloadMustStillBeTheVersionItIsNamedAfter() {
        server.put(
                OPENZFS + "zfs-2.3.0/zfs-2.3.0.tar.gz",
                TestTarball.zfs("2.3.0").metaVersion("2.2.6").bytes());

        CorezfsException e = refused(
                ExitCode.VERIFICATION_FAILED,
                Request.forKernel(KERNEL)
                        .withVersion("2.3.0")
                        .withMirror(mirror)
                        .insecure());

        assertMentions(e, "should be OpenZFS 2.3.0, but its META says 2.2.6");
    }

    @Test
    void aGivenFileIsRecognisedByItsHashWhateverItsName() {
        Path upload = zfs2111.writeTo(tmp.resolve("uploads/my-zfs.tgz"));

        ZfsSource s = resolve(Request.forKernel(KERNEL).withSource(upload.toString()));

        assertEquals(ZfsVersion.of("2.1.11"), s.version());
        assertTrue(s.pinned());
        assertEquals(List.of(upload), s.files(), "a local file is used where it is");
        assertEquals(List.of(), server.requests());
    }

    @Test
    void aGivenFileUrlIsALocalFileToo() {
        Path upload = zfs2111.writeTo(tmp.resolve("zfs-2.1.11.tar.gz"));

        ZfsSource s =
                resolve(Request.forKernel(KERNEL).withSource(upload.toUri().toString()));

        assertEquals(List.of(upload), s.files());
    }

    @Test
    void aGivenFileThatIsNotPinnedNeedsInsecureSourceAndIsLeftAlone() throws IOException {
        TestTarball patched = TestTarball.zfs("2.1.11")
                .linux("3.10", "6.2")
                .file("zfs-2.1.11/local.patch", "+fix", TestTarball.RELEASED.plusSeconds(7));
        Path upload = patched.writeTo(tmp.resolve("zfs-2.1.11.tar.gz"));
        Request r = Request.forKernel(KERNEL).withSource(upload.toString());

        CorezfsException e = refused(ExitCode.VERIFICATION_FAILED, r);
        assertMentions(e, upload.toString(), TestTarball.sha256(patched.bytes()), "--insecure-source");
        assertArrayEquals(patched.bytes(), Files.readAllBytes(upload), "never delete the user's file");

        ZfsSource s = resolve(r.insecure());
        assertEquals(ZfsVersion.of("2.1.11"), s.version(), "the version comes from META");
        assertFalse(s.pinned());
        assertEquals(TestTarball.RELEASED.plusSeconds(7), s.epoch());
    }

    @Test
    void aGivenUrlIsDownloadedAfreshEachTimeAndCheckedByHash() {
        server.put("/builds/zfs.tar.gz", zfs226.bytes());
        Request r = Request.forKernel(KERNEL)
                .withSource(server.url("/builds/zfs.tar.gz").toString());

        resolve(r);
        ZfsSource s = resolve(r);

        assertEquals(
                List.of("/builds/zfs.tar.gz", "/builds/zfs.tar.gz"),
                server.requests(),
                "a URL's name says nothing about its content, so no cached copy is trusted");
        assertEquals(List.of(cache().resolve("sources/from-url/zfs.tar.gz")), s.files());
        assertTrue(s.pinned());
    }

    @Test
    void aGivenUrlThatIsNotPinnedIsRefusedAndItsDownloadDeleted() {
        server.put("/builds/zfs-2.3.0.tar.gz", TestTarball.zfs("2.3.0").bytes());

        CorezfsException e = refused(
                ExitCode.VERIFICATION_FAILED,
                Request.forKernel(KERNEL)
                        .withSource(server.url("/builds/zfs-2.3.0.tar.gz").toString()));

        assertMentions(e, "--insecure-source");
        assertFalse(Files.exists(cache().resolve("sources/from-url/zfs-2.3.0.tar.gz")));
    }

    @Test
    void aGivenSourceMustBeTheVersionAskedFor() {
        Path upload = zfs226.writeTo(tmp.resolve("zfs.tar.gz"));

        CorezfsException e = refused(
                ExitCode.VERIFICATION_FAILED,
                Request.forKernel(KERNEL).withVersion("2.1.11").withSource(upload.toString()));

        assertMentions(e, "--zfs-version 2.1.11", "is OpenZFS 2.2.6");
    }

    @Test
    void aGivenSourceForAnotherKernelIsAPreconditionFailureNamingBothVersions() {
        Path upload = zfs2111.writeTo(tmp.resolve("zfs.tar.gz"));

        CorezfsException e = refused(
                ExitCode.PRECONDITION, Request.forKernel("6.6.30-flatcar").withSource(upload.toString()));

        assertMentions(e, "OpenZFS 2.1.11 supports Linux 3.10 to 6.2", "6.6.30-flatcar");
    }

    @Test
    void aMissingGivenFileIsAPreconditionFailure() {
        CorezfsException e = refused(
                ExitCode.PRECONDITION,
                Request.forKernel(KERNEL).withSource(tmp.resolve("nope.tar.gz").toString()));

        assertMentions(e, "nope.tar.gz: no such file");
    }

    @Test
    void aMissingReleaseOnTheMirrorIsAPreconditionFailureNamingTheUrl() {
        CorezfsException e =
                refused(ExitCode.PRECONDITION, Request.forKernel(KERNEL).withMirror(mirror));

        assertMentions(e, mirror + "/openzfs/zfs/releases/download/zfs-2.2.6/zfs-2.2.6.tar.gz", "404");
    }

    @Test
    void aLocalDirectoryMirrorIsCopiedIntoTheCache() {
        Path dir = tmp.resolve("mirror");
        zfs226.writeTo(dir.resolve("openzfs/zfs/releases/download/zfs-2.2.6/zfs-2.2.6.tar.gz"));

        ZfsSource s = resolve(Request.forKernel(KERNEL).withMirror(dir.toUri()));

        assertEquals(List.of(cache().resolve("sources/zfs-2.2.6.tar.gz")), s.files());
        assertTrue(s.pinned());
    }

    @Test
    void releasesBefore0_8AlsoFetchTheirSplFromZfsonlinuxAndCheckIt() {
        TestTarball zfs = TestTarball.zfs("0.7.13").linux("2.6", "4.19");
        TestTarball spl = TestTarball.spl("0.7.13")
                .linux("2.6", "4.19")
                .file("spl-0.7.13/NEWER", "", TestTarball.RELEASED.plusSeconds(99));
        ZfsReleases old = ZfsReleases.of(new ZfsReleases.Release(
                ZfsVersion.of("0.7.13"),
                TestTarball.sha256(zfs.bytes()),
                "2.6",
                "4.19",
                Optional.of(TestTarball.sha256(spl.bytes()))));
        server.put(ZFSONLINUX + "zfs-0.7.13/zfs-0.7.13.tar.gz", zfs.bytes());
        server.put(ZFSONLINUX + "zfs-0.7.13/spl-0.7.13.tar.gz", spl.bytes());

        ZfsSource s = resolver(old).resolve(Request.forKernel("4.19.0-flatcar").withMirror(mirror));

        assertEquals(
                List.of(ZFSONLINUX + "zfs-0.7.13/zfs-0.7.13.tar.gz", ZFSONLINUX + "zfs-0.7.13/spl-0.7.13.tar.gz"),
                server.requests());
        assertEquals(
                List.of(cache().resolve("sources/zfs-0.7.13.tar.gz"), cache().resolve("sources/spl-0.7.13.tar.gz")),
                s.files());
        assertEquals("spl-0.7.13", s.spl().orElseThrow().topDir());
        assertEquals(TestTarball.RELEASED.plusSeconds(99), s.epoch(), "the newest time over both tarballs");
        assertTrue(s.pinned());
    }

    @Test
    void anSplWhoseHashDiffersIsAVerificationFailureAndIsDeleted() {
        TestTarball zfs = TestTarball.zfs("0.7.13").linux("2.6", "4.19");
        ZfsReleases old = ZfsReleases.of(new ZfsReleases.Release(
                ZfsVersion.of("0.7.13"), TestTarball.sha256(zfs.bytes()), "2.6", "4.19", Optional.of("0".repeat(64))));
        server.put(ZFSONLINUX + "zfs-0.7.13/zfs-0.7.13.tar.gz", zfs.bytes());
        server.put(
                ZFSONLINUX + "zfs-0.7.13/spl-0.7.13.tar.gz",
                TestTarball.spl("0.7.13").bytes());

        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> resolver(old).resolve(Request.forKernel("4.19.0").withMirror(mirror)));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertMentions(e, "spl-0.7.13.tar.gz");
        assertFalse(Files.exists(cache().resolve("sources/spl-0.7.13.tar.gz")));
    }

    // --- which release a build picks: the newest pinned one the source serves ---

    private static final String NEXT_KERNEL = "6.12.95+deb12-cloud-amd64";
    final TestTarball zfs244 = TestTarball.zfs("2.4.4").linux("4.18", "7.2");
    final TestTarball zfs239 = TestTarball.zfs("2.3.9").linux("4.18", "7.2");
    final TestTarball zfs232 = TestTarball.zfs("2.3.2").linux("4.18", "6.14");
    final ZfsReleases current = ZfsReleases.of(zfs244.pin(), zfs239.pin(), zfs232.pin(), zfs2111.pin());

    @Test
    void withoutAVersionTheNewestPinnedReleaseTheMirrorServesIsTakenAndTheOutputSaysWhy() {
        publish(zfs232, "2.3.2");
        publish(zfs2111, "2.1.11");

        ZfsSource s = resolver(current).resolve(Request.forKernel(NEXT_KERNEL).withMirror(mirror));

        assertEquals(ZfsVersion.of("2.3.2"), s.version());
        assertTrue(s.pinned());
        assertEquals(
                List.of(OPENZFS + "zfs-2.3.2/zfs-2.3.2.tar.gz"),
                server.requests(),
                "the releases the mirror lacks are probed, not downloaded");
        assertEquals(
                "ZFS 2.3.2: newest pinned release for kernel " + NEXT_KERNEL + " that " + mirror
                        + " serves (2.4.4, 2.3.9 not served there)",
                s.why());
    }

    @Test
    void whenTheMirrorServesTheNewestReleaseNothingOlderIsConsidered() {
        publish(zfs244, "2.4.4");
        publish(zfs232, "2.3.2");

        ZfsSource s = resolver(current).resolve(Request.forKernel(NEXT_KERNEL).withMirror(mirror));

        assertEquals(ZfsVersion.of("2.4.4"), s.version());
        assertFalse(s.why().contains("not served"), s.why());
    }

    @Test
    void aLocalDirectoryMirrorIsProbedByItsFiles() {
        Path dir = tmp.resolve("mirror");
        zfs239.writeTo(dir.resolve("openzfs/zfs/releases/download/zfs-2.3.9/zfs-2.3.9.tar.gz"));

        ZfsSource s = resolver(current).resolve(Request.forKernel(NEXT_KERNEL).withMirror(dir.toUri()));

        assertEquals(ZfsVersion.of("2.3.9"), s.version());
        assertTrue(s.why().contains("(2.4.4 not served there)"), s.why());
    }

    @Test
    void aSourceThatServesNoCandidateIsAPreconditionFailureNamingWhatWasTried() {
        publish(zfs2111, "2.1.11"); // served, but it does not support 6.12

        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> resolver(current).resolve(Request.forKernel(NEXT_KERNEL).withMirror(mirror)));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertMentions(
                e,
                NEXT_KERNEL,
                mirror + "/openzfs/zfs/releases/download/zfs-2.4.4/zfs-2.4.4.tar.gz",
                mirror + "/openzfs/zfs/releases/download/zfs-2.3.2/zfs-2.3.2.tar.gz",
                "404");
        assertFalse(e.getMessage().contains("2.1.11"), e.getMessage());
        assertEquals(List.of(), server.requests());
    }

    @Test
    void aSourceThatCannotBeReachedIsAnErrorNotAQuietFallBackToAnOlderRelease() {
        LoopbackFiles gone = new LoopbackFiles();
        URI dead = gone.url("/mirror");
        gone.close();

        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> resolver(current).resolve(Request.forKernel(NEXT_KERNEL).withMirror(dead)));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertMentions(e, "zfs-2.4.4.tar.gz", "cannot");
    }

    @Test
    void anAskedReleaseOutsideItsRangeIsRefusedWithTheRangeChecksMessage() {
        publish(zfs2111, "2.1.11");

        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> resolver(current)
                        .resolve(Request.forKernel(NEXT_KERNEL)
                                .withVersion("2.1.11")
                                .withMirror(mirror)));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertMentions(e, "OpenZFS 2.1.11 supports Linux 3.10 to 6.2, but the kernel is " + NEXT_KERNEL);
        assertEquals(List.of(), server.requests());
    }

    @Test
    void withTheShippedTableAMirrorHoldingOnly232Gives232For612() {
        // As in the lab: the mirror holds 2.3.2 (here a stand-in whose hash is not the real one), not 2.4.4 or 2.3.9.
        publish(zfs232, "2.3.2");

        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> resolver(ZfsReleases.shipped())
                        .resolve(Request.forKernel(NEXT_KERNEL).withMirror(mirror)));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode(), "the stand-in is caught by the real pin");
        assertMentions(e, "zfs-2.3.2.tar.gz", "80da628a9543ec3355bf410617450e167706948ceb287541455a1b8d87b8758a");
        assertEquals(List.of(OPENZFS + "zfs-2.3.2/zfs-2.3.2.tar.gz"), server.requests());

        CorezfsException old = assertThrows(
                CorezfsException.class,
                () -> resolver(ZfsReleases.shipped())
                        .resolve(Request.forKernel(NEXT_KERNEL)
                                .withVersion("2.1.11")
                                .withMirror(mirror)));
        assertEquals(ExitCode.PRECONDITION, old.exitCode());
        assertMentions(old, "OpenZFS 2.1.11 supports Linux 3.10 to 6.2, but the kernel is " + NEXT_KERNEL);
    }

    // --- the range: the tarball's META, narrowed by the pinned table ---

    @Test
    void aPinnedRangeNarrowerThanTheTarballsMetaWins() {
        // 2.4.2 shipped "Linux-Maximum: 99.99"; the table says what it really supports.
        TestTarball placeholder = TestTarball.zfs("2.4.2").linux("4.18", "99.99");
        ZfsReleases table = ZfsReleases.of(new ZfsReleases.Release(
                ZfsVersion.of("2.4.2"), TestTarball.sha256(placeholder.bytes()), "4.18", "6.15", Optional.empty()));
        Path upload = placeholder.writeTo(tmp.resolve("zfs-2.4.2.tar.gz"));

        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> resolver(table)
                        .resolve(Request.forKernel("6.16.1-flatcar").withSource(upload.toString())));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertMentions(e, "OpenZFS 2.4.2 supports Linux 4.18 to 6.15", "99.99", "6.16.1-flatcar");
        assertEquals(
                ZfsVersion.of("2.4.2"),
                resolver(table)
                        .resolve(Request.forKernel("6.15.3-flatcar").withSource(upload.toString()))
                        .version());
    }

    @Test
    void aTarballsMetaNarrowerThanThePinnedRangeWinsForAGivenSourceToo() {
        TestTarball narrow = TestTarball.zfs("2.2.6").linux("4.18", "6.1");
        ZfsReleases wide = ZfsReleases.of(new ZfsReleases.Release(
                ZfsVersion.of("2.2.6"), TestTarball.sha256(narrow.bytes()), "4.18", "6.10", Optional.empty()));
        Path upload = narrow.writeTo(tmp.resolve("zfs-2.2.6.tar.gz"));

        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> resolver(wide).resolve(Request.forKernel("6.5.0").withSource(upload.toString())));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertMentions(e, "OpenZFS 2.2.6 supports Linux 4.18 to 6.1", "6.5.0");
    }

    // --- a release that is not pinned, vouched for by a release key's signature ---

    final TestPgp releaseKey = TestPgp.generate("Test Release Signer <release@example.invalid>");
    final TestTarball zfs250 = TestTarball.zfs("2.5.0").linux("4.18", "7.4");

    private ZfsSourceResolver signedResolver() {
        try {
            return new ZfsSourceResolver(
                    table,
                    Optional.of(SignatureVerifier.fromKeyring(releaseKey.publicKeyring(true), "test keys")),
                    new Downloader(Downloader.defaultClient(), Progress.NONE),
                    cache());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private byte[] signed(TestPgp key, byte[] data) {
        try {
            return key.sign(data, true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aReleaseThatIsNotPinnedButSignedByABundledKeyIsAcceptedAndTheOutputSaysSo() {
        publish(zfs250, "2.5.0");
        server.put(OPENZFS + "zfs-2.5.0/zfs-2.5.0.tar.gz.asc", signed(releaseKey, zfs250.bytes()));

        ZfsSource s = signedResolver()
                .resolve(Request.forKernel(NEXT_KERNEL).withVersion("2.5.0").withMirror(mirror));

        assertEquals(ZfsVersion.of("2.5.0"), s.version());
        assertFalse(s.pinned());
        assertTrue(s.verified());
        assertEquals(Optional.of(releaseKey.signerFingerprint()), s.signer());
        assertEquals(
                "ZFS 2.5.0: not pinned; signature by " + releaseKey.signerFingerprint()
                        + " (OpenZFS release key) checked",
                s.why());
    }

    @Test
    void aReleaseThatIsNotPinnedAndHasNoSignatureIsRefusedWithoutDownloadingIt() {
        publish(zfs250, "2.5.0");

        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> signedResolver()
                        .resolve(Request.forKernel(NEXT_KERNEL)
                                .withVersion("2.5.0")
                                .withMirror(mirror)));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertMentions(e, "2.5.0 is not in corezfs's table", "zfs-2.5.0.tar.gz.asc", "--insecure-source");
        assertEquals(List.of(), server.requests());
    }

    @Test
    void aBadSignatureIsAVerificationFailureAndTheDownloadIsDeleted() {
        publish(zfs250, "2.5.0");
        server.put(OPENZFS + "zfs-2.5.0/zfs-2.5.0.tar.gz.asc", signed(releaseKey, zfs2111.bytes()));

        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> signedResolver()
                        .resolve(Request.forKernel(NEXT_KERNEL)
                                .withVersion("2.5.0")
                                .withMirror(mirror)));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertMentions(e, "BAD signature");
        assertFalse(Files.exists(cache().resolve("sources/zfs-2.5.0.tar.gz")));
    }

    @Test
    void anUnpinnedDownloadIsNotParsedBeforeItsSignatureIsChecked() {
        byte[] junk = "not a tarball at all".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        server.put(OPENZFS + "zfs-2.5.0/zfs-2.5.0.tar.gz", junk);
        server.put(OPENZFS + "zfs-2.5.0/zfs-2.5.0.tar.gz.asc", signed(releaseKey, zfs250.bytes()));

        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> signedResolver()
                        .resolve(Request.forKernel(NEXT_KERNEL)
                                .withVersion("2.5.0")
                                .withMirror(mirror)));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode(), e.getMessage());
        assertMentions(e, "BAD signature");
    }

    @Test
    void aSignatureByAKeyThatIsNotBundledIsAVerificationFailure() {
        publish(zfs250, "2.5.0");
        TestPgp stranger = TestPgp.generate("Stranger <s@example.invalid>");
        server.put(OPENZFS + "zfs-2.5.0/zfs-2.5.0.tar.gz.asc", signed(stranger, zfs250.bytes()));

        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> signedResolver()
                        .resolve(Request.forKernel(NEXT_KERNEL)
                                .withVersion("2.5.0")
                                .withMirror(mirror)));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertMentions(e, "unknown key", stranger.signerFingerprint());
    }

    @Test
    void aGivenFileThatIsNotPinnedIsAcceptedBySignatureBesideIt() throws IOException {
        Path upload = zfs250.writeTo(tmp.resolve("uploads/zfs-2.5.0.tar.gz"));
        Files.write(tmp.resolve("uploads/zfs-2.5.0.tar.gz.asc"), signed(releaseKey, zfs250.bytes()));

        ZfsSource s = signedResolver().resolve(Request.forKernel(NEXT_KERNEL).withSource(upload.toString()));

        assertEquals(ZfsVersion.of("2.5.0"), s.version());
        assertEquals(Optional.of(releaseKey.signerFingerprint()), s.signer());
    }

    @Test
    void aGivenUrlThatIsNotPinnedIsAcceptedBySignatureBesideIt() {
        server.put("/builds/zfs-2.5.0.tar.gz", zfs250.bytes());
        server.put("/builds/zfs-2.5.0.tar.gz.asc", signed(releaseKey, zfs250.bytes()));

        ZfsSource s = signedResolver()
                .resolve(Request.forKernel(NEXT_KERNEL)
                        .withSource(server.url("/builds/zfs-2.5.0.tar.gz").toString()));

        assertTrue(s.verified());
        assertTrue(s.why().contains("not pinned; signature by " + releaseKey.signerFingerprint()), s.why());
    }
}
