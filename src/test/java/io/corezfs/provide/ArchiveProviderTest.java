package io.corezfs.provide;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.archive.ArchiveLimits;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.archive.store.ArchiveLocator;
import io.corezfs.archive.store.ArchiveStore;
import io.corezfs.compile.BuildService;
import io.corezfs.docker.Docker;
import io.corezfs.host.Environment;
import io.corezfs.host.HostFacts;
import io.corezfs.host.RootFs;
import io.corezfs.testing.RecordingReporter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArchiveProviderTest {
    private static final HostFacts HOST =
            new HostFacts("flatcar", "3975.2.0", "amd64-usr", "stable", "stable", "6.6.95-flatcar", "amd64");

    @TempDir
    Path tmp;

    final RecordingReporter reporter = new RecordingReporter();
    final List<String> said = reporter.told();

    private ArchiveProvider provider(Supplier<Docker> docker) {
        ArchiveLocator locator = new ArchiveLocator(
                new ArchiveStore(new ArchiveReader(ArchiveLimits.DEFAULT)),
                (url, target, max) -> fail("no download expected: " + url),
                reporter);
        BuildService.Request build = new BuildService.Request(
                Optional.empty(),
                Optional.empty(),
                false,
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                tmp.resolve("cache"),
                false,
                OptionalInt.empty());
        BuildService builds = new BuildService(
                Environment.system(),
                "test",
                docker,
                (d, c, r, dl) -> fail("no developer image expected"),
                () -> fail("no downloader expected"),
                reporter);
        return new ArchiveProvider(locator, docker, builds, build, reporter);
    }

    private static Supplier<Docker> noDockerExpected() {
        return () -> fail("Docker must not be asked for");
    }

    private ArchiveProvider.Request request(
            List<ArchiveLocator.Place> dirs, Path store, Path workDir, boolean noBuild, boolean dryRun) {
        return new ArchiveProvider.Request(Optional.empty(), dirs, store, workDir, Optional.empty(), noBuild, dryRun);
    }

    private Path dir(String name) throws Exception {
        return Files.createDirectories(tmp.resolve(name));
    }

    @Test
    void looksInTheOperatorsDirectoriesInOrderThenTheStoreThenTheCurrentDirectoryEachOnce() throws Exception {
        Path a = dir("a");
        Path b = dir("b");
        Path store = dir("store");
        List<ArchiveLocator.Place> dirs = List.of(
                new ArchiveLocator.Place("--archive-dir b", b),
                new ArchiveLocator.Place("--archive-dir a", a),
                new ArchiveLocator.Place("--archive-dir b/.", b.resolve(".")));

        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> provider(noDockerExpected())
                        .provide(request(dirs, store, a, true, false), HOST, new RootFs(tmp)));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertEquals(
                List.of(
                        "no archive for this host in --archive-dir b (" + b + ")",
                        "no archive for this host in --archive-dir a (" + a + ")",
                        "no archive for this host in the archive store (" + store + ")"),
                said);
    }

    @Test
    void anArchiveGivenIsUsedWithoutLookingOrBuilding() throws Exception {
        Path given = tmp.resolve("given.tar.gz");
        ArchiveProvider.Provided p = provider(noDockerExpected())
                .provide(
                        new ArchiveProvider.Request(
                                Optional.of(given), List.of(), dir("store"), tmp, Optional.empty(), false, false),
                        HOST,
                        new RootFs(tmp));

        assertFalse(p.wouldBuild());
        assertEquals(
                new ArchiveLocator.Found(given, "given with --archive"),
                p.found().get());
        assertEquals(List.of(), said);
    }

    @Test
    void noBuildFailsNamingWhereItLookedAndChangesNothing() throws Exception {
        Path store = tmp.resolve("store-never-made");
        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> provider(noDockerExpected())
                        .provide(request(List.of(), store, dir("work"), true, false), HOST, new RootFs(tmp)));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertEquals(
                "no archive for flatcar 3975.2.0 (amd64-usr) with kernel 6.6.95-flatcar (looked in --archive-dir,"
                        + " the archive store, the current directory) and --no-build was given; nothing was changed",
                e.getMessage());
        assertFalse(Files.exists(store));
    }

    @Test
    void aDryRunWithoutAMatchSaysARealRunWouldBuildAndNeverAsksForDocker() throws Exception {
        ArchiveProvider.Provided p = provider(noDockerExpected())
                .provide(request(List.of(), dir("store"), dir("work"), false, true), HOST, new RootFs(tmp));

        assertTrue(p.wouldBuild());
        assertEquals("flatcar 3975.2.0 (amd64-usr) with kernel 6.6.95-flatcar", p.host());
    }

    @Test
    void withoutDockerItFailsBeforeAnyBuildStarts() throws Exception {
        Supplier<Docker> down = () -> {
            throw new IllegalStateException("cannot connect to /var/run/docker.sock");
        };
        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> provider(down)
                        .provide(request(List.of(), dir("store"), dir("work"), false, false), HOST, new RootFs(tmp)));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertTrue(
                e.getMessage()
                        .startsWith("no archive for flatcar 3975.2.0 (amd64-usr) with kernel 6.6.95-flatcar, and"
                                + " building one needs Docker: cannot connect to /var/run/docker.sock."),
                e.getMessage());
        assertFalse(said.stream().anyMatch(s -> s.contains("building one through Docker")), said.toString());
    }

    @Test
    void anUnreachableMirrorFailsTheLookupInsteadOfBuilding() throws Exception {
        ArchiveLocator locator = new ArchiveLocator(
                new ArchiveStore(new ArchiveReader(ArchiveLimits.DEFAULT)),
                (url, target, max) -> {
                    throw CorezfsException.precondition("cannot reach " + url);
                },
                reporter);
        ArchiveProvider p = new ArchiveProvider(locator, noDockerExpected(), null, null, reporter);
        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> p.provide(
                        new ArchiveProvider.Request(
                                Optional.empty(),
                                List.of(),
                                dir("store"),
                                dir("work"),
                                Optional.of(URI.create("http://127.0.0.1:9/")),
                                true,
                                false),
                        HOST,
                        new RootFs(tmp)));
        assertEquals("cannot reach http://127.0.0.1:9/index.json", e.getMessage());
    }
}
