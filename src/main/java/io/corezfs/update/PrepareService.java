package io.corezfs.update;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Reporter;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.archive.ArchiveSink;
import io.corezfs.archive.Manifest;
import io.corezfs.archive.store.ArchiveLocator;
import io.corezfs.archive.store.MirrorIndex;
import io.corezfs.archive.store.NodeStore;
import io.corezfs.archive.store.SignedFetch;
import io.corezfs.host.HostFacts;
import io.corezfs.host.NodeConfig;
import io.corezfs.trust.Hashes;
import io.corezfs.trust.TrustPolicy;
import io.corezfs.zfs.ZfsVersion;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Puts the archive for the next OS version into the node store before the node reboots into it: from the first
 * mirror whose index lists that version (the index entry names its kernel), else built here when the build policy
 * allows. Whatever arrives is verified in full before it is added; nothing partial is ever left under a real name.
 */
public final class PrepareService {
    /**
     * Builds the archive for a target that is not the running host. {@code kernel} is the target's kernel when
     * something already named it, else empty: the build then reads it from the target's developer container
     * ({@code /usr/lib/modules}), never from the running kernel, which says nothing about the next one.
     */
    @FunctionalInterface
    public interface TargetBuild {
        Path build(HostFacts target, Optional<String> kernel, Path dir);
    }

    /** The OS version to prepare for; the kernel is what the mirror or the build finds out. */
    public record Target(String os, String version, String board, String channel, String arch) {
        String describe() {
            return os + " " + version + " (" + board + ")";
        }

        HostFacts withKernel(String kernel) {
            return new HostFacts(os, version, board, channel, channel, kernel, arch);
        }
    }

    /**
     * @param archive the archive in the store
     * @param from    where it came from, or why nothing was fetched
     * @param already whether the store held it before this run
     * @param pruned  archives retention removed
     */
    public record Result(Path archive, Manifest manifest, String from, boolean already, List<Path> pruned) {}

    private final NodeStore store;
    private final ArchiveReader reader;
    private final ArchiveLocator.Fetch fetch;
    private final TargetBuild builder;
    private final Reporter reporter;
    private final long maxIndexBytes;
    private final TrustPolicy trust;

    public PrepareService(
            NodeStore store,
            ArchiveReader reader,
            ArchiveLocator.Fetch fetch,
            TargetBuild builder,
            Reporter reporter,
            long maxIndexBytes) {
        this(store, reader, fetch, builder, reporter, maxIndexBytes, TrustPolicy.none(java.time.Instant.now()));
    }

    /** @param trust the node's signature policy, for the index and the archive fetched from a mirror */
    public PrepareService(
            NodeStore store,
            ArchiveReader reader,
            ArchiveLocator.Fetch fetch,
            TargetBuild builder,
            Reporter reporter,
            long maxIndexBytes,
            TrustPolicy trust) {
        this.store = store;
        this.reader = reader;
        this.fetch = fetch;
        this.builder = builder;
        this.reporter = reporter;
        this.maxIndexBytes = maxIndexBytes;
        this.trust = trust;
    }

    /**
     * @param mirrors the mirrors, in the order to try them
     * @param build   the effective build policy, and where it was set (for the message when it forbids one)
     * @param keep    the retention, as KEEP sets it
     * @param protect archives retention must keep whatever their age: the installed one, the running host's
     */
    public Result prepare(
            Target t,
            List<URI> mirrors,
            NodeConfig.Setting<NodeConfig.BuildPolicy> build,
            int keep,
            Set<Path> protect) {
        Optional<Path> have = store.findVersion(t.os(), t.version(), t.board());
        if (have.isPresent()) {
            Manifest m = reader.readManifest(have.get()).manifest();
            return new Result(have.get(), m, "the node store", true, prune(keep, protect, have.get()));
        }
        List<CorezfsException> failures = new ArrayList<>();
        for (URI mirror : mirrors) {
            try {
                Optional<Path> got = fromMirror(t, mirror);
                if (got.isPresent()) {
                    Manifest m = reader.readManifest(got.get()).manifest();
                    return new Result(got.get(), m, mirror.toString(), false, prune(keep, protect, got.get()));
                }
            } catch (CorezfsException e) {
                reporter.warn("mirror " + mirror + " passed over: " + e.getMessage());
                failures.add(e);
            }
        }
        // A mirror that served something refused (wrong size, hash or target) is a signal to act on, not to paper
        // over with a build; one that could not be reached is what a build is the fallback for.
        for (CorezfsException e : failures) {
            if (e.exitCode() == ExitCode.ARCHIVE_INVALID || e.exitCode() == ExitCode.VERIFICATION_FAILED) {
                throw e;
            }
        }
        String looked = mirrors.isEmpty()
                ? "no mirror is configured (MIRRORS in " + NodeConfig.PATH + ", or --mirror)"
                : "no archive in " + (mirrors.size() == 1 ? "the mirror " : "the mirrors ")
                        + String.join(" ", mirrors.stream().map(URI::toString).toList())
                        + (failures.isEmpty() ? "" : " (" + failures.size() + " could not be read; see the warnings)");
        if (!build.value().allowsPrepare()) {
            if (!failures.isEmpty() && failures.size() == mirrors.size()) {
                throw failures.get(0);
            }
            throw CorezfsException.precondition("cannot prepare " + t.describe() + ": " + looked + ", and BUILD="
                    + build.display() + " (" + build.source() + ") forbids building one here; nothing was changed."
                    + " Publish its archive to a mirror, or allow a build with --build prepare");
        }
        reporter.info(looked + "; building the archive for " + t.describe() + " through Docker (this takes minutes)");
        Path incoming = store.incoming("build");
        Path dir = incoming.resolveSibling(incoming.getFileName() + ".d");
        try {
            Files.createDirectories(dir);
            Path built = builder.build(t.withKernel(""), Optional.empty(), dir);
            Manifest m = verified(built, t, Optional.empty(), "the build");
            Path added = store.add(built);
            return new Result(added, m, "a build on this node", false, prune(keep, protect, added));
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot prepare a build directory " + dir + ": " + e.getMessage());
        } finally {
            try {
                io.corezfs.system.FileTrees.deleteTree(dir);
            } catch (IOException ignored) {
                // a dot-directory in the store is never taken for an archive
            }
        }
    }

    private SignedFetch signed() {
        return new SignedFetch(fetch, trust, reporter);
    }

    private Optional<Path> fromMirror(Target t, URI mirror) {
        String base = mirror.toString().endsWith("/") ? mirror.toString() : mirror + "/";
        URI indexUrl = URI.create(base + MirrorIndex.FILE);
        Path indexFile = store.incoming(MirrorIndex.FILE);
        Optional<MirrorIndex.Entry> hit;
        try {
            fetch.fetch(indexUrl, indexFile, maxIndexBytes);
            // Checked before a byte of it is believed: the index names the archives and their hashes.
            signed().check(indexFile, URI.create(base + MirrorIndex.FILE + ".sig"), indexFile.getParent(), base)
                    .ifPresent(PrepareService::deleteQuietly);
            hit = MirrorIndex.read(indexFile, indexUrl).archives().stream()
                    .filter(e -> e.os().equals(t.os())
                            && e.osVersion().equals(t.version())
                            && e.board().equals(t.board())
                            && e.arch().equals(t.arch()))
                    .max(Comparator.comparing(MirrorIndex.Entry::zfsVersion, ZfsVersion.ORDER));
        } finally {
            deleteQuietly(indexFile);
        }
        if (hit.isEmpty()) {
            reporter.info("no archive for " + t.describe() + " in " + indexUrl);
            return Optional.empty();
        }
        MirrorIndex.Entry e = hit.get();
        URI url = URI.create(base + e.file());
        Path incoming = store.incoming(e.file());
        try {
            fetch.fetch(url, incoming, e.size());
            long size = Files.size(incoming);
            if (size != e.size()) {
                throw CorezfsException.invalidArchive("refused " + url + ": " + size
                        + " bytes, but the mirror's index says " + e.size() + "; nothing was kept");
            }
            String sha = Hashes.sha256(incoming);
            if (!sha.equals(e.sha256())) {
                throw CorezfsException.verification(url + ": sha256 " + sha + " does not match the mirror's index ("
                        + e.sha256() + "); nothing was kept");
            }
            Optional<Path> sig =
                    signed().check(incoming, URI.create(url + ".sig"), incoming.getParent(), url.toString());
            try {
                verified(incoming, t, Optional.of(e.kernel()), url.toString());
                // The signature goes into the store beside the archive: the node checks it again before loading a
                // module.
                if (sig.isPresent()) {
                    Files.move(
                            sig.get(),
                            io.corezfs.trust.SignedFile.sigOf(incoming),
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
                return Optional.of(store.add(incoming));
            } finally {
                sig.ifPresent(PrepareService::deleteQuietly);
                deleteQuietly(io.corezfs.trust.SignedFile.sigOf(incoming));
            }
        } catch (IOException ex) {
            throw CorezfsException.precondition("cannot read " + incoming + ": " + ex.getMessage());
        } finally {
            deleteQuietly(incoming);
        }
    }

    /** Every hash checked, and built for the target (and the kernel the index named) in the manifest's own words. */
    private Manifest verified(Path archive, Target t, Optional<String> kernel, String from) {
        Manifest m = reader.read(archive, ArchiveSink.DISCARD).manifest();
        boolean fits = m.os().equals(t.os())
                && m.osVersion().equals(t.version())
                && m.board().equals(t.board())
                && m.arch().equals(t.arch())
                && kernel.map(m.kernel()::equals).orElse(true);
        if (!fits) {
            throw CorezfsException.verification("the archive from " + from + " is built for " + m.os() + " "
                    + m.osVersion() + " (" + m.board() + ", " + m.arch() + ") with kernel " + m.kernel()
                    + ", not for " + t.describe()
                    + kernel.map(k -> " with kernel " + k).orElse("")
                    + "; nothing was kept");
        }
        return m;
    }

    private List<Path> prune(int keep, Set<Path> protect, Path prepared) {
        Set<Path> all = new HashSet<>(protect);
        all.add(prepared);
        List<Path> gone = store.prune(keep, all);
        for (Path p : gone) {
            reporter.info("removed " + p.getFileName() + " from the node store (KEEP=" + keep + ")");
        }
        return gone;
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
            Files.deleteIfExists(p.resolveSibling(p.getFileName() + ".part"));
        } catch (IOException ignored) {
            // a dot-file in the store is never taken for an archive
        }
    }
}
