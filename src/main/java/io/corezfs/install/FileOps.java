package io.corezfs.install;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The renames that put an install into place, and the flushes that make them survive a power cut. A seam so tests
 * can fail the Nth move and prove the rollback leaves the host exactly as it was, and can see what was flushed when.
 */
@FunctionalInterface
public interface FileOps {
    void move(Path from, Path to) throws IOException;

    /**
     * Makes a regular file's data, or a directory's entries, durable (fsync). ext4 and xfs allocate a file's blocks
     * only at writeback, so a rename can reach the disk before the data it points to: without this a host that loses
     * power just after the commit rename could boot a complete-looking tree of empty files.
     */
    default void sync(Path path) throws IOException {
        // A read-only channel is enough for fsync on Linux, and it is the only way Java opens a directory.
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    FileOps DEFAULT = (from, to) -> Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
}
