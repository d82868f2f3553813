package io.corezfs.provisioner;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The provisioner as a long-running process: metrics served, the cluster reached, and the controller run while this
 * replica holds the Lease (or all along, without one). The only way in from the command, so the command itself never
 * names a class of the Kubernetes client, which the node bundle does not carry.
 *
 * @param kubeconfig     a kubeconfig's text, else fabric8's own discovery (in a pod: its service account)
 * @param leaseNamespace where the Lease is; empty: no election, for a single replica only
 */
public record Service(
        Provisioner.Settings settings,
        Optional<String> kubeconfig,
        Duration resync,
        InetSocketAddress metricsAddress,
        Optional<String> leaseNamespace,
        String leaseName,
        String identity) {
    private static final Logger LOG = LoggerFactory.getLogger(Service.class);
    private static final String CLIENT = "io.fabric8.kubernetes.client.KubernetesClientBuilder";

    /** Whether the Kubernetes client's jars are on the class path: in the provisioner's tree, not the node's. */
    public static boolean clientAvailable() {
        try {
            Class.forName(CLIENT, false, Service.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /**
     * Runs until the Lease is lost (then returns, so the process ends and its restart queues for the Lease again) or
     * the thread is interrupted.
     */
    public void run(ZfsCommands zfs) {
        Metrics metrics = new Metrics();
        try (MetricsServer server = MetricsServer.start(metricsAddress, metrics);
                Fabric8Cluster cluster = Fabric8Cluster.connect(kubeconfig)) {
            LOG.info(
                    "metrics on http://{}:{}/metrics",
                    server.address().getHostString(),
                    server.address().getPort());
            Provisioner provisioner = new Provisioner(cluster, zfs, settings, metrics);
            if (leaseNamespace.isEmpty()) {
                metrics.leader(true);
                new Controller(cluster, provisioner, resync).run();
                return;
            }
            LOG.info("waiting for the Lease {}/{} as {}", leaseNamespace.get(), leaseName, identity);
            // One controller per term of leadership: a stopped one stays stopped.
            java.util.concurrent.atomic.AtomicReference<Controller> term =
                    new java.util.concurrent.atomic.AtomicReference<>();
            cluster.whileLeader(
                    leaseNamespace.get(),
                    leaseName,
                    identity,
                    () -> {
                        Controller c = new Controller(cluster, provisioner, resync);
                        term.set(c);
                        LOG.info("leading: provisioning as {}", identity);
                        metrics.leader(true);
                        c.run();
                    },
                    () -> {
                        metrics.leader(false);
                        Controller c = term.get();
                        if (c != null) {
                            c.stop();
                        }
                    });
        }
    }
}
