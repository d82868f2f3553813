package io.corezfs.archive.store;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.archive.ArchiveLimits;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.host.HostFacts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The node's own archive store, {@code /var/lib/corezfs/archives}: archives prepared before an OS update, and the
 * previous version's, so a reboot or a rollback finds its ZFS without the network.
 *
 * <p>Minimal stand-in with the shared contract's API, enough for the boot reconciler; the prepare work owns the full
 * version (retention included).
 */
public final class NodeStore {
    /** Where the store lives, relative to the host root. */
    public static final String DIR = "var/lib/corezfs/archives";

    private final Path root;

    public NodeStore(Path root) {
        this.root = root;
    }

    public Path dir() {
        return root.resolve(DIR);
    }

    /** The archive whose manifest names exactly this target (OS, version, board, kernel), newest ZFS first. */
    public Optional<Path> find(HostFacts target) {
        return new ArchiveStore(new ArchiveReader(ArchiveLimits.DEFAULT))
                .find(dir(), target)
                .map(ArchiveStore.Candidate::path);
    }

    /** Copies {@code archive} into the store under its own name; a reader never sees a partial file. */
    public Path add(Path archive) {
        Path target = dir().resolve(archive.getFileName().toString());
        if (target.equals(archive)) {
            return target;
        }
        Path part = dir().resolve("." + archive.getFileName() + ".part");
        try {
            Files.createDirectories(dir());
            Files.copy(archive, part, StandardCopyOption.REPLACE_EXISTING);
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new CorezfsException(
                    ExitCode.PRECONDITION, "cannot add " + archive.getFileName() + " to " + dir() + ": " + e);
        }
        return target;
    }

    /** Retention belongs to the full store; this stand-in keeps everything. */
    public List<Path> prune(int keep, Set<Path> protect) {
        return List.of();
    }
}
