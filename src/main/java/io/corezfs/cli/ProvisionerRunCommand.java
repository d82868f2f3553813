package io.corezfs.cli;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.fleet.Inventory;
import io.corezfs.fleet.SshConfig;
import io.corezfs.fleet.SshTarget;
import io.corezfs.host.RootFs;
import io.corezfs.provisioner.Provisioner;
import io.corezfs.provisioner.Service;
import io.corezfs.provisioner.ZfsCommands;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Runs the provisioner until stopped (or until another replica takes its Lease). zfs runs on this machine,"
                    + " or with --zfs-ssh on the ZFS node as sudo -n zfs, its host key checked against --known-hosts"
                    + " (an unknown or changed key is refused). The cluster is reached through --kubeconfig, else"
                    + " KUBECONFIG, ~/.kube/config or the pod's service account.",
            "",
            "Needs the Kubernetes client, which only corezfs-provisioner-<version>.tar.gz carries."
        })
final class ProvisionerRunCommand extends BaseCommand implements Callable<Integer> {
    private static final Pattern HOST_PORT = Pattern.compile("(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):([0-9]{1,5})");

    @Option(names = "--parent", required = true, paramLabel = "POOL/DATASET", description = "Where volumes are made.")
    String parent;

    @Option(
            names = "--node",
            required = true,
            paramLabel = "NAME",
            description = "The Kubernetes name of the node with the pool: hostPath PVs get affinity to it.")
    String node;

    @Option(
            names = "--nfs-server",
            paramLabel = "HOST",
            description = "The address NFS clients mount from, for classes with sharenfs.")
    String nfsServer;

    @Option(names = "--zfs-ssh", paramLabel = "[USER@]HOST[:PORT]", description = "Run zfs on this node over SSH.")
    String zfsSsh;

    @Option(names = "--ssh-identity", paramLabel = "FILE", description = "The key for --zfs-ssh.")
    Path identity;

    @Option(
            names = "--known-hosts",
            paramLabel = "FILE",
            description = "Host keys to trust for --zfs-ssh (default: ~/.ssh/known_hosts).")
    Path knownHosts;

    @Option(
            names = "--kubeconfig",
            paramLabel = "FILE",
            converter = OptionValues.RegularFile.class,
            description = "The cluster's kubeconfig.")
    Path kubeconfig;

    @Option(
            names = "--resync",
            paramLabel = "TIME",
            defaultValue = "30s",
            converter = OptionValues.Time.class,
            description = "Look at every claim and volume at least this often. Default: ${DEFAULT-VALUE}")
    Duration resync;

    @Option(
            names = "--metrics-address",
            paramLabel = "HOST:PORT",
            defaultValue = "127.0.0.1:9808",
            description = "Serve Prometheus metrics at http://HOST:PORT/metrics. Default: ${DEFAULT-VALUE}")
    String metricsAddress;

    @Option(
            names = "--lease-namespace",
            paramLabel = "NAME",
            description = "Elect a leader through a Lease in this namespace; without it, run one replica only.")
    String leaseNamespace;

    @Option(
            names = "--lease-name",
            paramLabel = "NAME",
            defaultValue = "corezfs-provisioner",
            description = "Default: ${DEFAULT-VALUE}")
    String leaseName;

    @Option(
            names = "--id",
            paramLabel = "NAME",
            description = "This replica's name in the Lease. Default: $POD_NAME, else $HOSTNAME.")
    String id;

    ProvisionerRunCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        Provisioner.Settings settings = new Provisioner.Settings(parent, node, Optional.ofNullable(nfsServer));
        InetSocketAddress metrics = address(metricsAddress);
        if (!Service.clientAvailable()) {
            throw CorezfsException.precondition("this corezfs has no Kubernetes client; the provisioner runs from"
                    + " corezfs-provisioner-" + ctx.toolVersion() + ".tar.gz");
        }
        Optional<String> config =
                Optional.ofNullable(kubeconfig).map(ctx::resolve).map(f -> RootFs.readText(f, f.toString()));
        String me = Optional.ofNullable(id)
                .or(() -> ctx.env().getenv("POD_NAME"))
                .or(() -> ctx.env().getenv("HOSTNAME"))
                .filter(s -> !s.isBlank())
                .orElseThrow(() -> new CorezfsException(
                        ExitCode.USAGE, "--id is needed: neither POD_NAME nor" + " HOSTNAME is set"));
        ZfsCommands zfs = zfsSsh == null ? ZfsCommands.local(ctx.live().system()) : overSsh();
        // Before the cluster is reached: a node that cannot be reached (or whose host key is not trusted) or a
        // missing parent would otherwise only show as every claim failing.
        if (!zfs.exists(parent)) {
            throw CorezfsException.precondition("the parent dataset " + parent + " does not exist"
                    + (zfsSsh == null ? "" : " on " + zfsSsh) + "; create it (with a mount point) first");
        }
        new Service(settings, config, resync, metrics, Optional.ofNullable(leaseNamespace), leaseName, me).run(zfs);
        reporter().warn("the provisioner stopped (its Lease was lost or it was interrupted)");
        return ExitCode.UNEXPECTED.code();
    }

    private ZfsCommands overSsh() {
        FleetSetup setup = new FleetSetup(ctx, reporter(), 0);
        SshTarget target = Inventory.resolve(
                Inventory.address(zfsSsh, "--zfs-ssh"),
                SshConfig.EMPTY,
                Optional.ofNullable(identity).map(ctx::resolve),
                setup.local());
        var settings = setup.ssh(Optional.ofNullable(knownHosts), false, Duration.ofSeconds(15));
        var ssh = ctx.ssh().open(settings);
        return ZfsCommands.overSsh(() -> ssh.connect(target), target.address());
    }

    private static InetSocketAddress address(String value) {
        Matcher m = HOST_PORT.matcher(value);
        int port = m.matches() ? Integer.parseInt(m.group(2)) : -1;
        if (port < 0 || port > 65535) {
            throw new CorezfsException(ExitCode.USAGE, "--metrics-address must be HOST:PORT, not '" + value + "'");
        }
        String host = m.group(1).replaceAll("^\\[|\\]$", "");
        return new InetSocketAddress(host, port);
    }
}
