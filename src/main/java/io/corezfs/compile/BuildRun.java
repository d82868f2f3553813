package io.corezfs.compile;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Reporter;
import io.corezfs.archive.ArchivePaths;
import io.corezfs.docker.Docker;
import io.corezfs.host.Environment;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * One compile of OpenZFS in a throwaway container of the developer image: source and script copied in, no
 * network, output copied out. The container carries the label {@code corezfs.build} so one left by a crashed or
 * killed run is removed at the next start; this run's own container is removed on success, failure and Ctrl-C.
 */
public final class BuildRun {
    public static final String LABEL = "corezfs.build";
    private static final String SCRIPT = "/io/corezfs/compile/build-zfs.sh";

    private final Docker docker;
    private final Reporter reporter;
    private final Environment env;

    /** Who runs a build: host name, PID and the process's start time, so a PID reused later is not mistaken. */
    public static final String OWNER_LABEL = "corezfs.build.owner";

    private final String owner;
    private final Predicate<String> ownerAlive;

    /** @param env this machine's host name, and the exit hook that removes the container when the JVM is ended */
    public BuildRun(Docker docker, Reporter reporter, Environment env) {
        this(docker, reporter, env, owner(env.hostName()), o -> isAlive(o, env.hostName()));
    }

    /**
     * @param owner      this run's owner token, as {@link #owner(String)} makes it
     * @param ownerAlive whether the run owning a container is still going; only containers of dead runs are removed
     */
    BuildRun(Docker docker, Reporter reporter, Environment env, String owner, Predicate<String> ownerAlive) {
        this.docker = docker;
        this.reporter = reporter;
        this.env = env;
        this.owner = owner;
        this.ownerAlive = ownerAlive;
    }

    /** The owner token of this process on {@code host}. */
    static String owner(String host) {
        ProcessHandle me = ProcessHandle.current();
        return host + ":" + me.pid() + ":"
                + me.info().startInstant().map(i -> i.toEpochMilli()).orElse(0L);
    }

    /**
     * A container is left over when the build that made it is gone: same host and no process with that PID and start
     * time. A container of another host (a shared engine) is never judged from here.
     */
    static boolean isAlive(String owner, String host) {
        String[] f = owner == null ? new String[0] : owner.split(":");
        if (f.length != 3 || !f[0].equals(host)) {
            return f.length == 3; // another host's build: not ours to remove; a container without an owner is stale
        }
        try {
            long pid = Long.parseLong(f[1]);
            long start = Long.parseLong(f[2]);
            return ProcessHandle.of(pid)
                    .map(h -> h.info().startInstant().map(i -> i.toEpochMilli()).orElse(0L) == start)
                    .orElse(false);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /**
     * @param sources  the release tarball (and SPL's, before 0.8), copied in as zfs.tar.gz / spl.tar.gz
     * @param topDir   the tarball's top directory, e.g. {@code zfs-2.1.11}
     * @param epoch    SOURCE_DATE_EPOCH for the compile, so its outputs do not depend on the day
     * @param log      where the full build output goes
     * @param outDir   receives {@code destdir/}, {@code syslibs/}, {@code build.env}; must not exist
     */
    public void run(
            String image,
            String kernel,
            List<Path> sources,
            String topDir,
            long epoch,
            int jobs,
            Path log,
            Path outDir) {
        docker.ping();
        for (Map.Entry<String, Map<String, String>> c :
                docker.containersLabelled(LABEL).entrySet()) {
            // A build running beside this one (another shell, a CI job) owns its container: only a dead run's goes.
            if (ownerAlive.test(c.getValue().get(OWNER_LABEL))) {
                continue;
            }
            String stale = c.getKey();
            reporter.info("removing container " + stale.substring(0, Math.min(12, stale.length()))
                    + " left by an interrupted build");
            docker.remove(stale);
        }
        String id = UUID.randomUUID().toString();
        Map<String, String> env = new LinkedHashMap<>();
        env.put("KERNEL", kernel);
        env.put("ZFS_TOP", topDir);
        env.put("JOBS", String.valueOf(jobs));
        env.put("SOURCE_DATE_EPOCH", String.valueOf(epoch));
        String container = docker.create(new Docker.ContainerSpec(
                image,
                List.of("/bin/bash", "/corezfs/in/build-zfs.sh"),
                Map.of(LABEL, id, OWNER_LABEL, owner),
                "none",
                env,
                "/corezfs"));
        Runnable withdrawCleanup = this.env.onExit("corezfs-build-cleanup", () -> docker.remove(container));
        try {
            docker.copyInto(container, "/", inputs(sources, log.getParent()));
            docker.start(container);
            int code = follow(container, log);
            if (code != 0) {
                throw new CorezfsException(
                        ExitCode.BUILD_FAILED,
                        "the build failed (exit " + code + "); log: " + log + "\n" + tail(log, 30));
            }
            extract(docker.copyOut(container, "/corezfs/out"), outDir);
        } finally {
            docker.remove(container);
            withdrawCleanup.run();
        }
    }

    private int follow(String container, Path log) {
        try (BufferedWriter w = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
            return docker.follow(container, line -> {
                try {
                    w.write(line);
                    w.newLine();
                    if (line.startsWith("corezfs-build: ")) {
                        w.flush();
                        reporter.info(line.substring("corezfs-build: ".length()));
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            throw new CorezfsException(
                    ExitCode.BUILD_FAILED, "cannot write the build log " + log + ": " + e.getMessage());
        }
    }

    /** The last lines of the log, for the error message. */
    static String tail(Path log, int lines) {
        Deque<String> last = new ArrayDeque<>();
        try (var r = Files.newBufferedReader(log, StandardCharsets.UTF_8)) {
            String l;
            while ((l = r.readLine()) != null) {
                last.addLast(l);
                if (last.size() > lines) {
                    last.removeFirst();
                }
            }
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
        return String.join("\n", last);
    }

    /** A tar of /corezfs/in: the script and the sources. Written to a file: the engine wants its length. */
    private static InputStream inputs(List<Path> sources, Path scratch) {
        try {
            Path tar = Files.createTempFile(scratch, "inputs", ".tar");
            try (OutputStream out = Files.newOutputStream(tar);
                    TarArchiveOutputStream t = new TarArchiveOutputStream(out)) {
                t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                byte[] script;
                try (InputStream in = BuildRun.class.getResourceAsStream(SCRIPT)) {
                    script = in.readAllBytes();
                }
                add(t, "corezfs/in/build-zfs.sh", 0755, script.length, new java.io.ByteArrayInputStream(script));
                for (int i = 0; i < sources.size(); i++) {
                    Path s = sources.get(i);
                    try (InputStream in = Files.newInputStream(s)) {
                        add(t, "corezfs/in/" + (i == 0 ? "zfs.tar.gz" : "spl.tar.gz"), 0644, Files.size(s), in);
                    }
                }
            }
            return new java.io.FilterInputStream(Files.newInputStream(tar)) {
                @Override
                public void close() throws IOException {
                    super.close();
                    Files.deleteIfExists(tar);
                }
            };
        } catch (IOException e) {
            throw new CorezfsException(ExitCode.BUILD_FAILED, "cannot prepare the build inputs: " + e.getMessage());
        }
    }

    private static void add(TarArchiveOutputStream t, String name, int mode, long size, InputStream in)
            throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(mode);
        e.setSize(size);
        t.putArchiveEntry(e);
        in.transferTo(t);
        t.closeArchiveEntry();
    }

    /**
     * Unpacks the container's output. It comes from a compile we started, but it is still checked by the rules every
     * tar corezfs unpacks follows ({@link ArchivePaths#whyNotCanonical}): canonical relative names only, no devices,
     * nothing written through a link, and a hard link only to a file this output already brought.
     */
    static void extract(InputStream tarStream, Path outDir) {
        try (InputStream in = tarStream;
                TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            Files.createDirectories(outDir);
            Path base = outDir.toRealPath();
            Set<String> files = new HashSet<>();
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                String name = e.getName();
                // The copy API names entries after the copied directory: out/destdir/...
                String rel = relative(name);
                if (rel.isEmpty()) {
                    continue;
                }
                Path p = base.resolve(rel);
                for (Path a = p.getParent(); a != null && !a.equals(base); a = a.getParent()) {
                    if (Files.isSymbolicLink(a)) {
                        throw new CorezfsException(
                                ExitCode.BUILD_FAILED,
                                "build output writes through a link: " + ArchivePaths.printable(name));
                    }
                }
                if (e.isDirectory()) {
                    Files.createDirectories(p);
                } else if (e.isSymbolicLink()) {
                    Files.createDirectories(p.getParent());
                    Files.createSymbolicLink(p, Path.of(e.getLinkName()));
                } else if (e.isLink()) {
                    String target = relative(e.getLinkName());
                    if (!files.contains(target)) {
                        throw new CorezfsException(
                                ExitCode.BUILD_FAILED,
                                "build output has an unsafe link: "
                                        + ArchivePaths.printable(name) + " (a hard link to '"
                                        + ArchivePaths.printable(e.getLinkName())
                                        + "', which is not a file it brought before)");
                    }
                    Files.createDirectories(p.getParent());
                    Files.createLink(p, base.resolve(target));
                    files.add(rel);
                } else if (e.isFile()) {
                    Files.createDirectories(p.getParent());
                    Files.copy(tar, p, StandardCopyOption.REPLACE_EXISTING);
                    files.add(rel);
                } else {
                    throw new CorezfsException(ExitCode.BUILD_FAILED, "build output has a special file: " + name);
                }
                if (!e.isSymbolicLink()) {
                    Files.setPosixFilePermissions(p, io.corezfs.archive.Modes.perms(e.getMode() & 0777));
                }
            }
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("No space left on device")) {
                throw new CorezfsException(
                        ExitCode.PRECONDITION, "disk full while copying the build output to " + outDir);
            }
            throw new CorezfsException(ExitCode.BUILD_FAILED, "cannot copy the build output: " + e.getMessage());
        }
        if (!Files.isDirectory(outDir.resolve("destdir"), LinkOption.NOFOLLOW_LINKS)) {
            throw new CorezfsException(ExitCode.BUILD_FAILED, "the build produced no install tree");
        }
    }

    /** An entry's name below the copied directory, checked; empty for that directory itself. */
    private static String relative(String name) {
        String n = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
        Optional<String> why = ArchivePaths.whyNotCanonical(n);
        if (why.isPresent()) {
            throw new CorezfsException(
                    ExitCode.BUILD_FAILED,
                    "build output has an unsafe entry: " + ArchivePaths.printable(name) + " (" + why.get() + ")");
        }
        int slash = n.indexOf('/');
        return slash < 0 ? "" : n.substring(slash + 1);
    }
}
