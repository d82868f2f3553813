package io.corezfs.zfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.net.URI;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ZfsReleaseUrlsTest {
    @Test
    void releasesSince0_8AreOpenzfsReleaseAssetsOnGitHub() {
        assertEquals(
                URI.create("https://github.com/openzfs/zfs/releases/download/zfs-2.1.11/zfs-2.1.11.tar.gz"),
                ZfsReleaseUrls.zfs(ZfsVersion.of("2.1.11"), Optional.empty()));
        assertEquals(
                URI.create("https://github.com/openzfs/zfs/releases/download/zfs-0.8.0/zfs-0.8.0.tar.gz"),
                ZfsReleaseUrls.zfs(ZfsVersion.of("0.8.0"), Optional.empty()));
    }

    @Test
    void olderReleasesComeFromZfsonlinuxWithTheirSplInTheSameRelease() {
        ZfsVersion v = ZfsVersion.of("0.7.13");

        assertEquals(
                URI.create("https://github.com/zfsonlinux/zfs/releases/download/zfs-0.7.13/zfs-0.7.13.tar.gz"),
                ZfsReleaseUrls.zfs(v, Optional.empty()));
        assertEquals(
                URI.create("https://github.com/zfsonlinux/zfs/releases/download/zfs-0.7.13/spl-0.7.13.tar.gz"),
                ZfsReleaseUrls.spl(v, Optional.empty()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://127.0.0.1:8080/github", "http://127.0.0.1:8080/github/"})
    void aMirrorReplacesSchemeAndHostAndKeepsTheGitHubPath(String mirror) {
        assertEquals(
                URI.create("http://127.0.0.1:8080/github/openzfs/zfs/releases/download/zfs-2.1.11/zfs-2.1.11.tar.gz"),
                ZfsReleaseUrls.zfs(ZfsVersion.of("2.1.11"), Optional.of(URI.create(mirror))));
        assertEquals(
                URI.create(
                        "http://127.0.0.1:8080/github/zfsonlinux/zfs/releases/download/zfs-0.7.13/spl-0.7.13.tar.gz"),
                ZfsReleaseUrls.spl(ZfsVersion.of("0.7.13"), Optional.of(URI.create(mirror))));
    }

    @Test
    void aMirrorMayBeALocalDirectory() {
        assertEquals(
                URI.create("file:///srv/mirror/openzfs/zfs/releases/download/zfs-2.1.11/zfs-2.1.11.tar.gz"),
                ZfsReleaseUrls.zfs(ZfsVersion.of("2.1.11"), Optional.of(URI.create("file:///srv/mirror"))));
    }

    @Test
    void aMalformedMirrorIsAPreconditionFailure() {
        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> ZfsReleaseUrls.zfs(ZfsVersion.of("2.1.11"), Optional.of(URI.create("ftp://mirror.example"))));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
    }

    @Test
    void releasesSince0_8HaveNoSplTarball() {
        assertThrows(
                IllegalArgumentException.class, () -> ZfsReleaseUrls.spl(ZfsVersion.of("2.1.11"), Optional.empty()));
    }
}
