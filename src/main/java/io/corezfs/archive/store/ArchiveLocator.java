package io.corezfs.archive.store;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Reporter;
import io.corezfs.host.HostFacts;
import io.corezfs.trust.Hashes;
import io.corezfs.trust.SignedFile;
import io.corezfs.trust.TrustPolicy;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

/**
 * Finds the archive for a host, in the documented order: {@code --archive}, each {@code --archive-dir}, the
 * {@code archives/} store, the current directory, then a mirror. Every place looked at and every archive passed over
 * is reported with the reason, so "why did it build?" always has an answer in the log.
 */
public final class ArchiveLocator {
    /** Downloads a URL to a file, refusing more than {@code maxBytes} and leaving nothing partial; a seam for tests. */
    @FunctionalInterface
    public interface Fetch {
        Path fetch(URI url, Path target, long maxBytes);
    }

    /** An index larger than this is not one {@code publish} wrote. */
    public static final long DEFAULT_MAX_INDEX_BYTES = 8L << 20;

    /** A directory to search, and how to name it to the operator. */
    public record Place(String label, Path dir) {}

    public record Found(Path archive, String why) {}

    private final ArchiveStore store;
    private final Fetch fetch;
    private final Reporter reporter;
    private final long maxIndexBytes;
    private final TrustPolicy trust;
    private final boolean allowUnsignedLocal;
    /** Signature outcomes are always said, even when the search's own detail is silenced. */
    private final Reporter trustReporter;

    public ArchiveLocator(ArchiveStore store, Fetch fetch, Reporter reporter) {
        this(store, fetch, reporter, DEFAULT_MAX_INDEX_BYTES);
    }

    public ArchiveLocator(ArchiveStore store, Fetch fetch, Reporter reporter, long maxIndexBytes) {
        this(store, fetch, reporter, maxIndexBytes, TrustPolicy.none(java.time.Instant.now()), false, reporter);
    }

    private ArchiveLocator(
            ArchiveStore store,
            Fetch fetch,
            Reporter reporter,
            long maxIndexBytes,
            TrustPolicy trust,
            boolean allowUnsignedLocal,
            Reporter trustReporter) {
        this.store = store;
        this.fetch = fetch;
        this.reporter = reporter;
        this.maxIndexBytes = maxIndexBytes;
        this.trust = trust;
        this.allowUnsignedLocal = allowUnsignedLocal;
        this.trustReporter = trustReporter;
    }

    /**
     * The same locator, checking signatures under the node's policy: a mirror's index and archive against their
     * {@code .sig} files beside them, a local archive against its {@code FILE.sig} ({@code allowUnsignedLocal}:
     * {@code --allow-unsigned}, which lets only a local file without a signature through).
     */
    public ArchiveLocator withTrust(TrustPolicy policy, boolean allowUnsignedLocal) {
        return withTrust(policy, allowUnsignedLocal, reporter);
    }

    /** As above; {@code said} hears what the signatures said (who signed, or a warning), whatever else is silenced. */
    public ArchiveLocator withTrust(TrustPolicy policy, boolean allowUnsignedLocal, Reporter said) {
        return new ArchiveLocator(store, fetch, reporter, maxIndexBytes, policy, allowUnsignedLocal, said);
    }

    /**
     * @param download where an archive from the mirror is saved (the store), under its own name
     * @param dryRun   look at the mirror's index, but download nothing
     */
    public Optional<Found> find(
            Optional<Path> explicit,
            List<Place> places,
            Optional<URI> mirror,
            HostFacts host,
            Path download,
            boolean dryRun) {
        return find(explicit, places, mirror.stream().toList(), host, download, dryRun);
    }

    /**
     * As above, with the mirrors tried in order: the first whose index lists the host wins. A mirror that cannot be
     * reached or serves something refused is reported and the next one is tried; if none serves the archive, the
     * first such failure is what the operator sees, so a single bad mirror still fails as itself.
     */
    public Optional<Found> find(
            Optional<Path> explicit,
            List<Place> places,
            List<URI> mirrors,
            HostFacts host,
            Path download,
            boolean dryRun) {
        if (explicit.isPresent()) {
            checkLocal(explicit.get(), "--archive");
            return Optional.of(new Found(explicit.get(), "given with --archive"));
        }
        for (Place place : places) {
            List<ArchiveStore.Candidate> all = store.list(place.dir(), host);
            for (ArchiveStore.Candidate c : all) {
                if (c.fit() != ArchiveStore.Fit.MATCH && c.fit() != ArchiveStore.Fit.OTHER_HOST) {
                    reporter.info("passed over " + c.path() + ": " + c.note());
                }
            }
            Optional<ArchiveStore.Candidate> best = ArchiveStore.best(all);
            if (best.isPresent()) {
                checkLocal(best.get().path(), place.label());
                return Optional.of(new Found(
                        best.get().path(),
                        "newest archive for " + host.os() + " " + host.version() + " and kernel " + host.kernel()
                                + " in " + place.label()));
            }
            reporter.info("no archive for this host in " + place.label() + " (" + place.dir() + ")");
        }
        CorezfsException first = null;
        for (URI mirror : mirrors) {
            try {
                Optional<Found> f = fromMirror(mirror, host, download, dryRun);
                if (f.isPresent()) {
                    return f;
                }
            } catch (CorezfsException e) {
                if (mirrors.size() > 1) {
                    reporter.warn("mirror " + mirror + " passed over: " + e.getMessage());
                }
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
        return Optional.empty();
    }

    private Optional<Found> fromMirror(URI mirror, HostFacts host, Path download, boolean dryRun) {
        String base = mirror.toString().endsWith("/") ? mirror.toString() : mirror + "/";
        Path tmpDir;
        try {
            tmpDir = Files.createTempDirectory("corezfs-index");
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot create a temporary directory: " + e.getMessage());
        }
        Path incoming = null;
        try {
            URI indexUrl = URI.create(base + MirrorIndex.FILE);
            Path indexFile = fetch.fetch(indexUrl, tmpDir.resolve(MirrorIndex.FILE), maxIndexBytes);
            // The index is checked before a byte of it is believed: it names the archives and their hashes.
            new SignedFetch(fetch, trust, trustReporter)
                    .check(indexFile, URI.create(base + MirrorIndex.FILE + ".sig"), tmpDir, base)
                    .ifPresent(SignedFetch::deleteQuietly);
            MirrorIndex index = MirrorIndex.read(indexFile, indexUrl);
            Optional<MirrorIndex.Entry> hit = index.find(host);
            if (hit.isEmpty()) {
                reporter.info("no archive for this host in the mirror's index (" + base + MirrorIndex.FILE + ")");
                return Optional.empty();
            }
            MirrorIndex.Entry e = hit.get();
            URI url = URI.create(base + e.file());
            if (dryRun) {
                return Optional.of(new Found(
                        download.resolve(e.file()), "would download " + url + " (listed in the mirror's index)"));
            }
            Path target = download.resolve(e.file());
            incoming = download.resolve("." + e.file() + ".download");
            Files.createDirectories(download);
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
            // The archive's own signature, checked on the bytes just downloaded, before they take the archive's name;
            // it is
            // kept beside the archive so the node can check it again before it loads a module from it.
            Optional<Path> sig = new SignedFetch(fetch, trust, trustReporter)
                    .check(incoming, URI.create(url + ".sig"), download, url.toString());
            Path targetSig = SignedFile.sigOf(target);
            if (sig.isPresent()) {
                Files.move(sig.get(), targetSig, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } else {
                Files.deleteIfExists(targetSig);
            }
            Files.move(incoming, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            incoming = null;
            return Optional.of(new Found(target, "downloaded from " + url + " (listed in the mirror's index)"));
        } catch (IOException ex) {
            throw new CorezfsException(
                    ExitCode.PRECONDITION, "cannot save the archive from " + base + ": " + ex.getMessage());
        } finally {
            if (incoming != null) {
                // Only a complete download whose size and sha256 match reaches the store.
                deleteQuietly(incoming);
                deleteQuietly(incoming.resolveSibling(incoming.getFileName() + ".part"));
            }
            try {
                Files.deleteIfExists(tmpDir.resolve(MirrorIndex.FILE));
                Files.deleteIfExists(tmpDir.resolve(MirrorIndex.FILE + ".part"));
                Files.deleteIfExists(tmpDir);
            } catch (IOException ignored) {
                // a temp dir left behind is harmless
            }
        }
    }

    private void checkLocal(Path file, String origin) {
        trust.check(file, SignedFile.sigOf(file), origin, false, allowUnsignedLocal, trustReporter);
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a leftover dot-file is never taken for an archive
        }
    }
}
