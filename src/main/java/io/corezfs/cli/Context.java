package io.corezfs.cli;

import io.corezfs.Reporter;
import io.corezfs.activation.LiveInstaller;
import io.corezfs.archive.ArchiveLimits;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.devcontainer.DevImages;
import io.corezfs.docker.Docker;
import io.corezfs.fleet.Ssh;
import io.corezfs.host.Environment;
import io.corezfs.install.FileOps;
import io.corezfs.install.RootInstaller;
import io.corezfs.net.Downloader;
import io.corezfs.system.LiveSystem;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The side effects a command may use, handed to every command through its constructor. Tests build one with a
 * fixed environment; {@link Main} builds the real one.
 *
 * @param workDir   where relative paths and defaults (the {@code archives/} store) are resolved
 * @param docker    the engine, created only when a command needs it
 * @param devImages how developer images are obtained, given the engine and the cache directory
 * @param ssh       how fleet reaches nodes
 */
public record Context(
        Environment env,
        FileOps fileOps,
        ArchiveLimits limits,
        Path workDir,
        String toolVersion,
        Supplier<Docker> docker,
        DevImages.Factory devImages,
        Live live,
        Ssh.Factory ssh) {

    /**
     * The running host, for commands that change it live.
     *
     * @param root     its root directory: {@code /}, or a temporary tree in tests
     * @param launcher this tool's launcher script, if started through one (a staged upgrade runs it at boot)
     */
    public record Live(Path root, LiveSystem system, Optional<Path> launcher) {
        /** A host on which nothing live may happen: every command that tries fails its root check. */
        public static final Live NONE = new Live(
                Path.of("/nonexistent-live-root"),
                new LiveSystem() {
                    @Override
                    public int effectiveUid() {
                        return -1;
                    }

                    @Override
                    public Result run(java.util.List<String> command) {
                        return new Result(127, "no live system in this context");
                    }
                },
                Optional.empty());
    }

    /** A context that reaches no node over SSH. */
    public Context(
            Environment env,
            FileOps fileOps,
            ArchiveLimits limits,
            Path workDir,
            String toolVersion,
            Supplier<Docker> docker,
            DevImages.Factory devImages,
            Live live) {
        this(env, fileOps, limits, workDir, toolVersion, docker, devImages, live, NO_SSH);
    }

    private static final Ssh.Factory NO_SSH = settings -> {
        throw new IllegalStateException("no SSH in this context");
    };

    /** A context without Docker or a live host: for tests and commands that never build. */
    public Context(Environment env, FileOps fileOps, ArchiveLimits limits, Path workDir, String toolVersion) {
        this(
                env,
                fileOps,
                limits,
                workDir,
                toolVersion,
                () -> {
                    throw new IllegalStateException("no Docker in this context");
                },
                (d, c, r, dl) -> {
                    throw new IllegalStateException("no developer images in this context");
                },
                Live.NONE,
                NO_SSH);
    }

    public Context withLive(Live l) {
        return new Context(env, fileOps, limits, workDir, toolVersion, docker, devImages, l, ssh);
    }

    /** The same context, building through {@code engine}: tests put a fake Docker here. */
    public Context withDocker(Supplier<Docker> engine) {
        return new Context(env, fileOps, limits, workDir, toolVersion, engine, devImages, live, ssh);
    }

    /** The same context, reaching nodes through {@code factory}: tests put a fake SSH here. */
    public Context withSsh(Ssh.Factory factory) {
        return new Context(env, fileOps, limits, workDir, toolVersion, docker, devImages, live, factory);
    }

    /** The default archive store: {@code $COREZFS_ARCHIVE_DIR}, else {@code archives/} in the working directory. */
    public Path defaultArchiveDir() {
        return env.getenv("COREZFS_ARCHIVE_DIR")
                .map(Context::archiveDirFromEnv)
                .map(workDir::resolve)
                .orElse(workDir.resolve("archives"));
    }

    /** Checked like an option: an empty value would otherwise silently mean the current directory. */
    private static Path archiveDirFromEnv(String value) {
        if (value.isBlank()) {
            throw new io.corezfs.CorezfsException(
                    io.corezfs.ExitCode.USAGE,
                    "COREZFS_ARCHIVE_DIR is set but empty;" + " unset it or name a directory");
        }
        try {
            return new OptionValues.AnyPath().convert(value);
        } catch (picocli.CommandLine.TypeConversionException e) {
            throw new io.corezfs.CorezfsException(io.corezfs.ExitCode.USAGE, "COREZFS_ARCHIVE_DIR: " + e.getMessage());
        }
    }

    public Path resolve(Path p) {
        return workDir.resolve(p);
    }

    /** The file transaction on any root, as install and uninstall use it. */
    public RootInstaller rootInstaller(Reporter reporter) {
        return new RootInstaller(new ArchiveReader(limits), fileOps, reporter, env.clock(), toolVersion);
    }

    /** The live host's installer over {@code files}: activation, verification, rollback. */
    public LiveInstaller liveInstaller(RootInstaller files, Reporter reporter) {
        return new LiveInstaller(
                live.root(), live.system(), files, new ArchiveReader(limits), reporter, live.launcher());
    }

    /** A downloader that reports progress the way the operator's terminal can show it. */
    public Downloader downloader(Reporter reporter) {
        return downloader(reporter, Downloader.Limits.DEFAULT);
    }

    public Downloader downloader(Reporter reporter, Downloader.Limits limits) {
        return new Downloader(Downloader.client(limits), new ConsoleProgress(reporter, env.terminal()), limits);
    }
}
