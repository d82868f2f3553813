package io.corezfs.cli;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.archive.Manifest;
import io.corezfs.archive.store.ArchiveLocator;
import io.corezfs.archive.store.NodeStore;
import io.corezfs.compile.BuildService;
import io.corezfs.host.HostFacts;
import io.corezfs.host.NodeConfig;
import io.corezfs.host.RootFs;
import io.corezfs.install.InstallLock;
import io.corezfs.install.InstallState;
import io.corezfs.update.PrepareService;
import io.corezfs.update.RebootGate;
import io.corezfs.update.UpdateEngine;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "prepare",
        mixinStandardHelpOptions = true,
        description = {
            "Puts the archive for an OS version into this node's store (/var/lib/corezfs/archives) before the node"
                    + " runs that version, so the boot after an OS update finds its ZFS without the network. Mirror"
                    + " first (the index entry for the version names its kernel), otherwise a build on this node when"
                    + " the build policy allows it. Every archive is verified in full before it is added.",
            "",
            "--from-update-engine asks update_engine_client -status: with an update downloaded and waiting for the"
                    + " reboot (CURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT) it prepares NEW_VERSION, otherwise it"
                    + " says so and does nothing. corezfs-prepare.timer runs this.",
            "",
            "--check is a reboot gate: exit 0 only when the store holds the archive for the pending version (or,"
                    + " with no update pending, the running one); otherwise exit 3 and one line saying what is missing"
                    + " and what to run. It reads files only.",
            "",
            "Mirrors and the build policy come from " + NodeConfig.PATH + " (MIRRORS, BUILD, KEEP); flags win."
        },
        footerHeading = "%nExample:%n",
        footer = {
            "  sudo corezfs prepare --os-version 4081.2.0",
            "  sudo corezfs prepare --from-update-engine",
            "  corezfs prepare --check"
        })
final class PrepareCommand extends BaseCommand implements Callable<Integer> {
    @Option(
            names = "--os-version",
            paramLabel = "V",
            converter = OptionValues.Version.class,
            description = "The OS version to prepare (with --check: the one to check for instead of asking"
                    + " update_engine).")
    String osVersion;

    @Option(
            names = "--board",
            paramLabel = "B",
            converter = OptionValues.Name.class,
            description = "Board of the target (default: the running one's).")
    String board;

    @Option(
            names = "--channel",
            paramLabel = "C",
            converter = OptionValues.Name.class,
            description = "Channel of the target, as a build names its archive (default: the channel the node follows"
                    + " for updates).")
    String channel;

    @Option(
            names = "--mirror",
            paramLabel = "URL",
            converter = OptionValues.MirrorBase.class,
            description = "An archive mirror (http(s):// or file:///), tried in the order given; replaces MIRRORS.")
    List<URI> mirrors = new ArrayList<>();

    @Option(
            names = "--build",
            paramLabel = "POLICY",
            description = "never, prepare or boot: whether this run may build when no mirror has the archive (prepare"
                    + " and boot allow it); replaces BUILD.")
    String buildPolicy;

    @Option(names = "--from-update-engine", description = "Prepare the version update_engine is waiting to boot.")
    boolean fromUpdateEngine;

    @Option(names = "--check", description = "Exit 0 only when the archive the next boot needs is in the store.")
    boolean check;

    @Option(
            names = "--require-update",
            description = "With --check: also exit 3 when no update waits for the reboot, so exit 0 means \"an"
                    + " update needs the reboot and its archive is ready\", which is what kured's"
                    + " --reboot-sentinel-command asks.")
    boolean requireUpdate;

    @Option(
            names = "--max-index-size",
            paramLabel = "BYTES",
            defaultValue = "8M",
            converter = OptionValues.NonZeroBytes.class,
            description = "Largest index.json taken from a mirror (default: ${DEFAULT-VALUE}).")
    long maxIndexBytes;

    @Mixin
    BuildOptions build;

    @Mixin
    DownloadOptions downloads;

    @Mixin
    TrustOptions trust;

    PrepareCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        if (check && fromUpdateEngine) {
            throw new CorezfsException(ExitCode.USAGE, "--check asks update_engine itself; drop --from-update-engine");
        }
        if (requireUpdate && !check) {
            throw new CorezfsException(ExitCode.USAGE, "--require-update only applies with --check");
        }
        if (!check && fromUpdateEngine == (osVersion != null)) {
            throw new CorezfsException(
                    ExitCode.USAGE,
                    "name the version to prepare: --os-version V, or --from-update-engine (or --check)");
        }
        Optional<NodeConfig.BuildPolicy> buildFlag =
                Optional.ofNullable(buildPolicy).map(PrepareCommand::policy);
        RootFs fs = new RootFs(ctx.live().root());
        NodeConfig config = NodeConfig.load(fs);
        NodeStore store = new NodeStore(fs.root(), new ArchiveReader(ctx.limits()));
        HostFacts running = Hosts.detect(ctx, fs, Optional.empty());
        Optional<InstallState> installed = InstallState.read(fs.root());

        if (check) {
            Optional<String> pending = osVersion != null
                    ? Optional.of(osVersion)
                    : new UpdateEngine(ctx.live().system()).status().newVersion();
            if (requireUpdate && pending.isEmpty()) {
                // A reboot manager must not reboot a node that has nothing to boot into.
                throw CorezfsException.precondition("no update pending: no reboot needed");
            }
            RebootGate.Verdict v = new RebootGate(store)
                    .check(
                            pending,
                            running,
                            installed.filter(s -> fits(s.manifest(), running)).map(InstallState::archive));
            if (!v.ready()) {
                throw CorezfsException.precondition(v.line());
            }
            out().println(v.line());
            return 0;
        }
        String version = osVersion;
        if (fromUpdateEngine) {
            UpdateEngine.Status s = new UpdateEngine(ctx.live().system()).status();
            if (!s.pending()) {
                out().println("no update pending (CURRENT_OP=" + s.currentOp() + "); nothing to prepare");
                return 0;
            }
            version = s.newVersion().get();
            reporter().info("update_engine has " + running.os() + " " + version + " waiting for the reboot");
        }
        PrepareService.Target target = new PrepareService.Target(
                running.os(),
                version,
                board != null ? board : running.board(),
                channel != null ? channel : running.updateChannel(),
                running.arch());
        Set<Path> protect = new HashSet<>();
        installed.ifPresent(s -> protect.add(store.dir().resolve(s.archive())));
        store.find(running).ifPresent(protect::add);
        List<URI> effectiveMirrors = config.mirrors()
                .or(mirrors.isEmpty() ? Optional.empty() : Optional.of(mirrors), "--mirror")
                .value();
        PrepareService.Result r;
        // One run at a time on the root, install's lock: the timer's run, a manual one and an install all add to the
        // store and prune it.
        try (InstallLock lock = InstallLock.acquire(
                fs.root(), "corezfs prepare", InstallLock.waitFrom(ctx.env().getenv("COREZFS_LOCK_WAIT")))) {
            r = service(store, fs, trust.policy(ctx, fs, config))
                    .prepare(
                            target,
                            effectiveMirrors,
                            config.build().or(buildFlag, "--build"),
                            config.keep().value(),
                            protect);
        }
        Manifest m = r.manifest();
        String what = target.os() + " " + target.version() + " (kernel " + m.kernel() + ")";
        if (r.already()) {
            out().println("already prepared: " + r.archive().getFileName() + " for " + what + " in " + store.dir());
        } else {
            out().println("prepared " + r.archive().getFileName() + " for " + what + " from " + r.from());
        }
        return 0;
    }

    private static boolean fits(Manifest m, HostFacts host) {
        return m.os().equals(host.os())
                && m.osVersion().equals(host.version())
                && m.kernel().equals(host.kernel());
    }

    private static NodeConfig.BuildPolicy policy(String text) {
        return switch (text) {
            case "never", "prepare", "boot" -> NodeConfig.BuildPolicy.valueOf(text.toUpperCase(Locale.ROOT));
            default ->
                throw new CorezfsException(
                        ExitCode.USAGE,
                        "--build must be never, prepare or boot, not '" + io.corezfs.Text.printable(text, 80) + "'");
        };
    }

    private PrepareService service(NodeStore store, RootFs fs, io.corezfs.trust.TrustPolicy policy) {
        ArchiveLocator.Fetch fetch = (url, target, max) ->
                ctx.downloader(reporter(), downloads.limits(false)).fetchBounded(url, target, max);
        PrepareService.TargetBuild builder = (target, kernel, dir) -> {
            // The next version's kernel comes from its index entry or, for a build, from its own developer container
            // (BuildService reads /usr/lib/modules there): the running kernel never stands in for it.
            BuildService.OsRelease release = new BuildService.OsRelease(
                    target.os(), target.version(), target.board(), target.channel(), target.arch(), kernel);
            return BuildOptions.service(ctx, reporter(), downloads.limits(true))
                    .build(build.request(ctx), release, fs, Optional.empty(), dir);
        };
        return new PrepareService(
                store, new ArchiveReader(ctx.limits()), fetch, builder, reporter(), maxIndexBytes, policy);
    }
}
