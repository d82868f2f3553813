package io.corezfs.devcontainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.net.URI;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DevContainerSourceTest {

    @Test
    void flatcarReleaseServerUrlCarriesChannelBoardAndVersion() {
        DevContainerSource s = DevContainerSource.of("flatcar", "stable", "amd64-usr", "3975.2.0", Optional.empty());
        assertEquals(
                URI.create(
                        "https://stable.release.flatcar-linux.net/amd64-usr/3975.2.0/flatcar_developer_container.bin.bz2"),
                s.image());
        assertEquals(
                URI.create(
                        "https://stable.release.flatcar-linux.net/amd64-usr/3975.2.0/flatcar_developer_container.bin.bz2.sig"),
                s.signature());
        assertEquals(
                URI.create(
                        "https://stable.release.flatcar-linux.net/amd64-usr/3975.2.0/flatcar_developer_container.bin.bz2.DIGESTS"),
                s.digests());
        assertEquals("flatcar_developer_container.bin.bz2", s.fileName());
    }

    @Test
    void coreosUsesItsOwnDomainAndFileName() {
        DevContainerSource s = DevContainerSource.of("coreos", "beta", "amd64-usr", "2303.3.0", Optional.empty());
        assertEquals(
                URI.create("https://beta.release.core-os.net/amd64-usr/2303.3.0/coreos_developer_container.bin.bz2"),
                s.image());
    }

    @Test
    void osIdIsCaseInsensitive() {
        assertEquals(
                "flatcar",
                DevContainerSource.of("Flatcar", "alpha", "arm64-usr", "4000.0.0", Optional.empty())
                        .osId());
    }

    @Test
    void mirrorReplacesSchemeAndHostAndKeepsBoardVersionFile() {
        DevContainerSource s = DevContainerSource.of(
                "flatcar", "stable", "amd64-usr", "3975.2.0", Optional.of(URI.create("http://127.0.0.1:8080")));
        assertEquals(
                URI.create("http://127.0.0.1:8080/amd64-usr/3975.2.0/flatcar_developer_container.bin.bz2"), s.image());
        assertEquals(
                URI.create("http://127.0.0.1:8080/amd64-usr/3975.2.0/flatcar_developer_container.bin.bz2.sig"),
                s.signature());
        assertEquals(
                URI.create("http://127.0.0.1:8080/amd64-usr/3975.2.0/flatcar_developer_container.bin.bz2.DIGESTS"),
                s.digests());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "https://mirror.example/pub/flatcar",
                "https://mirror.example/pub/flatcar/",
                "https://mirror.example/pub/flatcar//"
            })
    void mirrorPathPrefixIsKeptWithOrWithoutTrailingSlash(String base) {
        DevContainerSource s =
                DevContainerSource.of("flatcar", "stable", "amd64-usr", "3975.2.0", Optional.of(URI.create(base)));
        assertEquals(
                URI.create("https://mirror.example/pub/flatcar/amd64-usr/3975.2.0/flatcar_developer_container.bin.bz2"),
                s.image());
    }

    @Test
    void mirrorMayBeALocalDirectory() {
        DevContainerSource s = DevContainerSource.of(
                "flatcar", "stable", "amd64-usr", "3975.2.0", Optional.of(URI.create("file:///srv/mirror")));
        assertEquals(
                URI.create("file:///srv/mirror/amd64-usr/3975.2.0/flatcar_developer_container.bin.bz2"), s.image());
    }

    @Test
    void mirrorDoesNotNeedAChannel() {
        DevContainerSource s = DevContainerSource.of(
                "flatcar", null, "amd64-usr", "3975.2.0", Optional.of(URI.create("https://mirror.example")));
        assertTrue(s.image().toString().startsWith("https://mirror.example/amd64-usr/"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"debian", "ubuntu", "", "fedora-coreos"})
    void unknownOsIsAPreconditionFailure(String os) {
        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> DevContainerSource.of(os, "stable", "amd64-usr", "1.0.0", Optional.empty()));
        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertTrue(e.getMessage().contains("'" + os + "'"), e.getMessage());
    }

    @Test
    void nullOsIsAPreconditionFailure() {
        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> DevContainerSource.of(null, "stable", "amd64-usr", "1.0.0", Optional.empty()));
        assertEquals(ExitCode.PRECONDITION, e.exitCode());
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", "../etc", "a/b", "", "x?y", "x#y", "x y"})
    void segmentsThatCouldEscapeTheReleaseDirectoryAreRefused(String bad) {
        assertEquals(
                ExitCode.PRECONDITION,
                assertThrows(
                                CorezfsException.class,
                                () -> DevContainerSource.of("flatcar", "stable", bad, "1.0.0", Optional.empty()))
                        .exitCode());
        assertEquals(
                ExitCode.PRECONDITION,
                assertThrows(
                                CorezfsException.class,
                                () -> DevContainerSource.of("flatcar", "stable", "amd64-usr", bad, Optional.empty()))
                        .exitCode());
        assertEquals(
                ExitCode.PRECONDITION,
                assertThrows(
                                CorezfsException.class,
                                () -> DevContainerSource.of("flatcar", bad, "amd64-usr", "1.0.0", Optional.empty()))
                        .exitCode());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "ftp://mirror.example",
                "mirror.example",
                "https:///nohost",
                "https://m.example/?q=1",
                "https://m.example/#frag",
                "mailto:a@b"
            })
    void malformedMirrorsAreRefused(String mirror) {
        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> DevContainerSource.of(
                        "flatcar", "stable", "amd64-usr", "1.0.0", Optional.of(URI.create(mirror))));
        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertTrue(e.getMessage().contains("mirror"), e.getMessage());
    }
}
