package io.corezfs.cli;

import io.corezfs.archive.ArchiveLimits;
import io.corezfs.host.Environment;
import io.corezfs.install.FileOps;

import java.nio.file.Path;

/**
 * The side effects a command may use, handed to every command through its constructor. Tests build one with a
 * fixed environment; {@link Main} builds the real one.
 *
 * @param workDir where relative defaults (the {@code archives/} store) are resolved
 */
public record Context(Environment env, FileOps fileOps, ArchiveLimits limits, Path workDir, String toolVersion) {

    /** The default archive store: {@code $COREZFS_ARCHIVE_DIR}, else {@code archives/} in the working directory. */
    public Path defaultArchiveDir() {
        return env.getenv("COREZFS_ARCHIVE_DIR").map(Path::of).orElse(workDir.resolve("archives"));
    }

    public Path resolve(Path p) {
        return workDir.resolve(p);
    }
}
