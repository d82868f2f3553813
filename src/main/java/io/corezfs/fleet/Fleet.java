package io.corezfs.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.JsonMapping;
import io.corezfs.Reporter;
import io.corezfs.host.HostDetector;
import io.corezfs.host.HostFacts;
import io.corezfs.system.ProcessResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A rollout over SSH: learn every node's target, find one archive per target, then run the action on the nodes,
 * canaries first, then at most {@code parallel} at a time, starting no new node once the failures pass the budget.
 * Nothing is installed on a node until its files are there whole and verified.
 */
public final class Fleet {
    public enum Action {
        INSTALL,
        PREPARE,
        STATUS,
        UNINSTALL;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public enum Result {
        /** The action succeeded. */
        OK,
        /** {@code --resume}: done before with the same archive. */
        SKIPPED,
        FAILED,
        /** Held back: a canary failed, or the failure budget was spent. */
        NOT_STARTED,
        /** {@code --dry-run}: what a real run would do. */
        PLANNED
    }

    /**
     * The archive a target gets, as the admin machine has it.
     *
     * @param sha256Of the file's sha256, which may still be being computed: a push to a node that has none of it asks
     *                 for it only once the bytes are sent
     */
    public record Chosen(
            Path file,
            String storeName,
            java.util.function.Supplier<String> sha256Of,
            Optional<Path> sig,
            Optional<String> sigSha256) {
        public Chosen(Path file, String storeName, String sha256, Optional<Path> sig, Optional<String> sigSha256) {
            this(file, storeName, () -> sha256, sig, sigSha256);
        }

        public String sha256() {
            return sha256Of.get();
        }
    }

    /** Finds (or refuses, with the reason) the archive for one target; asked once per target. */
    @FunctionalInterface
    public interface Archives {
        Chosen find(HostFacts target, boolean dryRun);
    }

    /**
     * @param root          where the nodes' host trees are: {@code /}, or an image root on each node
     * @param bundle        the self-contained bundle, pushed to nodes that lack its corezfs version
     * @param toolVersion   the corezfs version the nodes must run: the bundle's, else this tool's
     * @param actionArgs    passed to the remote command as they are ({@code --mode sysext}, {@code --export})
     * @param stateFile     where each host's outcome is kept for {@code --resume}
     */
    public record Request(
            Action action,
            List<SshTarget> hosts,
            String root,
            Optional<Bundle> bundle,
            String toolVersion,
            int parallel,
            int canary,
            Budget budget,
            boolean resume,
            boolean dryRun,
            Duration commandTimeout,
            List<String> actionArgs,
            Path stateFile) {
        public Request {
            hosts = List.copyOf(hosts);
            actionArgs = List.copyOf(actionArgs);
        }
    }

    /** The bundle file and what its name says. */
    public record Bundle(Path file, String version) {
        private static final Pattern NAME =
                Pattern.compile("corezfs-([0-9A-Za-z.+~-]{1,64})-linux-[a-z0-9_]+\\.tar\\.gz");

        public static String versionOf(Path file) {
            Matcher m = NAME.matcher(file.getFileName().toString());
            if (!m.matches()) {
                throw new CorezfsException(
                        ExitCode.USAGE,
                        "--bundle: " + file.getFileName()
                                + " is not named corezfs-<version>-linux-<arch>.tar.gz, as mvn package makes it");
            }
            return m.group(1);
        }
    }

    /**
     * One host's line in the report.
     *
     * @param reached whether the action began on the host (it was reached and planned); the exit code tells "none
     *                could start" from "some failed" by it
     */
    public record HostReport(
            String host,
            String target,
            String archive,
            Result result,
            Duration took,
            String error,
            long bytesSent,
            boolean reached,
            Map<String, Object> status) {}

    public record Report(Action action, boolean dryRun, List<HostReport> hosts) {
        public long count(Result r) {
            return hosts.stream().filter(h -> h.result() == r).count();
        }

        /** 0 all succeeded (or were done before); 3 none could start; 7 some failed or were held back. */
        public int exitCode() {
            long ok = count(Result.OK) + count(Result.SKIPPED) + count(Result.PLANNED);
            if (ok == hosts.size()) {
                return ExitCode.OK.code();
            }
            boolean anyReached = hosts.stream()
                    .anyMatch(h -> h.reached() || h.result() == Result.SKIPPED || h.result() == Result.PLANNED);
            return anyReached ? ExitCode.FLEET_PARTIAL.code() : ExitCode.PRECONDITION.code();
        }
    }

    private static final String NODE_STORE = "/var/lib/corezfs/archives";
    private static final String INCOMING = "/var/lib/corezfs/incoming";
    /** $1 the bundle, $2 the directory it goes into, $3 its top directory (corezfs-VERSION). */
    private static final String UNPACK = "set -e; mkdir -p \"$2\"; t=$(mktemp -d \"$2/.corezfs-unpack.XXXXXX\");"
            + " trap 'rm -rf \"$t\"' EXIT; tar -xzf \"$1\" -C \"$t\"; test -x \"$t/$3/bin/corezfs\";"
            + " if [ -e \"$2/$3\" ]; then rm -rf \"$2/.$3.old\"; mv \"$2/$3\" \"$2/.$3.old\"; fi;"
            + " mv \"$t/$3\" \"$2/$3\"; rm -rf \"$2/.$3.old\"";

    private final Ssh ssh;
    private final HostDetector detector;
    private final Archives archives;
    private final Reporter live;

    public Fleet(Ssh ssh, HostDetector detector, Archives archives, Reporter live) {
        this.ssh = ssh;
        this.detector = detector;
        this.archives = archives;
        this.live = live;
    }

    /** A host between planning and its action. */
    private record Planned(SshTarget host, HostFacts facts, String targetKey, boolean toolPresent) {}

    public Report run(Request r) {
        // The hosts that act as soon as planning ends (the canaries, else the first round of `parallel`) keep their
        // facts session for the action, so they connect and authenticate once. The others connect again when their
        // turn comes: no connection idles through a canary's install, and a large inventory keeps no more open than
        // one round uses.
        Map<String, Ssh.Session> kept = new java.util.concurrent.ConcurrentHashMap<>();
        FleetState state = r.resume() ? FleetState.read(r.stateFile()) : FleetState.empty();
        // Taken before any node is reached: a state file this run cannot keep stops it while nothing has changed.
        try (FleetState.Writer writer =
                r.dryRun() || r.action() == Action.STATUS ? null : FleetState.Writer.open(r.stateFile(), state)) {
            return run(r, state, writer, kept);
        } finally {
            kept.values().forEach(Ssh.Session::close);
        }
    }

    private Report run(Request r, FleetState state, FleetState.Writer writer, Map<String, Ssh.Session> kept) {
        java.util.Set<String> keep = new java.util.HashSet<>();
        int first = r.canary() > 0 ? Math.min(r.canary(), r.parallel()) : r.parallel();
        r.hosts().stream().limit(Math.max(1, first)).forEach(h -> keep.add(h.name()));
        Map<String, HostReport> done = Collections.synchronizedMap(new LinkedHashMap<>());
        List<Planned> planned = Collections.synchronizedList(new ArrayList<>());
        String tool = "/opt/corezfs-" + r.toolVersion() + "/bin/corezfs";

        // 1. Facts, in parallel: connecting is where dead hosts and bad keys show, and it costs no node anything.
        forEach(r.hosts(), r.parallel(), h -> {
            long t0 = System.nanoTime();
            line(h, "connecting to " + h.address());
            try {
                Ssh.Session s = ssh.connect(h);
                boolean handedOver = false;
                try {
                    RemoteNode node = new RemoteNode(s, h, r.commandTimeout());
                    RemoteNode.Detected d = node.detect(detector, r.root(), tool);
                    if (!r.dryRun() && keep.contains(h.name())) {
                        kept.put(h.name(), s);
                        handedOver = true;
                    }
                    planned.add(new Planned(h, d.facts(), targetKey(d.facts()), d.toolPresent()));
                    line(
                            h,
                            "is " + targetKey(d.facts())
                                    + (d.toolPresent() ? "" : ", without corezfs " + r.toolVersion()));
                } finally {
                    if (!handedOver) {
                        s.close();
                    }
                }
            } catch (CorezfsException e) {
                fail(done, h, "-", "-", t0, e, 0, false);
            }
        });

        // 2. One archive per target, looked up once however many hosts share it.
        Map<String, Chosen> chosen = new LinkedHashMap<>();
        Map<String, String> refused = new LinkedHashMap<>();
        boolean needsArchive = r.action() == Action.INSTALL || r.action() == Action.PREPARE;
        List<Planned> inOrder = order(r.hosts(), planned);
        if (needsArchive) {
            for (Planned p : inOrder) {
                if (chosen.containsKey(p.targetKey()) || refused.containsKey(p.targetKey())) {
                    continue;
                }
                try {
                    chosen.put(p.targetKey(), archives.find(p.facts(), r.dryRun()));
                } catch (CorezfsException e) {
                    refused.put(p.targetKey(), e.getMessage());
                }
            }
        }
        List<Planned> runnable = new ArrayList<>();
        for (Planned p : inOrder) {
            String archive = Optional.ofNullable(chosen.get(p.targetKey()))
                    .map(Chosen::storeName)
                    .orElse("-");
            if (refused.containsKey(p.targetKey())) {
                done.put(
                        p.host().name(),
                        report(p, archive, Result.FAILED, Duration.ZERO, refused.get(p.targetKey()), 0, false));
                continue;
            }
            Chosen c = chosen.get(p.targetKey());
            if (r.resume()
                    && c != null
                    && state.doneWith(p.host().name(), r.action().label(), c.sha256())) {
                line(p.host(), "skipped: done with " + c.storeName() + " in an earlier run (--resume)");
                done.put(p.host().name(), report(p, archive, Result.SKIPPED, Duration.ZERO, "", 0, false));
                continue;
            }
            if (r.dryRun()) {
                done.put(
                        p.host().name(),
                        report(p, archive, Result.PLANNED, Duration.ZERO, plannedAction(r, p), 0, false));
                continue;
            }
            runnable.add(p);
        }
        if (r.dryRun()) {
            return new Report(r.action(), true, ordered(r.hosts(), done));
        }

        // 3. The rollout: canaries alone, then the rest, no new host once the budget is spent.
        int allowed = r.budget().allowed(r.hosts().size());
        AtomicInteger failures = new AtomicInteger((int)
                done.values().stream().filter(h -> h.result() == Result.FAILED).count());
        int k = Math.min(r.canary(), runnable.size());
        List<Planned> canaries = runnable.subList(0, k);
        List<Planned> rest = runnable.subList(k, runnable.size());
        forEach(canaries, r.parallel(), p -> act(r, p, chosen.get(p.targetKey()), done, failures, writer, tool, kept));
        boolean canaryFailed =
                canaries.stream().anyMatch(p -> done.get(p.host().name()).result() == Result.FAILED);
        if (canaryFailed) {
            for (Planned p : rest) {
                done.put(
                        p.host().name(),
                        report(
                                p,
                                archiveName(chosen, p),
                                Result.NOT_STARTED,
                                Duration.ZERO,
                                "not started: a canary failed",
                                0,
                                false));
                line(p.host(), "not started: a canary failed");
            }
            return new Report(r.action(), false, ordered(r.hosts(), done));
        }
        forEach(rest, r.parallel(), p -> {
            Optional<String> lost = writer == null ? Optional.empty() : writer.broken();
            if (failures.get() > allowed || lost.isPresent()) {
                String why = lost.map(w -> "not started: " + w)
                        .orElse("not started: " + failures.get() + " failures passed --max-failures " + r.budget());
                done.put(
                        p.host().name(),
                        report(p, archiveName(chosen, p), Result.NOT_STARTED, Duration.ZERO, why, 0, false));
                line(p.host(), why);
                return;
            }
            act(r, p, chosen.get(p.targetKey()), done, failures, writer, tool, kept);
        });
        return new Report(r.action(), false, ordered(r.hosts(), done));
    }

    private static String archiveName(Map<String, Chosen> chosen, Planned p) {
        return Optional.ofNullable(chosen.get(p.targetKey()))
                .map(Chosen::storeName)
                .orElse("-");
    }

    private String plannedAction(Request r, Planned p) {
        List<String> steps = new ArrayList<>();
        if (!p.toolPresent() && r.action() != Action.STATUS && r.action() != Action.UNINSTALL) {
            steps.add(
                    r.bundle().isPresent()
                            ? "push bundle"
                            : "no corezfs " + r.toolVersion() + " there, and no --bundle");
        }
        switch (r.action()) {
            case INSTALL -> steps.add("push archive, install");
            case PREPARE -> steps.add("push archive");
            case STATUS -> steps.add("status");
            case UNINSTALL -> steps.add(r.actionArgs().contains("--export") ? "uninstall --export" : "uninstall");
        }
        return String.join(", ", steps);
    }

    /** The action on one host; every failure ends up in its report line, never thrown. */
    private void act(
            Request r,
            Planned p,
            Chosen archive,
            Map<String, HostReport> done,
            AtomicInteger failures,
            FleetState.Writer writer,
            String tool,
            Map<String, Ssh.Session> kept) {
        SshTarget h = p.host();
        long t0 = System.nanoTime();
        String archiveName = archive == null ? "-" : archive.storeName();
        long sent = 0;
        Ssh.Session facts = kept.remove(h.name());
        try (Ssh.Session s = facts != null ? facts : ssh.connect(h)) {
            RemoteNode node = new RemoteNode(s, h, r.commandTimeout());
            try {
                Map<String, Object> status = Map.of();
                if (r.action() == Action.INSTALL || r.action() == Action.PREPARE) {
                    ensureTool(r, p, node, tool);
                    String store = prefix(r.root()) + NODE_STORE;
                    // The signature first: an archive never sits in the store without the .sig it came with.
                    if (archive.sig().isPresent()) {
                        node.push(
                                archive.sig().get(),
                                store,
                                archive.storeName() + ".sig",
                                archive.sigSha256().get());
                    }
                    line(h, "pushing " + archive.storeName());
                    RemoteNode.Pushed pushed =
                            node.push(archive.file(), store, archive.storeName(), archive.sha256Of());
                    line(
                            h,
                            pushed.alreadyThere()
                                    ? "archive already there, verified"
                                    : "archive verified on the node (" + pushed.sent() + " bytes sent"
                                            + (pushed.resumedFrom() > 0
                                                    ? ", resumed after " + pushed.resumedFrom()
                                                    : "")
                                            + ")");
                    if (r.action() == Action.INSTALL) {
                        line(h, "installing");
                        List<String> argv = new ArrayList<>(List.of(tool, "install", "--archive", pushed.remotePath()));
                        rootArgs(r, argv);
                        argv.addAll(r.actionArgs());
                        require(node.sudo(argv, r.commandTimeout()), h, "corezfs install");
                    }
                } else if (r.action() == Action.STATUS) {
                    List<String> argv = new ArrayList<>(List.of(tool, "status", "--json"));
                    rootArgs(r, argv);
                    ProcessResult res = node.sudo(argv, r.commandTimeout());
                    require(res, h, "corezfs status");
                    status = statusOf(h, res.stdout());
                } else {
                    List<String> argv = new ArrayList<>(List.of(tool, "uninstall"));
                    rootArgs(r, argv);
                    argv.addAll(r.actionArgs());
                    require(node.sudo(argv, r.commandTimeout()), h, "corezfs uninstall");
                }
                sent = node.bytesSent();
                Duration took = Duration.ofNanos(System.nanoTime() - t0);
                done.put(h.name(), report(p, archiveName, Result.OK, took, "", sent, true, status));
                record(r, writer, h, archive, archiveName, "ok");
                line(h, "ok in " + seconds(took));
            } catch (CorezfsException e) {
                sent = node.bytesSent();
                throw e;
            }
        } catch (CorezfsException e) {
            failures.incrementAndGet();
            fail(done, h, p.targetKey(), archiveName, t0, e, sent, true);
            record(r, writer, h, archive, archiveName, "failed");
        } catch (RuntimeException e) {
            failures.incrementAndGet();
            fail(
                    done,
                    h,
                    p.targetKey(),
                    archiveName,
                    t0,
                    new CorezfsException(ExitCode.UNEXPECTED, h.name() + ": " + e),
                    sent,
                    true);
        }
    }

    /**
     * A node's outcome, for {@code --resume}. {@code status} changes nothing, so it has nothing to resume, and it must
     * not replace the record of the install it may be looking at in the middle of (a status between a cut install and
     * its {@code --resume} made every node look not done).
     */
    private static void record(
            Request r, FleetState.Writer writer, SshTarget h, Chosen archive, String archiveName, String result) {
        if (writer != null) {
            writer.record(h.name(), r.action().label(), archive == null ? "" : archive.sha256(), archiveName, result);
        }
    }

    /** Hashed once, and only when some node lacks the bundle's version: a bundle is tens of megabytes. */
    private synchronized String bundleSha256(Bundle b) {
        if (bundleSha256 == null) {
            try {
                bundleSha256 = io.corezfs.trust.Hashes.sha256(b.file());
            } catch (java.io.IOException e) {
                throw CorezfsException.precondition("cannot read " + b.file() + ": " + e.getMessage());
            }
        }
        return bundleSha256;
    }

    private String bundleSha256;

    private void ensureTool(Request r, Planned p, RemoteNode node, String tool) {
        if (p.toolPresent()) {
            return;
        }
        Bundle b = r.bundle()
                .orElseThrow(() -> new CorezfsException(
                        ExitCode.PRECONDITION,
                        p.host().name() + ": has no corezfs " + r.toolVersion() + " (" + tool
                                + "); pass --bundle FILE to push it"));
        String name = b.file().getFileName().toString();
        line(p.host(), "pushing the bundle " + name);
        RemoteNode.Pushed pushed = node.push(b.file(), INCOMING, name, () -> bundleSha256(b));
        // Unpacked beside its place and renamed into it, so a cut leaves no half tree that the next run's probe would
        // take for an installed tool; a tree left by an older cut is replaced.
        require(
                node.sudo(
                        List.of("sh", "-c", UNPACK, "sh", pushed.remotePath(), "/opt", "corezfs-" + r.toolVersion()),
                        r.commandTimeout()),
                p.host(),
                "unpacking the bundle");
        require(node.sudo(List.of(tool, "--version"), r.commandTimeout()), p.host(), "the pushed corezfs");
        // Unpacked and working: its 60 MB have no use left in /var on every node.
        require(
                node.sudo(List.of("rm", "-f", "--", pushed.remotePath()), r.commandTimeout()),
                p.host(),
                "removing the pushed bundle");
    }

    private static void rootArgs(Request r, List<String> argv) {
        if (!r.root().equals("/")) {
            argv.add("--root");
            argv.add(r.root());
        }
    }

    private static void require(ProcessResult res, SshTarget h, String what) {
        if (!res.ok()) {
            throw new CorezfsException(
                    ExitCode.PRECONDITION, h.name() + ": " + what + " failed (" + RemoteNode.oneLine(res) + ")");
        }
    }

    /** The fields of {@code corezfs status --json} the report shows; the node's answer is parsed strictly. */
    static Map<String, Object> statusOf(SshTarget h, String json) {
        JsonNode n;
        try {
            // A node's output is untrusted: one document, no key given twice, nothing after it.
            n = JsonMapping.newStrictReader().readTree(json);
        } catch (java.io.IOException e) {
            throw new CorezfsException(
                    ExitCode.PRECONDITION,
                    h.name() + ": corezfs status --json is not JSON: "
                            + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
        if (n == null || !n.isObject()) {
            throw new CorezfsException(ExitCode.PRECONDITION, h.name() + ": corezfs status --json is not an object");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("os", text(n.get("os")));
        out.put("version", text(n.get("version")));
        out.put("kernel", text(n.get("kernel")));
        JsonNode inst = n.get("installed");
        out.put("installed", inst == null || inst.isNull() ? null : text(inst.get("archive")));
        out.put("zfsVersion", inst == null || inst.isNull() ? null : text(inst.get("zfsVersion")));
        JsonNode l = n.get("live");
        if (l != null && l.isObject()) {
            out.put("mode", text(l.get("mode")));
            out.put("active", l.path("active").isBoolean() && l.path("active").booleanValue());
            out.put(
                    "moduleLoaded",
                    l.path("moduleLoaded").isBoolean() && l.path("moduleLoaded").booleanValue());
            out.put("kmodVersion", text(l.get("kmodVersion")));
            List<Map<String, String>> pools = new ArrayList<>();
            for (JsonNode p : l.path("pools")) {
                pools.add(Map.of(
                        "name", String.valueOf(text(p.get("name"))), "health", String.valueOf(text(p.get("health")))));
            }
            out.put("pools", pools);
        }
        return out;
    }

    private static String text(JsonNode n) {
        return n == null || n.isNull() ? null : io.corezfs.Text.printable(n.asText(), 120);
    }

    private static String prefix(String root) {
        return root.equals("/") ? "" : root.replaceAll("/+$", "");
    }

    static String targetKey(HostFacts f) {
        return f.os() + " " + f.version() + " " + f.board() + " " + f.kernel();
    }

    private static HostReport report(
            Planned p, String archive, Result result, Duration took, String error, long sent, boolean reached) {
        return report(p, archive, result, took, error, sent, reached, Map.of());
    }

    private static HostReport report(
            Planned p,
            String archive,
            Result result,
            Duration took,
            String error,
            long sent,
            boolean reached,
            Map<String, Object> status) {
        return new HostReport(p.host().name(), p.targetKey(), archive, result, took, error, sent, reached, status);
    }

    private void fail(
            Map<String, HostReport> done,
            SshTarget h,
            String target,
            String archive,
            long t0,
            CorezfsException e,
            long sent,
            boolean reached) {
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        String msg = e.getMessage() == null
                ? e.toString()
                : e.getMessage().lines().findFirst().orElse("");
        done.put(
                h.name(), new HostReport(h.name(), target, archive, Result.FAILED, took, msg, sent, reached, Map.of()));
        line(h, "FAILED: " + msg);
    }

    private void line(SshTarget h, String msg) {
        live.info(h.name() + ": " + msg);
    }

    private static String seconds(Duration d) {
        return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    private static List<Planned> order(List<SshTarget> hosts, List<Planned> planned) {
        List<Planned> out = new ArrayList<>();
        for (SshTarget h : hosts) {
            planned.stream()
                    .filter(p -> p.host().name().equals(h.name()))
                    .findFirst()
                    .ifPresent(out::add);
        }
        return out;
    }

    private static List<HostReport> ordered(List<SshTarget> hosts, Map<String, HostReport> done) {
        List<HostReport> out = new ArrayList<>();
        for (SshTarget h : hosts) {
            HostReport rep = done.get(h.name());
            if (rep != null) {
                out.add(rep);
            }
        }
        return out;
    }

    /** Runs {@code task} for each item, at most {@code parallel} at a time, in order of the list; waits for all. */
    private static <T> void forEach(List<T> items, int parallel, java.util.function.Consumer<T> task) {
        if (items.isEmpty()) {
            return;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(parallel, items.size())), r -> {
            Thread t = new Thread(r, "fleet");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (T item : items) {
                fs.add(pool.submit(() -> task.accept(item)));
            }
            for (Future<?> f : fs) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IllegalStateException(e.getCause());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CorezfsException(ExitCode.UNEXPECTED, "interrupted");
        } finally {
            pool.shutdownNow();
            try {
                pool.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
