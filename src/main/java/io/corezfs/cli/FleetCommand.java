package io.corezfs.cli;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.fleet.Budget;
import io.corezfs.fleet.Fleet;
import io.corezfs.fleet.SshSettings;
import io.corezfs.fleet.SshTarget;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "fleet",
        mixinStandardHelpOptions = true,
        // In the order an operator needs them: the nodes, the archive, the rollout, SSH; the build's options last.
        sortOptions = false,
        description = {
            "Runs install, prepare, status or uninstall on many nodes over SSH from this machine. Each node's OS,"
                    + " version, board and kernel are read over SSH by the same detector as `corezfs status`; nodes are"
                    + " grouped by that target and each group's archive is found once (--archive, --archive-dir,"
                    + " the archive store, --mirror), or, found nowhere, built once on this machine through Docker as"
                    + " `corezfs build` builds (--no-build forbids it; --dry-run never builds). The bundle (--bundle)"
                    + " goes only to nodes without that corezfs version; archives and their .sig files go into each"
                    + " node's store (/var/lib/corezfs/archives) under a partial name, are checked against their sha256"
                    + " there and renamed, and only then does the node install. A cut transfer resumes from what"
                    + " arrived.",
            "",
            "Safety defaults: host keys are checked strictly (--accept-new-host-keys takes unknown keys, never"
                    + " changed ones); remote commands run with sudo -n; one canary node first (--canary); 4 nodes at a"
                    + " time (--parallel); no new node starts after the first failure (--max-failures 0). status"
                    + " changes nothing, so it asks every node: --canary and --max-failures do not apply to it.",
            "",
            "An archive found nowhere is built with the options after --no-build below, which are `corezfs build`'s"
                    + " (see `corezfs build --help`).",
            "",
            "Exit 0 when every node succeeded, 7 when some failed or were held back, 3 when none could start."
        },
        footerHeading = "%nExample:%n",
        footer = {
            "  corezfs fleet install --hosts inventory.ini --group storage \\",
            "      --archive-dir /srv/corezfs --bundle corezfs-0.1.0-linux-x86_64.tar.gz \\",
            "      --canary 1 --parallel 8",
            "  corezfs fleet status core@10.0.0.5 core@10.0.0.6:2222 --json"
        })
final class FleetCommand extends BaseCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "ACTION", description = "install, prepare, status or uninstall.")
    String action;

    @Parameters(index = "1..*", paramLabel = "HOST", description = "[user@]host[:port], or a name in ~/.ssh/config.")
    List<String> hosts = new ArrayList<>();

    @Option(
            names = "--hosts",
            paramLabel = "FILE",
            converter = OptionValues.RegularFile.class,
            description =
                    "An inventory: [user@]host[:port] lines, or an Ansible INI or YAML inventory (groups, vars, host ranges like zfs[01:20]).")
    Path inventory;

    @Option(names = "--group", paramLabel = "NAME", description = "With an Ansible inventory: only this group.")
    String group;

    @Option(
            names = "--archive",
            paramLabel = "FILE",
            converter = OptionValues.RegularFile.class,
            description = "The archive for every node; a node of another target fails.")
    Path archive;

    @Option(
            names = "--archive-dir",
            paramLabel = "DIR",
            converter = OptionValues.AnyPath.class,
            description = "Look for each target's archive in DIR first (repeatable).")
    List<Path> archiveDirs = new ArrayList<>();

    @Option(
            names = "--mirror",
            paramLabel = "URL",
            converter = OptionValues.MirrorBase.class,
            description = "A mirror (index.json) to fetch each target's archive from, to this machine (repeatable).")
    List<URI> mirrors = new ArrayList<>();

    @Option(
            names = "--bundle",
            paramLabel = "FILE",
            converter = OptionValues.RegularFile.class,
            description = "corezfs-<version>-linux-<arch>.tar.gz, pushed to nodes that lack that version.")
    Path bundle;

    @Option(names = "--mode", paramLabel = "MODE", description = "install: passed on (auto, overlay, sysext).")
    String mode;

    @Option(names = "--export", description = "uninstall: export the pools first (never unless given).")
    boolean export;

    @Option(
            names = "--parallel",
            paramLabel = "N",
            defaultValue = "4",
            converter = OptionValues.Jobs.class,
            description = "Nodes at a time (default: ${DEFAULT-VALUE}).")
    int parallel;

    @Option(
            names = "--canary",
            paramLabel = "K",
            defaultValue = "1",
            description = "Nodes run alone first; if one fails nothing else starts (default: ${DEFAULT-VALUE}).")
    int canary;

    @Option(
            names = "--max-failures",
            paramLabel = "N|P%",
            defaultValue = "0",
            description = "Failures tolerated before no new node starts (default: ${DEFAULT-VALUE}).")
    String maxFailures;

    @Option(names = "--resume", description = "Skip nodes the state file records as done with the same archive.")
    boolean resume;

    @Option(
            names = "--state",
            paramLabel = "FILE",
            converter = OptionValues.AnyPath.class,
            description = "The run's state file (default: corezfs-fleet-state.json here). Each run but a dry run or"
                    + " status replaces it; a file fleet did not write is refused, never overwritten.")
    Path state;

    @Option(names = "--dry-run", description = "Print the plan (host, target, archive, action); change nothing.")
    boolean dryRun;

    @Option(names = "--json", description = "Print the report as one JSON object on stdout.")
    boolean json;

    @Option(
            names = "--identity",
            paramLabel = "FILE",
            converter = OptionValues.RegularFile.class,
            description = "Private key to log in with (else IdentityFile, ssh-agent, ~/.ssh/id_*).")
    Path identity;

    @Option(
            names = "--known-hosts",
            paramLabel = "FILE",
            converter = OptionValues.AnyPath.class,
            description = "Host keys to trust (default: ~/.ssh/known_hosts).")
    Path knownHosts;

    @Option(
            names = "--accept-new-host-keys",
            description = "Accept and record keys of hosts not in known_hosts; a changed key is still refused.")
    boolean acceptNew;

    @Option(
            names = "--ssh-config",
            paramLabel = "FILE",
            converter = OptionValues.AnyPath.class,
            description = "OpenSSH client configuration: HostName, User, Port, IdentityFile, and ProxyJump of one hop"
                    + " (default: ~/.ssh/config if it exists).")
    Path sshConfig;

    @Option(
            names = "--connect-timeout",
            paramLabel = "TIME",
            defaultValue = "10s",
            converter = OptionValues.Time.class,
            description = "Per node, to connect (default: ${DEFAULT-VALUE}).")
    Duration connectTimeout;

    @Option(
            names = "--command-timeout",
            paramLabel = "TIME",
            defaultValue = "30m",
            converter = OptionValues.Time.class,
            description = "Per remote command, a push included (default: ${DEFAULT-VALUE}).")
    Duration commandTimeout;

    @Option(
            names = "--remote-root",
            paramLabel = "DIR",
            description = "Act on the host tree under DIR on each node (install/status/uninstall --root DIR).")
    String remoteRoot = "/";

    @Option(
            names = "--no-build",
            description =
                    "Fail a target's nodes when no archive for it is found, instead of building one here (once per"
                            + " target, through Docker, as `corezfs build` does).")
    boolean noBuild;

    @Mixin
    BuildOptions build;

    @Mixin
    DownloadOptions downloads;

    @Option(
            names = "--sign-key",
            paramLabel = "KEY",
            description = "Sign archives this run builds (FILE.sig) with this ed25519 ssh key, for nodes that require"
                    + " signatures.")
    Path signKey;

    FleetCommand(Context ctx) {
        super(ctx);
    }

    /** Builds a target's archive on this machine; loaded before any node is reached, so a bad key fails first. */
    private Optional<java.util.function.BiFunction<io.corezfs.host.HostFacts, Path, Path>> builder() {
        if (noBuild) {
            if (signKey != null) {
                throw new CorezfsException(
                        ExitCode.USAGE,
                        "--sign-key signs the archives this run builds; with --no-build it builds none");
            }
            return Optional.empty();
        }
        Optional<io.corezfs.trust.Signer> signer =
                Optional.ofNullable(signKey).map(k -> io.corezfs.trust.Signer.load(ctx.resolve(k)));
        // The nodes' own roots are not here, so no base image decides which libraries to leave out.
        io.corezfs.host.RootFs none = BuildOptions.noTargetRoot(ctx);
        return Optional.of((facts, dir) -> {
            Path built = BuildOptions.service(ctx, reporter(), downloads.limits(true))
                    .build(build.request(ctx), facts, none, Optional.empty(), dir);
            BuildOptions.sign(signer, built, reporter());
            return built;
        });
    }

    @Override
    public Integer call() {
        Fleet.Action act = FleetSetup.action(action);
        if (archive != null && (!archiveDirs.isEmpty() || !mirrors.isEmpty())) {
            throw new CorezfsException(
                    ExitCode.USAGE, "--archive names the one archive; drop --archive-dir and --mirror");
        }
        if (mode != null && act != Fleet.Action.INSTALL || export && act != Fleet.Action.UNINSTALL) {
            throw new CorezfsException(ExitCode.USAGE, "--mode is for install, --export for uninstall");
        }
        if (canary < 0 || !remoteRoot.startsWith("/")) {
            throw new CorezfsException(ExitCode.USAGE, "--canary must be 0 or more, --remote-root an absolute path");
        }
        Budget budget = Budget.parse(maxFailures);
        if (act == Fleet.Action.STATUS) {
            // It changes nothing, so there is nothing to hold back: a broken node must not hide the others' status.
            canary = 0;
            budget = Budget.parse("100%");
        }
        FleetSetup setup = new FleetSetup(ctx, reporter(), verbosity());
        List<SshTarget> targets = setup.targets(
                hosts,
                Optional.ofNullable(inventory),
                Optional.ofNullable(group),
                Optional.ofNullable(sshConfig),
                Optional.ofNullable(identity));
        Optional<Fleet.Bundle> b = Optional.ofNullable(bundle).map(f -> setup.bundle(ctx.resolve(f)));
        List<String> args = new ArrayList<>();
        if (mode != null) {
            args.addAll(List.of("--mode", mode));
        }
        if (export) {
            args.add("--export");
        }
        SshSettings ssh = setup.ssh(Optional.ofNullable(knownHosts), acceptNew, connectTimeout);
        Fleet fleet = new Fleet(
                ctx.ssh().open(ssh),
                setup.detector(),
                setup.archives(Optional.ofNullable(archive), archiveDirs, mirrors, builder()),
                reporter());
        Fleet.Report report = fleet.run(new Fleet.Request(
                act,
                targets,
                remoteRoot,
                b,
                b.map(Fleet.Bundle::version).orElse(ctx.toolVersion()),
                parallel,
                canary,
                budget,
                resume,
                dryRun,
                commandTimeout,
                args,
                ctx.resolve(state != null ? state : Path.of("corezfs-fleet-state.json"))));
        if (json) {
            out().println(Json.write(FleetSetup.json(report)));
        } else {
            out().print(FleetSetup.table(report));
            // print() does not flush an autoflush writer, and the process exits right after.
            out().flush();
        }
        return report.exitCode();
    }
}
