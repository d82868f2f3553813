package io.corezfs.cli;

import io.corezfs.Reporter;
import io.corezfs.archive.ArchiveLimits;
import io.corezfs.build.DevImages;
import io.corezfs.build.Docker;
import io.corezfs.build.Downloader;
import io.corezfs.host.Environment;
import io.corezfs.install.FileOps;

import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * The side effects a command may use, handed to every command through its constructor. Tests build one with a
 * fixed environment; {@link Main} builds the real one.
 *
 * @param workDir   where relative paths and defaults (the {@code archives/} store) are resolved
 * @param docker    the engine, created only when a command needs it
 * @param devImages how developer images are obtained, given the engine and the cache directory
 */
public record Context(Environment env, FileOps fileOps, ArchiveLimits limits, Path workDir, String toolVersion,
                      Supplier<Docker> docker, DevImages.Factory devImages) {

    /** A context without Docker: for tests and commands that never build. */
    public Context(Environment env, FileOps fileOps, ArchiveLimits limits, Path workDir, String toolVersion) {
        this(env, fileOps, limits, workDir, toolVersion, () -> {
            throw new IllegalStateException("no Docker in this context");
        }, (d, c, r, dl) -> {
            throw new IllegalStateException("no developer images in this context");
        });
    }

    /** The default archive store: {@code $COREZFS_ARCHIVE_DIR}, else {@code archives/} in the working directory. */
    public Path defaultArchiveDir() {
        return env.getenv("COREZFS_ARCHIVE_DIR").map(Path::of).orElse(workDir.resolve("archives"));
    }

    public Path resolve(Path p) {
        return workDir.resolve(p);
    }

    /** A downloader that reports progress the way the operator's terminal can show it. */
    public Downloader downloader(Reporter reporter) {
        return new Downloader(Downloader.defaultClient(), new ConsoleProgress(reporter, System.console() != null));
    }
}
