package io.corezfs.install;

import io.corezfs.system.Durability;
import io.corezfs.system.LocalProcessRunner;
import io.corezfs.system.ProcessRunner;
import java.io.IOException;
import java.io.OutputStream;
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
     * Makes everything written so far to the filesystem that holds {@code path} durable, file data and directory
     * entries alike. ext4 and xfs allocate a file's blocks only at writeback, so a rename can reach the disk before
     * the data it exposes: without this a host that loses power just after the commit rename could boot a
     * complete-looking tree of empty files.
     */
    default void syncFilesystem(Path path) throws IOException {
        DEFAULT.syncFilesystem(path);
    }

    /** Bytes free for an unprivileged write on the filesystem holding {@code dir}, checked before an install. */
    default long usableSpace(Path dir) throws IOException {
        return Files.getFileStore(dir).getUsableSpace();
    }

    /** A new file in staging, never an existing one or a link: where extraction runs out of space, if it does. */
    default OutputStream newFile(Path p) throws IOException {
        return Files.newOutputStream(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    FileOps DEFAULT = atomic(new LocalProcessRunner());

    /** Atomic renames, and flushes through {@code sync -f} run by {@code runner} (see {@link Durability}). */
    static FileOps atomic(ProcessRunner runner) {
        return new FileOps() {
            @Override
            public void move(Path from, Path to) throws IOException {
                Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
            }

            @Override
            public void syncFilesystem(Path path) throws IOException {
                Durability.syncFilesystem(path, runner);
            }
        };
    }
}
