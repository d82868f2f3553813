package io.corezfs.cli;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.activation.Activation;
import io.corezfs.activation.LiveInstaller;
import io.corezfs.activation.OfficialZfs;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.archive.store.ArchiveLocator;
import io.corezfs.archive.store.ArchiveStore;
import io.corezfs.archive.store.NodeStore;
import io.corezfs.host.HostFacts;
import io.corezfs.host.NodeConfig;
import io.corezfs.host.RootFs;
import io.corezfs.install.InstallLock;
import io.corezfs.install.RootInstaller;
import io.corezfs.provide.ArchiveProvider;
import io.corezfs.trust.TrustPolicy;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "install",
        mixinStandardHelpOptions = true,
        description = {
            "Installs ZFS on this host and activates it now, without a reboot: finds the archive for this OS version"
                    + " and kernel (or builds one through Docker), installs it all or nothing, presents it on /usr,"
                    + " loads the module, enables the ZFS units so pools import at every boot, and verifies the result."
                    + " Any failure after the files are in place rolls activation back.",
            "",
            "Archives are looked for in this order: --archive; each --archive-dir; the node store"
                    + " (/var/lib/corezfs/archives, where `corezfs prepare` puts them); the archive store"
                    + " ($COREZFS_ARCHIVE_DIR, else ./archives); the current directory; each --mirror, else each of"
                    + " MIRRORS in /etc/corezfs/corezfs.conf, in order (its index.json, as `corezfs publish` writes it).",
            "",
            "The node configuration (/etc/corezfs/corezfs.conf) also gives the mode (MODE) and whether this node may"
                    + " build (BUILD=never forbids it); flags win over it. The installed archive is kept in the node"
                    + " store, so a rollback to this OS version finds it (KEEP versions are kept).",
            "",
            "With --root DIR it installs offline into the host tree under DIR instead (an image or a mounted root):"
                    + " files and unit links only, nothing is started.",
            "",
            "Modes: overlay mounts /opt/corezfs/usr over /usr (zfs-overlay.service); sysext presents /opt/corezfs as a"
                    + " systemd-sysext extension bound to this OS version (corezfs-sysext.service); auto keeps the mode"
                    + " already in use, else picks sysext where the host has systemd-sysext. Neither applies an archive"
                    + " built for another kernel at boot.",
            "",
            "Downloads are bounded: the index by --max-index-size, the archive by the size its index gives; each by"
                    + " --header-timeout, by --min-rate over every --stall-timeout, and by --download-deadline. A mirror's"
                    + " redirects must stay on its scheme, host and port (at most --max-redirects) unless"
                    + " --allow-cross-host-redirects. A download that breaks a bound is one line naming the URL: exit 3"
                    + " for network failures, timeouts and refused redirects; exit 4 for oversize content, an archive whose"
                    + " size differs from the index, or an invalid index; exit 5 for a sha256 mismatch. Nothing partial"
                    + " reaches the store. TIME is 500ms, 30s, 10m or 2h; BYTES is 65536, 64K, 8M or 16G."
        },
        footerHeading = "%nExample:%n",
        footer = {
            "  sudo corezfs install",
            "  sudo corezfs install --mirror http://archives.internal/corezfs/ \\",
            "      --no-build",
            "  sudo corezfs install --dry-run",
            "  corezfs install --root /mnt/image \\",
            "      --archive corezfs_amd64-usr_3975.2.0_stable_zfs-2.2.6.tar.gz"
        })
final class InstallCommand extends BaseCommand implements Callable<Integer> {
    @Option(
            names = "--archive",
            paramLabel = "FILE",
            converter = OptionValues.RegularFile.class,
            description = "Install this archive; no lookup.")
    Path archive;

    @Option(
            names = "--archive-dir",
            paramLabel = "DIR",
            converter = OptionValues.AnyPath.class,
            description = "Look for the archive in DIR first (repeatable).")
    List<Path> archiveDirs = new ArrayList<>();

    @Option(
            names = "--mirror",
            paramLabel = "URL",
            converter = OptionValues.MirrorBase.class,
            description =
                    "An http(s):// or file:/// directory of archives with an index.json, looked at last; repeatable,"
                            + " tried in order, and replaces MIRRORS. Its archive is held to the size and sha256 the"
                            + " index gives.")
    List<URI> mirrors = new ArrayList<>();

    @Option(
            names = "--allow-cross-host-redirects",
            description = "Follow a mirror's redirects to another scheme, host or port (refused by default).")
    boolean crossHostRedirects;

    @Option(
            names = "--max-index-size",
            paramLabel = "BYTES",
            defaultValue = "8M",
            converter = OptionValues.NonZeroBytes.class,
            description = "Largest index.json taken from a mirror (default: ${DEFAULT-VALUE}).")
    long maxIndexBytes;

    @Option(
            names = "--no-build",
            description = "Fail (exit 3) instead of building when no archive matches (as BUILD=never does).")
    boolean noBuild;

    @Option(
            names = "--mode",
            paramLabel = "MODE",
            description = "auto, overlay or sysext (default: MODE in /etc/corezfs/corezfs.conf, else auto).")
    String modeFlag;

    @Option(names = "--dry-run", description = "Print the plan (archive, why, units, steps) and change nothing.")
    boolean dryRun;

    @Option(
            names = "--root",
            paramLabel = "DIR",
            converter = OptionValues.ExistingDir.class,
            description = "Install offline into the host tree under DIR (an existing directory); nothing is started.")
    Path root;

    @Option(
            names = "--kernel",
            paramLabel = "RELEASE",
            converter = OptionValues.KernelRelease.class,
            description = "With --root: the target's kernel release, if not the running one.")
    String kernel;

    @Option(
            names = "--force",
            description = "With --root: install even though the archive was built for another kernel (warns).")
    boolean force;

    /** Run by corezfs-pending.service at boot to apply an upgrade staged while pools were imported. */
    @Option(names = "--at-boot", hidden = true)
    boolean atBoot;

    @Mixin
    BuildOptions build;

    @Mixin
    TrustOptions trust;

    @Option(
            names = "--allow-unsigned",
            description = "Install a local --archive (or one from --archive-dir) that has no signature although"
                    + " SIGNATURES=require; warns. Never for a mirror's archive, never for a bad signature.")
    boolean allowUnsigned;

    @Option(
            names = "--allow-downgrade",
            description = "Install an archive with an older ZFS release than the one installed for the same OS"
                    + " version and kernel; refused otherwise (exit 5).")
    boolean allowDowngrade;

    @Mixin
    DownloadOptions downloads;

    InstallCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        // A bad --mode is a usage error before anything else is read.
        Optional<Activation> modeAsked = modeFlag == null ? Optional.empty() : requested(modeFlag);
        if (root != null && (modeAsked.isPresent() || atBoot)) {
            throw new CorezfsException(
                    ExitCode.USAGE, "--root installs files only; --mode and --at-boot are for the live host");
        }
        if (root == null && (force || kernel != null)) {
            throw new CorezfsException(
                    ExitCode.USAGE,
                    "--force and --kernel only apply with --root: a live host loads the module"
                            + " only for its running kernel");
        }
        RootInstaller files = ctx.rootInstaller(reporter());
        LiveInstaller live = ctx.liveInstaller(files, reporter());
        if (root == null) {
            if (dryRun) {
                try {
                    live.checkPreconditions();
                } catch (CorezfsException e) {
                    out().println("note: the real run would stop here: " + e.getMessage());
                }
            } else {
                live.checkPreconditions();
            }
        }
        RootFs fs = new RootFs(root != null ? ctx.resolve(root) : ctx.live().root());
        OfficialZfs.refuseIfEnabled(fs);
        HostFacts facts = Hosts.detect(ctx, fs, Optional.ofNullable(kernel));
        NodeStore nodeStore = new NodeStore(fs.root(), new ArchiveReader(ctx.limits()));

        if (atBoot) {
            try (InstallLock lock = lock(fs.root(), "corezfs install --at-boot")) {
                live.applyAtBoot(ctx.resolve(require(archive)), facts);
            }
            out().println("applied the staged " + archive.getFileName());
            return 0;
        }
        // Read after the staged upgrade at boot, which needs no setting: a broken file must not stop it.
        NodeConfig config = NodeConfig.load(fs);
        // Offline, no mode applies: the image's own MODE is for its live runs.
        Optional<Activation> requested = root != null
                ? Optional.empty()
                : requested(config.mode()
                        .or(Optional.ofNullable(modeFlag), "--mode")
                        .value());
        List<URI> mirrors = config.mirrors()
                .or(this.mirrors.isEmpty() ? Optional.empty() : Optional.of(this.mirrors), "--mirror")
                .value();
        NodeConfig.Setting<NodeConfig.BuildPolicy> policy = config.build();
        boolean noBuild = this.noBuild || !policy.value().allowsPrepare();
        TrustPolicy signatures = trust.policy(ctx, fs, config);
        ArchiveProvider.Provided provided = provider(signatures)
                .provide(
                        new ArchiveProvider.Request(
                                Optional.ofNullable(archive).map(ctx::resolve),
                                java.util.stream.Stream.concat(
                                                archiveDirs.stream()
                                                        .map(d -> new ArchiveLocator.Place(
                                                                "--archive-dir " + d, ctx.resolve(d))),
                                                java.util.stream.Stream.of(
                                                        new ArchiveLocator.Place("the node store", nodeStore.dir())))
                                        .toList(),
                                ctx.defaultArchiveDir(),
                                ctx.workDir(),
                                mirrors,
                                noBuild,
                                dryRun,
                                this.noBuild
                                        ? "--no-build was given"
                                        : "BUILD=never (" + policy.source() + ") forbids a build on this node"),
                        facts,
                        fs);
        if (provided.wouldBuild()) {
            out().println("archive: none found for " + provided.host()
                    + "; a real run would build one through Docker into " + ctx.defaultArchiveDir()
                    + ", then install it");
            return 0;
        }
        ArchiveLocator.Found f = provided.found().get();
        refuseDowngrade(fs.root(), f.archive());
        if (dryRun) {
            out().println("archive: " + f.archive() + " (" + f.why() + ")");
        } else if (archive == null) {
            reporter().info("archive: " + f.archive() + " (" + f.why() + ")");
        }
        if (root != null) {
            int code = installOffline(files, fs, facts, f.archive());
            if (!dryRun) {
                try (InstallLock lock = lock(fs.root(), "corezfs install --root " + fs.root())) {
                    keepInNodeStore(nodeStore, f.archive(), facts, config.keep().value());
                }
            }
            return code;
        }
        Activation m = live.resolveMode(requested);
        if (dryRun) {
            out().println("plan (dry run, nothing changed):");
            for (String step : live.plan(f.archive(), facts, m)) {
                out().println("  - " + step);
            }
            return 0;
        }
        LiveInstaller.Result r;
        try (InstallLock lock = lock(fs.root(), "corezfs install")) {
            r = live.install(f.archive(), facts, m);
            keepInNodeStore(nodeStore, f.archive(), facts, config.keep().value());
        }
        switch (r.outcome()) {
            case ACTIVATED ->
                out().println("installed and activated " + r.archive() + " (" + m.label() + " mode): " + r.detail());
            case UNCHANGED ->
                out().println("unchanged: " + r.archive() + " is already installed and active (" + m.label()
                        + " mode)");
            case STAGED -> out().println("staged " + r.archive() + " for the next boot: " + r.detail());
        }
        return 0;
    }

    private int installOffline(RootInstaller files, RootFs fs, HostFacts facts, Path archivePath) {
        if (dryRun) {
            out().println("plan (dry run, nothing changed): install " + archivePath.getFileName() + " into " + fs.root()
                    + " and enable its units from presets; nothing is started");
            return 0;
        }
        RootInstaller.Result r;
        try (InstallLock lock = lock(fs.root(), "corezfs install --root " + fs.root())) {
            r = files.install(archivePath, fs.root(), facts, force);
        }
        switch (r.outcome()) {
            case INSTALLED -> out().println("installed " + r.archive() + " into " + fs.root());
            case REPLACED -> out().println("replaced the previous install with " + r.archive() + " in " + fs.root());
            case UNCHANGED -> out().println("unchanged: " + r.archive() + " is already installed in " + fs.root());
            case REPAIRED ->
                out().println("repaired " + r.repaired().size() + (r.repaired().size() == 1 ? " file" : " files")
                        + " of " + r.archive() + " in " + fs.root() + ": " + String.join(", ", r.repaired()));
        }
        return 0;
    }

    /**
     * The installed archive goes into the node store too, so that a rollback to this OS version after an update finds
     * it there at boot. The install itself is done by now: a store that cannot take it is a warning, not a failure.
     */
    private void keepInNodeStore(NodeStore store, Path archive, HostFacts facts, int keep) {
        try {
            Path kept = store.add(archive);
            store.prune(keep, java.util.Set.of(kept));
        } catch (CorezfsException e) {
            reporter().warn("installed, but not kept in the node store for a later rollback: " + e.getMessage());
        }
    }

    /**
     * An older archive for the same target than the one installed (an older ZFS release) is refused unless asked for: a validly signed but old archive with a known bug is exactly what an attacker who can
     * only replay a mirror's past content would offer.
     */
    private void refuseDowngrade(Path hostRoot, Path offered) {
        if (allowDowngrade) {
            return;
        }
        Optional<io.corezfs.install.InstallState> installed = io.corezfs.install.InstallState.read(hostRoot);
        if (installed.isEmpty()) {
            return;
        }
        io.corezfs.archive.Manifest have = installed.get().manifest();
        io.corezfs.archive.Manifest want =
                new ArchiveReader(ctx.limits()).readManifest(offered).manifest();
        boolean sameTarget = have.os().equals(want.os())
                && have.osVersion().equals(want.osVersion())
                && have.board().equals(want.board())
                && have.kernel().equals(want.kernel());
        if (!sameTarget) {
            return;
        }
        // By ZFS release only: a build's epoch is its source's date (reproducible builds), so two builds of one release
        // cannot be ordered by it, and a repack or rebuild of the same release is not a downgrade.
        if (io.corezfs.zfs.ZfsVersion.ORDER.compare(want.zfsVersion(), have.zfsVersion()) < 0) {
            throw CorezfsException.verification("refusing a downgrade: " + offered.getFileName() + " (ZFS "
                    + want.zfsVersion() + ", built " + java.time.Instant.ofEpochSecond(want.buildEpoch())
                    + ") is older than the installed " + installed.get().archive() + " (ZFS " + have.zfsVersion()
                    + ", built " + java.time.Instant.ofEpochSecond(have.buildEpoch())
                    + ") for the same OS and kernel; --allow-downgrade installs it anyway. Nothing was changed");
        }
    }

    private ArchiveProvider provider(TrustPolicy policy) {
        // A mirror is one origin: a redirect elsewhere is refused unless asked for, so a mirror cannot send nodes
        // to any address it likes.
        ArchiveLocator locator = new ArchiveLocator(
                        new ArchiveStore(new ArchiveReader(ctx.limits())),
                        (url, target, max) -> ctx.downloader(reporter(), downloads.limits(crossHostRedirects))
                                .fetchBounded(url, target, max),
                        // Where it looked and what it passed over is detail for -v; the pick and its reason are always
                        // said.
                        verbosity() > 0 ? reporter() : io.corezfs.Reporter.SILENT,
                        maxIndexBytes)
                .withTrust(policy, allowUnsigned, reporter());
        // Upstream release servers redirect to their CDNs, so builds follow redirects to other hosts.
        return new ArchiveProvider(
                locator,
                ctx.docker(),
                BuildOptions.service(ctx, reporter(), downloads.limits(true)),
                build.request(ctx),
                reporter());
    }

    /** One run at a time on a root, taken before any recovery (see {@link InstallLock}). */
    private InstallLock lock(Path target, String command) {
        return InstallLock.acquire(
                target, command, InstallLock.waitFrom(ctx.env().getenv("COREZFS_LOCK_WAIT")));
    }

    private static Optional<Activation> requested(String mode) {
        return mode.equals("auto") ? Optional.empty() : Optional.of(Activation.parse(mode));
    }

    private static Path require(Path p) {
        if (p == null) {
            throw new CorezfsException(ExitCode.USAGE, "--at-boot needs --archive");
        }
        return p;
    }
}
