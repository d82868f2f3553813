package io.corezfs.archive.store;

import io.corezfs.CorezfsException;
import io.corezfs.Reporter;
import io.corezfs.trust.TrustPolicy;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The one place where a file fetched from a mirror (an index, an archive) meets the node's signature policy: its
 * {@code .sig} is fetched from beside it and checked before the file is believed. A signature that cannot be fetched
 * counts as absent, which only {@code SIGNATURES=require} minds (and refuses, exit 5); one that is fetched must verify
 * under every policy.
 */
public final class SignedFetch {
    /** A signature is a few hundred bytes; anything far larger is not one. */
    static final long MAX_SIG_BYTES = 16 * 1024;

    private final ArchiveLocator.Fetch fetch;
    private final TrustPolicy trust;
    private final Reporter reporter;

    public SignedFetch(ArchiveLocator.Fetch fetch, TrustPolicy trust, Reporter reporter) {
        this.fetch = fetch;
        this.trust = trust;
        this.reporter = reporter;
    }

    /**
     * Checks {@code file} against {@code sigUrl}, fetched as a dot-file into {@code dir}.
     *
     * @return the fetched signature (the caller keeps it beside the file, or deletes it), or empty when there is none
     */
    public Optional<Path> check(Path file, URI sigUrl, Path dir, String origin) {
        Path sig = dir.resolve("." + file.getFileName() + ".sig.download");
        String why = null;
        try {
            Files.deleteIfExists(sig);
            fetch.fetch(sigUrl, sig, MAX_SIG_BYTES);
        } catch (CorezfsException | IOException e) {
            why = e.getMessage();
            deleteQuietly(sig);
        }
        try {
            trust.check(file, sig, origin, true, false, reporter);
        } catch (CorezfsException e) {
            deleteQuietly(sig);
            // Named by its URL, not the temporary file it was saved as.
            String m = e.getMessage().replace(sig.getFileName().toString(), sigUrl.toString());
            throw new CorezfsException(e.exitCode(), why == null ? m : m + " (" + why + ")");
        }
        return Files.exists(sig) ? Optional.of(sig) : Optional.empty();
    }

    static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a leftover dot-file is never taken for an archive or a signature
        }
    }
}
