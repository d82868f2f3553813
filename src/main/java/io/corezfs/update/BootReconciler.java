package io.corezfs.update;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Reporter;
import io.corezfs.activation.Activation;
import io.corezfs.activation.LiveInstaller;
import io.corezfs.activation.LiveState;
import io.corezfs.activation.OfficialZfs;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.archive.Manifest;
import io.corezfs.archive.store.ArchiveLocator;
import io.corezfs.archive.store.ArchiveName;
import io.corezfs.archive.store.ArchiveStore;
import io.corezfs.archive.store.NodeStore;
import io.corezfs.host.HostFacts;
import io.corezfs.host.NodeConfig;
import io.corezfs.host.RootFs;
import io.corezfs.install.InstallState;
import io.corezfs.system.FileTrees;
import io.corezfs.system.LiveSystem;
import io.corezfs.trust.SignedFile;
import io.corezfs.trust.TrustPolicy;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Makes the installed ZFS match the kernel and OS version this boot runs, before anything activates it or imports a
 * pool ({@code corezfs-boot.service}). In order: nothing to do when it already matches; else the node store (the
 * archive prepared before the update, or the previous version's after a rollback); else the mirrors, waiting for the
 * network no longer than {@code BOOT_FETCH_TIMEOUT}; else, with {@code BUILD=boot}, a build in its own unit; else ZFS
 * stays off and the reason is recorded for {@code corezfs status}.
 *
 * <p>It only ever applies an archive whose manifest names this exact kernel: a module built for another kernel is
 * never put where the activation units would load it.
 */
public final class BootReconciler {
    /**
     * Started, not waited for, when nothing local matched but a network mirror or {@code BUILD=boot} may still bring
     * an archive: it runs {@code corezfs boot --late} once the network (and Docker) are up.
     */
    public static final String LATE_UNIT = "corezfs-boot-late.service";

    /** Archives fetched from a mirror wait here, verified, until they are added to the store. */
    static final String INCOMING = "var/lib/corezfs/.incoming";

    /** Longest pause between two rounds over the mirrors while the network comes up. */
    static final Duration RETRY_PAUSE = Duration.ofSeconds(2);

    /**
     * Fetches a mirror's file; {@code connectWithin} bounds how long it may wait for the mirror to answer, so the
     * whole wait for the network stays within its budget.
     */
    @FunctionalInterface
    public interface MirrorFetch {
        Path fetch(URI url, Path target, long maxBytes, Duration connectWithin);
    }

    /** Time for the bounded wait: a monotonic reading and a pause. A seam, so tests need not sleep. */
    public interface Waiting {
        long nanoTime();

        void pause(Duration d);

        Waiting REAL = new Waiting() {
            @Override
            public long nanoTime() {
                return System.nanoTime();
            }

            @Override
            public void pause(Duration d) {
                try {
                    Thread.sleep(d.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw CorezfsException.precondition("interrupted while waiting for the network");
                }
            }
        };
    }

    /** What the boot did, and the exit code that says so. */
    public record Result(BootRecord record, int exitCode) {}

    private final Path root;
    private final LiveSystem sys;
    private final LiveInstaller live;
    private final ArchiveReader reader;
    private final NodeStore store;
    private final MirrorFetch fetch;
    private final Waiting waiting;
    private final Clock clock;
    private final Reporter reporter;
    private final TrustPolicy trust;

    public BootReconciler(
            Path root,
            LiveSystem sys,
            LiveInstaller live,
            ArchiveReader reader,
            NodeStore store,
            MirrorFetch fetch,
            Waiting waiting,
            Clock clock,
            Reporter reporter) {
        this(root, sys, live, reader, store, fetch, waiting, clock, reporter, TrustPolicy.none(clock.instant()));
    }

    /** @param trust the node's signature policy: an archive is checked against it before its module can load */
    public BootReconciler(
            Path root,
            LiveSystem sys,
            LiveInstaller live,
            ArchiveReader reader,
            NodeStore store,
            MirrorFetch fetch,
            Waiting waiting,
            Clock clock,
            Reporter reporter,
            TrustPolicy trust) {
        this.trust = trust;
        this.root = root;
        this.sys = sys;
        this.live = live;
        this.reader = reader;
        this.store = store;
        this.fetch = fetch;
        this.waiting = waiting;
        this.clock = clock;
        this.reporter = reporter;
    }

    /**
     * Reconciles and records the outcome in {@link BootRecord#FILE}. An install state that cannot be trusted is
     * recorded too, then thrown: the boot unit logs it and the boot goes on without ZFS.
     */
    public Result reconcile(HostFacts host, NodeConfig config) {
        Result r;
        try {
            r = officialZfs(host).orElseGet(() -> decide(host, config));
        } catch (CorezfsException e) {
            record(host, BootRecord.Outcome.REFUSED, e.getMessage(), "sudo corezfs install")
                    .write(root);
            throw e;
        }
        r.record().write(root);
        return r;
    }

    /**
     * Flatcar's own zfs extension beside corezfs would stack two ZFS builds on {@code /usr}: nothing is applied or
     * activated, and the record says what to remove (exit 3).
     */
    private Optional<Result> officialZfs(HostFacts host) {
        Optional<String> where = OfficialZfs.detect(new RootFs(root));
        if (where.isEmpty()) {
            return Optional.empty();
        }
        String message = OfficialZfs.message(where.get());
        reporter.warn("corezfs boot: " + message);
        return Optional.of(done(
                host,
                BootRecord.Outcome.REFUSED,
                message,
                "sudo rm " + OfficialZfs.EXTENSION_IMAGE,
                ExitCode.PRECONDITION.code()));
    }

    /**
     * A node is provisioned for a first install when something can bring it an archive: the node store (an archive
     * delivered with its Ignition config), a mirror, or {@code BUILD=boot}. Otherwise it is a node corezfs was never
     * installed on, or was uninstalled from, and the boot leaves it alone.
     */
    private boolean provisioned(HostFacts host, NodeConfig config) {
        return store.find(host).isPresent()
                || !config.mirrors().value().isEmpty()
                || config.build().value() == NodeConfig.BuildPolicy.BOOT;
    }

    /**
     * The first boot of a provisioned node: the install (activation and all) runs in the late unit, started without
     * waiting. Not here: the activation units are not part of this boot's transaction yet, and starting them from
     * this early unit would wait on units that are ordered after it.
     */
    private Result firstBoot(HostFacts host, NodeConfig config, String what) {
        Optional<Path> stored = store.find(host);
        String how = stored.map(p -> "installs " + p.getFileName() + " from the node store")
                .orElse(
                        config.mirrors().value().isEmpty()
                                ? "builds an archive (BUILD=boot)"
                                : "fetches an archive for " + what + " from the mirrors");
        reporter.info("corezfs boot: corezfs is not installed yet; " + LATE_UNIT + " " + how + " and activates it");
        LiveSystem.Result started = sys.run(List.of("systemctl", "start", "--no-block", LATE_UNIT));
        if (!started.ok()) {
            String detail = "corezfs is not installed yet and " + LATE_UNIT + " could not be started ("
                    + started.lastLine() + "); ZFS is off";
            reporter.warn("corezfs boot: " + detail);
            return done(host, BootRecord.Outcome.OFF, detail, "sudo corezfs install", ExitCode.PRECONDITION.code());
        }
        return done(
                host,
                BootRecord.Outcome.INSTALLING,
                "corezfs is not installed yet: " + LATE_UNIT + " " + how + ", activates it and imports the pools",
                "journalctl -u " + LATE_UNIT + " -f",
                0);
    }

    private Result decide(HostFacts host, NodeConfig config) {
        String what = host.os() + " " + host.version() + " (" + host.board() + ") with kernel " + host.kernel();
        Optional<InstallState> installed = InstallState.read(root);
        if (installed.isEmpty()) {
            if (provisioned(host, config)) {
                return firstBoot(host, config, what);
            }
            return done(host, BootRecord.Outcome.NOT_INSTALLED, "corezfs is not installed here; nothing to do", "", 0);
        }
        Manifest have = installed.get().manifest();
        if (fits(have, host)) {
            return done(
                    host,
                    BootRecord.Outcome.MATCHED,
                    installed.get().archive() + " (ZFS " + have.zfsVersion() + ") matches " + what + "; nothing to do",
                    "",
                    0);
        }
        reporter.info("corezfs boot: the installed " + installed.get().archive() + " is for " + have.os() + " "
                + have.osVersion() + " with kernel " + have.kernel() + "; this boot runs " + what);
        List<String> refused = new ArrayList<>();
        int refusalCode = 0;

        Optional<Path> stored = store.find(host);
        if (stored.isPresent()) {
            try {
                apply(stored.get(), host);
                return done(
                        host,
                        BootRecord.Outcome.APPLIED,
                        "applied " + stored.get().getFileName() + " from the node store (" + store.dir() + ")",
                        "",
                        0);
            } catch (CorezfsException e) {
                refused.add("refused " + stored.get().getFileName() + " from the node store: " + e.getMessage());
                refusalCode = e.exitCode().code();
                reporter.warn("corezfs boot: " + refused.get(refused.size() - 1));
            }
        } else {
            reporter.info("corezfs boot: no archive for " + what + " in the node store (" + store.dir() + ")");
        }

        // This early in the boot only local mirrors (file://, a disk) can answer: the network comes up later, so the
        // network mirrors are left to the late unit.
        List<URI> mirrors = config.mirrors().value();
        List<URI> local = mirrors.stream().filter(BootReconciler::isLocal).toList();
        List<URI> remote = mirrors.stream().filter(u -> !isLocal(u)).toList();
        Duration budget = config.bootFetchTimeout().value();
        if (!local.isEmpty()) {
            Optional<Result> fetched = fetchAndApply(local, budget, host, refused, false, Optional.empty());
            if (fetched.isPresent()) {
                return fetched.get();
            }
            refusalCode = lastRefusal;
        }

        String missing = "no usable archive for " + what + " (looked in the node store"
                + (local.isEmpty() ? "" : " and the local mirrors") + ")"
                + (refused.isEmpty() ? "" : "; " + String.join("; ", refused));
        if (have.kernel().equals(host.kernel()) && !inSysextMode()) {
            // Only the OS version moved. The module fits this kernel and the overlay unit checks nothing else, so
            // it comes up as before; saying "off" would be wrong. A sysext is bound to its OS version instead.
            reporter.info("corezfs boot: " + missing + "; the installed one was built for this kernel, so it stays");
            return done(
                    host,
                    BootRecord.Outcome.KEPT,
                    missing + "; kept " + installed.get().archive() + ", built for this same kernel",
                    "sudo corezfs install",
                    0);
        }
        boolean build = config.build().value() == NodeConfig.BuildPolicy.BOOT;
        boolean ask = !remote.isEmpty() && !budget.isZero();
        if (!remote.isEmpty() && budget.isZero()) {
            reporter.info("corezfs boot: BOOT_FETCH_TIMEOUT=0: the network mirrors are not asked at boot");
        }
        if (ask || build) {
            // The late unit, started without waiting: the network and Docker come up only after this unit, and a
            // build takes ten minutes or more; holding the boot for either would hold every other service too.
            String then = (ask ? "the network mirrors are asked (BOOT_FETCH_TIMEOUT=" + budget.toSeconds() + "s)" : "")
                    + (ask && build ? ", then " : "")
                    + (build ? "an archive is built (BUILD=boot)" : "");
            reporter.info("corezfs boot: " + missing + ". In " + LATE_UNIT + ", once the network is up, " + then
                    + "; ZFS stays off until then, and the pools import when an archive is applied");
            LiveSystem.Result started = sys.run(List.of("systemctl", "start", "--no-block", LATE_UNIT));
            if (started.ok()) {
                leaveOff();
                return done(
                        host,
                        build && !ask ? BootRecord.Outcome.BUILDING : BootRecord.Outcome.WAITING,
                        missing + "; " + then + " in " + LATE_UNIT + ", and the pools import when it is applied",
                        "journalctl -u " + LATE_UNIT + " -f",
                        0);
            }
            missing += "; " + LATE_UNIT + " could not be started (" + started.lastLine() + ")";
        }
        leaveOff();
        String command = "sudo corezfs install";
        reporter.warn(
                "corezfs boot: " + missing + ". ZFS stays off for this boot; pools are not imported. Run: " + command);
        return done(
                host,
                refusalCode != 0 ? BootRecord.Outcome.REFUSED : BootRecord.Outcome.OFF,
                missing + "; ZFS is off",
                command,
                refusalCode != 0 ? refusalCode : ExitCode.PRECONDITION.code());
    }

    private int lastRefusal;

    /** The mode MODE asks of a first install, when the node has none yet; {@code auto} leaves it to the host. */
    private static Optional<Activation> modeOf(NodeConfig config) {
        String m = config.mode().value();
        return m.equals("auto") ? Optional.empty() : Optional.of(Activation.parse(m));
    }

    /**
     * Asks {@code mirrors} within {@code budget}; a matching archive goes into the store and is applied (files only at
     * early boot, a full live install with activation and pool import when {@code live} is set, in {@code mode} when the
     * node has none yet).
     */
    private Optional<Result> fetchAndApply(
            List<URI> mirrors,
            Duration budget,
            HostFacts host,
            List<String> refused,
            boolean liveInstall,
            Optional<Activation> mode) {
        lastRefusal = 0;
        MirrorOutcome m = fromMirrors(mirrors, budget, host);
        refused.addAll(m.refused());
        if (!m.refused().isEmpty()) {
            lastRefusal = m.refusalCode();
        }
        try {
            if (m.archive().isPresent()) {
                Path added = store.add(m.archive().get());
                deleteIncoming();
                try {
                    if (liveInstall) {
                        installLive(added, host, mode);
                    } else {
                        apply(added, host);
                    }
                    return Optional.of(done(
                            host,
                            BootRecord.Outcome.FETCHED,
                            "fetched " + added.getFileName() + " from " + m.from() + ", added it to the node store and"
                                    + (liveInstall ? " activated it; the pools import now" : " applied it"),
                            "",
                            0));
                } catch (CorezfsException e) {
                    refused.add("refused " + added.getFileName() + " from " + m.from() + ": " + e.getMessage());
                    lastRefusal = e.exitCode().code();
                }
            }
        } finally {
            deleteIncoming();
        }
        return Optional.empty();
    }

    static boolean isLocal(URI u) {
        return "file".equalsIgnoreCase(u.getScheme());
    }

    /** Builds an archive for the running host into the given directory (the late unit's BUILD=boot). */
    @FunctionalInterface
    public interface HostBuild {
        Path build(HostFacts host, Path dir);
    }

    /**
     * The second half, run by {@link #LATE_UNIT} once the network is up: the network mirrors within
     * {@code BOOT_FETCH_TIMEOUT}, then a build when {@code BUILD=boot}; what it gets is installed live (activated,
     * pools imported). With nothing, ZFS stays off and the record says why (exit 3).
     */
    public Result reconcileLate(HostFacts host, NodeConfig config, HostBuild builder) {
        Result r;
        try {
            r = officialZfs(host).orElseGet(() -> decideLate(host, config, builder));
        } catch (CorezfsException e) {
            record(host, BootRecord.Outcome.REFUSED, e.getMessage(), "sudo corezfs install")
                    .write(root);
            throw e;
        }
        r.record().write(root);
        return r;
    }

    private Result decideLate(HostFacts host, NodeConfig config, HostBuild builder) {
        String what = host.os() + " " + host.version() + " (" + host.board() + ") with kernel " + host.kernel();
        Optional<InstallState> installed = InstallState.read(root);
        boolean first = installed.isEmpty();
        if (first && !provisioned(host, config)) {
            return done(host, BootRecord.Outcome.NOT_INSTALLED, "corezfs is not installed here; nothing to do", "", 0);
        }
        if (!first && fits(installed.get().manifest(), host)) {
            return done(
                    host,
                    BootRecord.Outcome.MATCHED,
                    installed.get().archive() + " matches " + what + "; nothing to do",
                    "",
                    0);
        }
        List<String> refused = new ArrayList<>();
        int refusalCode = 0;
        Optional<Activation> mode = modeOf(config);
        if (first) {
            // The archive delivered with the node's config, if any: no network needed.
            Optional<Path> stored = store.find(host);
            if (stored.isPresent()) {
                try {
                    installLive(stored.get(), host, mode);
                    return done(
                            host,
                            BootRecord.Outcome.APPLIED,
                            "installed " + stored.get().getFileName() + " from the node store (" + store.dir()
                                    + ") and activated it; the pools import now",
                            "",
                            0);
                } catch (CorezfsException e) {
                    refused.add("refused " + stored.get().getFileName() + " from the node store: " + e.getMessage());
                    refusalCode = e.exitCode().code();
                    reporter.warn("corezfs boot: " + refused.get(refused.size() - 1));
                }
            }
        }
        // On a first install the early unit asked no mirror at all, so the local ones are asked here too.
        List<URI> remote = config.mirrors().value().stream()
                .filter(u -> first || !isLocal(u))
                .toList();
        Duration budget = config.bootFetchTimeout().value();
        if (!remote.isEmpty() && !budget.isZero()) {
            Optional<Result> fetched = fetchAndApply(remote, budget, host, refused, true, mode);
            if (fetched.isPresent()) {
                return fetched.get();
            }
            if (lastRefusal != 0) {
                refusalCode = lastRefusal;
            }
        }
        if (config.build().value() == NodeConfig.BuildPolicy.BOOT) {
            reporter.info("corezfs boot: building ZFS for " + what + " (BUILD=boot); the pools import when it is done");
            Path built = builder.build(host, root.resolve(INCOMING));
            try {
                Path added = store.add(built);
                installLive(added, host, mode);
                return done(
                        host,
                        BootRecord.Outcome.FETCHED,
                        "built " + added.getFileName() + ", added it to the node store and activated it; the pools"
                                + " import now",
                        "",
                        0);
            } finally {
                deleteIncoming();
            }
        }
        leaveOff();
        String detail = "no usable archive for " + what + " from the network mirrors"
                + (remote.isEmpty() ? " (none configured)" : "")
                + (refused.isEmpty() ? "" : "; " + String.join("; ", refused)) + "; ZFS is off";
        reporter.warn("corezfs boot: " + detail + ". Run: sudo corezfs install");
        return done(
                host,
                refusalCode != 0 ? BootRecord.Outcome.REFUSED : BootRecord.Outcome.OFF,
                detail,
                "sudo corezfs install",
                refusalCode != 0 ? refusalCode : ExitCode.PRECONDITION.code());
    }

    private void installLive(Path archive, HostFacts host, Optional<Activation> mode) {
        signed(archive);
        Manifest m = reader.readManifest(archive).manifest();
        if (!fits(m, host)) {
            throw CorezfsException.verification("its manifest is for " + m.os() + " " + m.osVersion() + " " + m.board()
                    + " with kernel " + m.kernel() + "; nothing was changed");
        }
        reporter.info("corezfs boot: installing " + archive.getFileName() + " (ZFS " + m.zfsVersion() + ", kernel "
                + m.kernel() + ") and activating it");
        live.install(archive, host, live.resolveMode(LiveState.readMode(root).or(() -> mode)));
    }

    /**
     * The store's copy is checked against its signature again before anything of it is applied: the store is a
     * directory on a writable disk, and a module from it loads as root.
     */
    private void signed(Path archive) {
        trust.check(archive, SignedFile.sigOf(archive), "the node store", true, false, reporter);
    }

    /** The manifest is for exactly this host: OS, version, board, kernel. */
    static boolean fits(Manifest m, HostFacts host) {
        return m.os().equals(host.os())
                && ArchiveName.of(m).matchesHost(host)
                && m.kernel().equals(host.kernel());
    }

    /** Checks the target again (a name is only a claim), then swaps the files in as a staged upgrade would be. */
    private void apply(Path archive, HostFacts host) {
        signed(archive);
        Manifest m = reader.readManifest(archive).manifest();
        if (!fits(m, host)) {
            throw CorezfsException.verification("its manifest is for " + m.os() + " " + m.osVersion() + " " + m.board()
                    + " with kernel " + m.kernel() + "; nothing was changed");
        }
        reporter.info("corezfs boot: applying " + archive.getFileName() + " (ZFS " + m.zfsVersion() + ", kernel "
                + m.kernel() + ")");
        live.applyAtBoot(archive, host);
    }

    private record MirrorOutcome(Optional<Path> archive, String from, List<String> refused, int refusalCode) {}

    /**
     * Asks each mirror in turn until one serves a matching archive. A mirror that cannot be reached yet is asked
     * again in the next round, until the budget is spent; one that answers (with or without an archive, or with a
     * bad one) has said its last word for this boot.
     */
    private MirrorOutcome fromMirrors(List<URI> mirrors, Duration budget, HostFacts host) {
        long deadline = waiting.nanoTime() + budget.toNanos();
        Set<URI> pending = new LinkedHashSet<>(mirrors);
        List<String> refused = new ArrayList<>();
        int refusalCode = 0;
        Path incoming = root.resolve(INCOMING);
        String lastFailure = "";
        boolean firstRound = true;
        while (true) {
            for (URI mirror : List.copyOf(pending)) {
                long rest = deadline - waiting.nanoTime();
                if (!firstRound && rest <= 0) {
                    break;
                }
                // Every mirror is asked once, however small the budget; after that, never past its end.
                Duration left = Duration.ofNanos(Math.max(rest, 1_000_000L));
                ArchiveLocator locator = new ArchiveLocator(
                                new ArchiveStore(reader),
                                (url, target, max) -> fetch.fetch(url, target, max, left),
                                reporter)
                        .withTrust(trust, false);
                try {
                    Optional<ArchiveLocator.Found> found =
                            locator.find(Optional.empty(), List.of(), Optional.of(mirror), host, incoming, false);
                    pending.remove(mirror);
                    if (found.isPresent()) {
                        return new MirrorOutcome(Optional.of(found.get().archive()), mirror.toString(), refused, 0);
                    }
                } catch (CorezfsException e) {
                    if (e.exitCode() == ExitCode.PRECONDITION) {
                        lastFailure = e.getMessage();
                        continue;
                    }
                    pending.remove(mirror);
                    refused.add("refused the mirror " + mirror + ": " + e.getMessage());
                    refusalCode = e.exitCode().code();
                }
            }
            firstRound = false;
            long remaining = deadline - waiting.nanoTime();
            if (pending.isEmpty()) {
                break;
            }
            if (remaining <= 0) {
                reporter.warn("corezfs boot: gave up on " + pending.size() + " unreachable mirror(s) after "
                        + budget.toSeconds() + "s (BOOT_FETCH_TIMEOUT): " + lastFailure);
                refused.add("mirror(s) unreachable within BOOT_FETCH_TIMEOUT=" + budget.toSeconds() + "s");
                break;
            }
            waiting.pause(Duration.ofNanos(Math.min(remaining, RETRY_PAUSE.toNanos())));
        }
        return new MirrorOutcome(Optional.empty(), "", refused, refusalCode);
    }

    /**
     * Nothing matching is applied, so nothing may present the installed tree: its module is for another kernel. The
     * activation units refuse it on their own (their kernel check); the sysext link goes as well, so
     * systemd-sysext.service cannot merge it either.
     */
    private void leaveOff() {
        try {
            Path link = root.resolve(Activation.EXTENSION_LINK);
            if (Files.isSymbolicLink(link)) {
                Files.delete(link);
            }
        } catch (IOException e) {
            reporter.warn("corezfs boot: could not withdraw " + Activation.EXTENSION_LINK + ": " + e.getMessage());
        }
    }

    private boolean inSysextMode() {
        try {
            Path mode = root.resolve(Activation.MODE_FILE);
            return Files.isRegularFile(mode, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                    && Files.size(mode) < 64
                    && Files.readString(mode).strip().equals(Activation.SYSEXT.label());
        } catch (IOException e) {
            return false;
        }
    }

    private void deleteIncoming() {
        try {
            FileTrees.deleteTree(root.resolve(INCOMING));
        } catch (IOException e) {
            reporter.warn("corezfs boot: could not clean " + INCOMING + ": " + e.getMessage());
        }
    }

    private Result done(HostFacts host, BootRecord.Outcome o, String detail, String command, int code) {
        return new Result(record(host, o, detail, command), code);
    }

    private BootRecord record(HostFacts host, BootRecord.Outcome o, String detail, String command) {
        return new BootRecord(
                o.text(),
                plain(detail),
                plain(command),
                plain(host.kernel()),
                plain(host.version()),
                clock.instant().toString());
    }

    /** The record holds one line of printable text: whatever a message quoted (a file name, a server) stays inert. */
    private static String plain(String s) {
        String one = s == null ? "" : s.replaceAll("[\\r\\n\\t]+", " ");
        StringBuilder b = new StringBuilder();
        for (char c : one.toCharArray()) {
            b.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return b.length() > 4000 ? b.substring(0, 4000) : b.toString();
    }
}
