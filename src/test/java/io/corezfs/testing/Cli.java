package io.corezfs.testing;

import io.corezfs.archive.ArchiveLimits;
import io.corezfs.cli.Context;
import io.corezfs.cli.Main;
import io.corezfs.host.Environment;
import io.corezfs.install.FileOps;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine;

/**
 * Runs the real command line in-process with captured stdout/stderr and a fixed environment, so every test goes
 * through option parsing, the exit-code handler and the writers exactly as a user would.
 */
public final class Cli {
    private final Path workDir;
    private final Map<String, String> env = new HashMap<>();
    private FileOps fileOps = FileOps.DEFAULT;
    private ArchiveLimits limits = ArchiveLimits.DEFAULT;
    private Context.Live live = Context.Live.NONE;
    private boolean everyCommand;
    private io.corezfs.fleet.Ssh.Factory ssh;
    private java.util.function.Supplier<io.corezfs.docker.Docker> docker;

    public Cli(Path workDir) {
        this.workDir = workDir;
    }

    public Cli env(String name, String value) {
        env.put(name, value);
        return this;
    }

    public Cli fileOps(FileOps ops) {
        this.fileOps = ops;
        return this;
    }

    public Cli limits(ArchiveLimits limits) {
        this.limits = limits;
        return this;
    }

    /** Commands that act on the running host act on {@code root} through {@code system} instead. */
    public Cli live(Path root, io.corezfs.system.LiveSystem system) {
        this.live = new Context.Live(root, system, java.util.Optional.of(Path.of("/opt/corezfs-tool/bin/corezfs")));
        return this;
    }

    /** Nodes are reached through {@code factory} (a {@link FakeSsh}). */
    public Cli ssh(io.corezfs.fleet.Ssh.Factory factory) {
        this.ssh = factory;
        return this;
    }

    /** Builds go through {@code engine} (a {@link FakeDocker}). */
    public Cli docker(io.corezfs.docker.Docker engine) {
        this.docker = () -> engine;
        return this;
    }

    /** Runs on the command line with every command built, as help and completion see it, not only the one named. */
    public Cli everyCommand() {
        this.everyCommand = true;
        return this;
    }

    public Run run(String... args) {
        Context ctx = new Context(
                        Environment.of(
                                env, "x86_64", Clock.fixed(Instant.parse("2026-11-25T00:00:00Z"), ZoneOffset.UTC)),
                        fileOps,
                        limits,
                        workDir,
                        "0.0.0-test")
                .withLive(live);
        if (ssh != null) {
            ctx = ctx.withSsh(ssh);
        }
        if (docker != null) {
            ctx = ctx.withDocker(docker);
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = everyCommand ? Main.commandLine(ctx) : Main.commandLine(ctx, args);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** What one invocation produced. */
    public record Run(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }
}
