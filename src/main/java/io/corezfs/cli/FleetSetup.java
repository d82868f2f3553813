package io.corezfs.cli;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Reporter;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.archive.Manifest;
import io.corezfs.archive.store.ArchiveLocator;
import io.corezfs.archive.store.ArchiveName;
import io.corezfs.archive.store.ArchiveStore;
import io.corezfs.fleet.Fleet;
import io.corezfs.fleet.Inventory;
import io.corezfs.fleet.JschSsh;
import io.corezfs.fleet.SshConfig;
import io.corezfs.fleet.SshSettings;
import io.corezfs.fleet.SshTarget;
import io.corezfs.host.HostDetector;
import io.corezfs.host.HostFacts;
import io.corezfs.host.RootFs;
import io.corezfs.net.Downloader;
import io.corezfs.trust.Hashes;
import io.corezfs.trust.SignedFile;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.FutureTask;

/** What `corezfs fleet` assembles before the run: the nodes, the SSH settings, the archive lookup; and the report. */
final class FleetSetup {
    private final Context ctx;
    private final Reporter reporter;
    private final int verbosity;

    FleetSetup(Context ctx, Reporter reporter, int verbosity) {
        this.ctx = ctx;
        this.reporter = reporter;
        this.verbosity = verbosity;
    }

    static Fleet.Action action(String a) {
        for (Fleet.Action x : Fleet.Action.values()) {
            if (x.label().equals(a)) {
                return x;
            }
        }
        throw new CorezfsException(
                ExitCode.USAGE,
                "fleet: unknown action '" + io.corezfs.Text.printable(a, 40)
                        + "'; expected install, prepare, status or uninstall");
    }

    private Path home() {
        return ctx.env().getenv("HOME").filter(h -> !h.isBlank()).map(Path::of).orElse(Path.of("/root"));
    }

    /** This machine as the inventory's key paths are read on it. */
    Inventory.Local local() {
        return new Inventory.Local(home(), ctx.workDir(), ctx.env()::getenv);
    }

    List<SshTarget> targets(
            List<String> hosts,
            Optional<Path> inventory,
            Optional<String> group,
            Optional<Path> sshConfigFile,
            Optional<Path> identity) {
        if (hosts.isEmpty() == inventory.isEmpty()) {
            throw new CorezfsException(
                    ExitCode.USAGE, "fleet: name the nodes as HOST... or with --hosts FILE, not both");
        }
        if (group.isPresent() && inventory.isEmpty()) {
            throw new CorezfsException(ExitCode.USAGE, "--group needs --hosts FILE (an Ansible inventory)");
        }
        List<Inventory.Declared> declared = new ArrayList<>();
        if (inventory.isPresent()) {
            Path f = ctx.resolve(inventory.get());
            declared.addAll(Inventory.parse(f, RootFs.readText(f, f.toString()), group));
        } else {
            for (int i = 0; i < hosts.size(); i++) {
                declared.add(Inventory.address(hosts.get(i), "HOST " + (i + 1)));
            }
        }
        Path cfg = sshConfigFile.map(ctx::resolve).orElse(home().resolve(".ssh/config"));
        SshConfig config = Files.isRegularFile(cfg)
                ? SshConfig.parse(cfg, RootFs.readText(cfg, cfg.toString()), home().resolve(".ssh"), SshConfig.files())
                : SshConfig.EMPTY;
        if (sshConfigFile.isPresent() && !Files.isRegularFile(cfg)) {
            throw new CorezfsException(ExitCode.USAGE, "--ssh-config: " + cfg + " is not a file");
        }
        List<SshTarget> out = new ArrayList<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        java.util.Map<String, SshTarget> nodes = new java.util.HashMap<>();
        for (Inventory.Declared d : declared) {
            if (!names.add(d.name())) {
                throw new CorezfsException(ExitCode.USAGE, d.source() + ": " + d.name() + " is named twice");
            }
            SshTarget t = Inventory.resolve(d, config, identity.map(ctx::resolve), local());
            // Two names for one node would run two installs on it at once, racing on the same partial files.
            SshTarget same = nodes.putIfAbsent(endpoint(t), t);
            if (same != null) {
                throw new CorezfsException(
                        ExitCode.USAGE,
                        t.source() + ": " + t.name() + " and " + same.name() + " (" + same.source()
                                + ") are the same node, " + endpoint(t) + "; name it once");
            }
            out.add(t);
        }
        return out;
    }

    /** Where a connection lands: the address and port, behind the jump host if there is one. */
    private static String endpoint(SshTarget t) {
        String here = t.hostPort().toLowerCase(java.util.Locale.ROOT);
        return t.jump().map(j -> endpoint(j) + " -> ").orElse("") + here;
    }

    SshSettings ssh(Optional<Path> knownHosts, boolean acceptNew, Duration connectTimeout) {
        return new SshSettings(
                knownHosts.map(ctx::resolve).orElse(home().resolve(".ssh/known_hosts")),
                acceptNew,
                connectTimeout,
                ctx.env().getenv("SSH_AUTH_SOCK").filter(s -> !s.isBlank()).map(Path::of),
                JschSsh.defaultIdentities(home()));
    }

    Fleet.Bundle bundle(Path file) {
        String version = Fleet.Bundle.versionOf(file);
        return new Fleet.Bundle(file, version);
    }

    HostDetector detector() {
        return new HostDetector(ctx.env());
    }

    /**
     * Each target's archive, found the way install finds one, on this machine; with {@code build}, one that is found
     * nowhere is built here, once for its target (Fleet asks once per target), into the first {@code --archive-dir}
     * or the archive store.
     */
    Fleet.Archives archives(
            Optional<Path> explicit,
            List<Path> dirs,
            List<URI> mirrors,
            Optional<java.util.function.BiFunction<HostFacts, Path, Path>> build) {
        List<ArchiveLocator.Place> places = new ArrayList<>();
        for (Path d : dirs) {
            places.add(new ArchiveLocator.Place("--archive-dir " + d, ctx.resolve(d)));
        }
        places.add(new ArchiveLocator.Place("the archive store", ctx.defaultArchiveDir()));
        // The one archive named is read and hashed while the nodes are reached, each on a thread of its own: hashing
        // tens of megabytes, and the JSON mapper the manifest's reader builds, would otherwise sit before the first
        // connection and between learning the targets and the first byte of the push. An archive found in a
        // directory is hashed on first use (BENCHMARKS.md, "Fleet rollout over SSH").
        Optional<Path> named = explicit.map(ctx::resolve);
        Optional<FutureTask<Manifest>> early = named.filter(Files::isRegularFile)
                .map(f -> inBackground(
                        () -> new ArchiveReader(ctx.limits()).readManifest(f).manifest()));
        Optional<FutureTask<String>> earlySha256 =
                named.filter(Files::isRegularFile).map(f -> inBackground(() -> sha256(f)));
        // Built on first use: with an archive named, never.
        FutureTask<ArchiveReader> reader = new FutureTask<>(() -> new ArchiveReader(ctx.limits()));
        FutureTask<ArchiveLocator> locator = new FutureTask<>(() -> locator(joined(reader)));
        return (HostFacts target, boolean dryRun) -> {
            String what =
                    target.os() + " " + target.version() + " (" + target.board() + ") with kernel " + target.kernel();
            Path file;
            if (named.isPresent()) {
                file = named.get();
            } else {
                Optional<Path> found = joined(locator)
                        .find(Optional.empty(), places, mirrors, target, ctx.defaultArchiveDir(), dryRun)
                        .map(ArchiveLocator.Found::archive);
                String nowhere = "no archive for " + what + " in --archive-dir, the archive store"
                        + (mirrors.isEmpty() ? "" : " or the mirrors");
                if (found.isPresent()) {
                    file = found.get();
                } else if (build.isEmpty()) {
                    throw new CorezfsException(
                            ExitCode.PRECONDITION,
                            nowhere + ", and --no-build forbids building one; build it: corezfs build --os-version "
                                    + target.version() + " --board " + target.board() + " --kernel " + target.kernel()
                                    + " --archive-dir DIR");
                } else {
                    Path into = places.get(0).dir();
                    if (dryRun) {
                        return new Fleet.Chosen(
                                into, "(to build into " + into + ")", "", Optional.empty(), Optional.empty());
                    }
                    reporter.info(nowhere + "; building it here, once for every node of that target");
                    try {
                        file = build.get().apply(target, into);
                    } catch (CorezfsException e) {
                        throw new CorezfsException(
                                e.exitCode(), nowhere + ", and building one here failed: " + e.getMessage());
                    }
                }
            }
            if (!Files.isRegularFile(file)) {
                // A dry run names the mirror's archive without downloading it.
                return new Fleet.Chosen(file, file.getFileName().toString(), "", Optional.empty(), Optional.empty());
            }
            Manifest m = early.isPresent()
                    ? joined(early.get())
                    : joined(reader).readManifest(file).manifest();
            FutureTask<String> sha256 =
                    earlySha256.isPresent() ? earlySha256.get() : new FutureTask<>(() -> sha256(file));
            if (!m.os().equals(target.os())
                    || !m.osVersion().equals(target.version())
                    || !m.board().equals(target.board())
                    || !m.kernel().equals(target.kernel())) {
                throw new CorezfsException(
                        ExitCode.PRECONDITION,
                        file.getFileName() + " is for " + m.os() + " " + m.osVersion() + " (" + m.board()
                                + ") with kernel " + m.kernel() + ", not " + what);
            }
            Path sig = SignedFile.sigOf(file);
            boolean signed = Files.isRegularFile(sig);
            return new Fleet.Chosen(
                    file,
                    ArchiveName.of(m).fileName(),
                    () -> joined(sha256),
                    signed ? Optional.of(sig) : Optional.empty(),
                    signed ? Optional.of(sha256(sig)) : Optional.empty());
        };
    }

    private ArchiveLocator locator(ArchiveReader reader) {
        return new ArchiveLocator(
                new ArchiveStore(reader),
                (url, target, max) ->
                        ctx.downloader(reporter, Downloader.Limits.DEFAULT).fetchBounded(url, target, max),
                verbosity > 0 ? reporter : Reporter.SILENT);
    }

    private static <T> FutureTask<T> inBackground(java.util.concurrent.Callable<T> work) {
        FutureTask<T> task = new FutureTask<>(work);
        Thread t = new Thread(task, "fleet-archive");
        t.setDaemon(true);
        t.start();
        return task;
    }

    /** The task's result, run here if nothing ran it yet; its exception as it was thrown. */
    private static <T> T joined(FutureTask<T> task) {
        task.run();
        try {
            return task.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CorezfsException(ExitCode.UNEXPECTED, "interrupted");
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private static String sha256(Path f) {
        try {
            return Hashes.sha256(f);
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot read " + f + ": " + e.getMessage());
        }
    }

    static Map<String, Object> json(Fleet.Report r) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("action", r.action().label());
        o.put("dryRun", r.dryRun());
        o.put("exitCode", r.exitCode());
        Map<String, Object> counts = new LinkedHashMap<>();
        for (Fleet.Result x : Fleet.Result.values()) {
            counts.put(x.name().toLowerCase(Locale.ROOT).replace("_", "-"), r.count(x));
        }
        o.put("counts", counts);
        List<Map<String, Object>> hosts = new ArrayList<>();
        for (Fleet.HostReport h : r.hosts()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("host", h.host());
            m.put("target", h.target());
            m.put("archive", h.archive());
            m.put("result", h.result().name().toLowerCase(Locale.ROOT).replace("_", "-"));
            m.put("seconds", h.took().toMillis() / 1000.0);
            m.put("bytesSent", h.bytesSent());
            m.put(r.dryRun() ? "action" : "error", h.error().isEmpty() ? null : h.error());
            if (!h.status().isEmpty()) {
                m.put("status", h.status());
            }
            hosts.add(m);
        }
        o.put("hosts", hosts);
        return o;
    }

    static String table(Fleet.Report r) {
        List<String[]> rows = new ArrayList<>();
        boolean status = r.action() == Fleet.Action.STATUS && !r.dryRun();
        rows.add(new String[] {
            "HOST",
            "TARGET",
            status ? "INSTALLED" : "ARCHIVE",
            "RESULT",
            "TIME",
            r.dryRun() ? "ACTION" : status ? "STATE" : "ERROR"
        });
        for (Fleet.HostReport h : r.hosts()) {
            String last = h.error();
            if (status && h.result() == Fleet.Result.OK) {
                last = statusLine(h.status());
            }
            rows.add(new String[] {
                h.host(),
                h.target(),
                status ? String.valueOf(h.status().getOrDefault("installed", "-")) : h.archive(),
                h.result().name().toLowerCase(Locale.ROOT).replace("_", "-"),
                String.format(Locale.ROOT, "%.1fs", h.took().toMillis() / 1000.0),
                last
            });
        }
        int[] w = new int[6];
        for (String[] row : rows) {
            for (int i = 0; i < 5; i++) {
                w[i] = Math.max(w[i], row[i].length());
            }
        }
        StringBuilder b = new StringBuilder();
        for (String[] row : rows) {
            for (int i = 0; i < 5; i++) {
                b.append(String.format(Locale.ROOT, "%-" + w[i] + "s  ", row[i]));
            }
            b.append(row[5]).append('\n');
        }
        b.append(String.format(
                Locale.ROOT,
                "%d ok, %d skipped, %d failed, %d not started%s%n",
                r.count(Fleet.Result.OK),
                r.count(Fleet.Result.SKIPPED),
                r.count(Fleet.Result.FAILED),
                r.count(Fleet.Result.NOT_STARTED),
                r.dryRun() ? " (dry run: " + r.count(Fleet.Result.PLANNED) + " planned, nothing changed)" : ""));
        return b.toString();
    }

    private static String statusLine(Map<String, Object> s) {
        Object pools = s.get("pools");
        String p = pools instanceof List<?> l && !l.isEmpty()
                ? String.join(
                        ",",
                        l.stream()
                                .map(x -> ((Map<?, ?>) x).get("name") + ":" + ((Map<?, ?>) x).get("health"))
                                .toList())
                : "no pools";
        return "mode " + s.getOrDefault("mode", "-") + (Boolean.TRUE.equals(s.get("active")) ? " active" : "")
                + ", module " + (Boolean.TRUE.equals(s.get("moduleLoaded")) ? s.get("kmodVersion") : "not loaded")
                + ", zfs " + s.getOrDefault("zfsVersion", "-") + ", " + p;
    }
}
