package io.corezfs.provide;

import io.corezfs.CorezfsException;
import io.corezfs.Reporter;
import io.corezfs.archive.store.ArchiveLocator;
import io.corezfs.compile.BuildService;
import io.corezfs.docker.Docker;
import io.corezfs.host.HostFacts;
import io.corezfs.host.RootFs;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The archive an install uses: the one given, else the first match in the operator's directories, the archive
 * store, the current directory and the mirror, in that order; else, unless forbidden, one built now into the store.
 */
public final class ArchiveProvider {
    /**
     * @param archive     an archive given explicitly; no lookup then
     * @param archiveDirs the operator's directories, in the order given, with how to name each in messages
     * @param store       the archive store; a built archive goes there too
     * @param workDir     the current directory
     * @param noBuild     fail instead of building when nothing matches
     * @param dryRun      change nothing: look, and say what a real run would do
     */
    public record Request(
            Optional<Path> archive,
            List<ArchiveLocator.Place> archiveDirs,
            Path store,
            Path workDir,
            List<URI> mirrors,
            boolean noBuild,
            boolean dryRun,
            String noBuildReason) {
        public Request {
            mirrors = List.copyOf(mirrors);
        }

        /** @param noBuild whether --no-build was given */
        public Request(
                Optional<Path> archive,
                List<ArchiveLocator.Place> archiveDirs,
                Path store,
                Path workDir,
                List<URI> mirrors,
                boolean noBuild,
                boolean dryRun) {
            this(archive, archiveDirs, store, workDir, mirrors, noBuild, dryRun, "--no-build was given");
        }

        /** With at most one mirror, as before mirrors came from the node configuration too. */
        public Request(
                Optional<Path> archive,
                List<ArchiveLocator.Place> archiveDirs,
                Path store,
                Path workDir,
                Optional<URI> mirror,
                boolean noBuild,
                boolean dryRun) {
            this(
                    archive,
                    archiveDirs,
                    store,
                    workDir,
                    mirror.stream().toList(),
                    noBuild,
                    dryRun,
                    "--no-build was given");
        }
    }

    /**
     * @param found the archive to install; empty only in a dry run in which nothing matched and a real run would build
     * @param host  the host the archive is for, as messages name it
     */
    public record Provided(Optional<ArchiveLocator.Found> found, String host) {
        public boolean wouldBuild() {
            return found.isEmpty();
        }
    }

    private final ArchiveLocator locator;
    private final Supplier<Docker> docker;
    private final BuildService builds;
    private final BuildService.Request build;
    private final Reporter reporter;

    /**
     * @param docker the engine a build needs, created only when nothing matched
     * @param build  how to build when nothing matched
     */
    public ArchiveProvider(
            ArchiveLocator locator,
            Supplier<Docker> docker,
            BuildService builds,
            BuildService.Request build,
            Reporter reporter) {
        this.locator = locator;
        this.docker = docker;
        this.builds = builds;
        this.build = build;
        this.reporter = reporter;
    }

    /** @param fs the host the archive is for; a build bundles the libraries its base image lacks */
    public Provided provide(Request r, HostFacts facts, RootFs fs) {
        String what = facts.os() + " " + facts.version() + " (" + facts.board() + ") with kernel " + facts.kernel();
        Optional<ArchiveLocator.Found> found =
                locator.find(r.archive(), places(r), r.mirrors(), facts, r.store(), r.dryRun());
        if (found.isPresent()) {
            return new Provided(found, what);
        }
        if (r.noBuild()) {
            throw CorezfsException.precondition(
                    "no archive for " + what + " (looked in --archive-dir, the archive store, the current"
                            + " directory" + (r.mirrors().isEmpty() ? "" : " and the mirrors")
                            + ") and " + r.noBuildReason() + "; nothing was changed");
        }
        if (r.dryRun()) {
            return new Provided(Optional.empty(), what);
        }
        try {
            docker.get().ping();
        } catch (CorezfsException | IllegalStateException e) {
            throw CorezfsException.precondition(
                    "no archive for " + what + ", and building one needs Docker: " + e.getMessage()
                            + ". Start Docker, or bring an archive built for this host (--archive, --archive-dir, --mirror); nothing was changed");
        }
        reporter.info("no archive for " + what + "; building one through Docker (this takes minutes)");
        Path built = builds.build(build, facts, fs, Optional.empty(), r.store());
        return new Provided(Optional.of(new ArchiveLocator.Found(built, "built now: no archive matched")), what);
    }

    /** The directories in lookup order, each once: the operator's, the store, the current directory. */
    private static List<ArchiveLocator.Place> places(Request r) {
        Set<Path> seen = new LinkedHashSet<>();
        List<ArchiveLocator.Place> places = new ArrayList<>();
        for (ArchiveLocator.Place p : r.archiveDirs()) {
            if (seen.add(p.dir().normalize())) {
                places.add(p);
            }
        }
        if (seen.add(r.store().normalize())) {
            places.add(new ArchiveLocator.Place("the archive store", r.store()));
        }
        if (seen.add(r.workDir().normalize())) {
            places.add(new ArchiveLocator.Place("the current directory", r.workDir()));
        }
        return places;
    }
}
