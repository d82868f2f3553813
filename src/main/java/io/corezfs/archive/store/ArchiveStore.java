package io.corezfs.archive.store;

import io.corezfs.CorezfsException;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.archive.Manifest;
import io.corezfs.host.HostFacts;
import io.corezfs.zfs.ZfsVersion;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * A directory of archives. Names narrow the search (board and OS version); the manifest decides (kernel), since
 * a name is only a claim.
 */
public final class ArchiveStore {
    private final ArchiveReader reader;

    public ArchiveStore(ArchiveReader reader) {
        this.reader = reader;
    }

    /** How an archive relates to a host. */
    public enum Fit {
        MATCH,
        KERNEL_DIFFERS,
        OTHER_HOST,
        LEGACY,
        INVALID
    }

    public record Candidate(Path path, ArchiveName name, Manifest manifest, Fit fit, String note) {}

    /** Every archive-named file in {@code dir}, judged against {@code host}. A missing directory is empty. */
    public List<Candidate> list(Path dir, HostFacts host) {
        List<Candidate> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "corezfs_*.tar.gz")) {
            for (Path p : ds) {
                ArchiveName.parse(p.getFileName().toString()).ifPresent(n -> out.add(judge(p, n, host)));
            }
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot list " + dir + ": " + e.getMessage());
        }
        out.sort(Comparator.comparing((Candidate c) -> c.path().getFileName().toString()));
        return out;
    }

    /** The best archive for {@code host} in {@code dir}: right OS and kernel, newest ZFS. */
    public Optional<Candidate> find(Path dir, HostFacts host) {
        return best(list(dir, host));
    }

    /** The best of already judged candidates: a match, newest ZFS. */
    public static Optional<Candidate> best(List<Candidate> candidates) {
        return candidates.stream()
                .filter(c -> c.fit() == Fit.MATCH)
                .max(Comparator.comparing(c -> c.manifest().zfsVersion(), ZfsVersion.ORDER));
    }

    private Candidate judge(Path p, ArchiveName n, HostFacts host) {
        if (!n.matchesHost(host)) {
            return new Candidate(p, n, null, Fit.OTHER_HOST, "for " + n.board() + " " + n.version());
        }
        Manifest m;
        try {
            m = reader.readManifest(p).manifest();
        } catch (CorezfsException e) {
            if (n.isLegacy()) {
                return new Candidate(p, n, null, Fit.LEGACY, "made by the original tool: no manifest to verify");
            }
            return new Candidate(p, n, null, Fit.INVALID, e.getMessage());
        }
        if (!ArchiveName.of(m).matchesHost(host) || !m.os().equals(host.os())) {
            return new Candidate(
                    p,
                    n,
                    m,
                    Fit.INVALID,
                    "name and manifest disagree: manifest says " + m.os() + " " + m.osVersion() + " " + m.board());
        }
        if (!m.kernel().equals(host.kernel())) {
            return new Candidate(p, n, m, Fit.KERNEL_DIFFERS, "built for kernel " + m.kernel());
        }
        return new Candidate(p, n, m, Fit.MATCH, "matches OS version and kernel");
    }
}
