package io.corezfs.install;

import io.corezfs.CorezfsException;
import io.corezfs.archive.EntryType;
import io.corezfs.archive.Manifest;
import io.corezfs.archive.ManifestEntry;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

/** Failures of the target host's file systems, told as the host's problem they are. */
final class HostFailures {
    private HostFailures() {}

    /**
     * A write the target refused, told as the host's problem it is (exit 3, naming the path), never as a bad
     * archive: a full disk, a read-only mount, an immutable file. Empty for any other failure.
     */
    static Optional<CorezfsException> hostFailure(IOException e, Path fallback, long neededBytes) {
        String reason = e instanceof FileSystemException f && f.getReason() != null
                ? f.getReason()
                : String.valueOf(e.getMessage());
        Path where = e instanceof FileSystemException f && f.getFile() != null ? Path.of(f.getFile()) : fallback;
        if (reason.contains("No space left on device") || reason.contains("Disk quota exceeded")) {
            return Optional.of(CorezfsException.precondition("no space left on " + storeOf(where) + " writing " + where
                    + (neededBytes > 0 ? ": needs " + mb(neededBytes) + " MB" : "") + "; nothing was changed"));
        }
        if (e instanceof AccessDeniedException
                || reason.contains("Read-only file system")
                || reason.contains("Operation not permitted")
                || reason.contains("Permission denied")) {
            return Optional.of(CorezfsException.precondition("cannot write " + where + ": "
                    + (e instanceof AccessDeniedException ? "permission denied" : reason)
                    + " (a read-only or immutable target?); nothing was changed"));
        }
        return Optional.empty();
    }

    /** What the staged trees take on disk, in whole 4 KiB blocks: files and directories; short links take none. */
    static long spaceNeeded(Manifest m) {
        return m.entries().stream().mapToLong(HostFailures::onDisk).sum();
    }

    static long onDisk(ManifestEntry e) {
        return e.type() == EntryType.FILE ? (e.size() + 4095) / 4096 * 4096 : e.type() == EntryType.DIR ? 4096 : 0;
    }

    static long mb(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20;
    }

    private static String storeOf(Path p) {
        for (Path a = p; a != null; a = a.getParent()) {
            if (Files.exists(a, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    return Files.getFileStore(a).toString();
                } catch (IOException e) {
                    break;
                }
            }
        }
        return "the filesystem of " + p;
    }
}
