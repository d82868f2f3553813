package io.corezfs.cli;

import io.corezfs.provisioner.Manifests;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "manifests",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Writes to stdout what runs the provisioner in a cluster, as one YAML stream for kubectl apply: its"
                    + " ServiceAccount, a ClusterRole (persistentvolumes, persistentvolumeclaims, storageclasses,"
                    + " events) and a Role for its Lease with their bindings, a Deployment of two replicas (one leads"
                    + " through the Lease, the other waits), and an example StorageClass \"corezfs\".",
            "",
            "The Deployment reaches the ZFS node over SSH with strict host keys. Create its Secret first:",
            "  kubectl -n NAMESPACE create secret generic " + Manifests.SSH_SECRET
                    + " --from-file=id_ed25519=KEY --from-file=known_hosts=KNOWN_HOSTS",
            "The node's user needs passwordless sudo for zfs."
        })
final class ProvisionerManifestsCommand extends BaseCommand implements Callable<Integer> {
    @Option(names = "--parent", required = true, paramLabel = "POOL/DATASET", description = "Where volumes are made.")
    String parent;

    @Option(names = "--node", required = true, paramLabel = "NAME", description = "The ZFS node's Kubernetes name.")
    String node;

    @Option(
            names = "--zfs-ssh",
            required = true,
            paramLabel = "[USER@]HOST[:PORT]",
            description = "The ZFS node's sshd, as the pods reach it.")
    String zfsSsh;

    @Option(
            names = "--namespace",
            defaultValue = "corezfs-system",
            paramLabel = "NAME",
            description = "Default: ${DEFAULT-VALUE}")
    String namespace;

    @Option(
            names = "--image",
            paramLabel = "IMAGE",
            description = "Default: corezfs-provisioner:<this version>, as scripts/provisioner-image.sh builds it and"
                    + " docker load (or ctr -n k8s.io images import) puts it on every node.")
    String image;

    @Option(
            names = "--pull-policy",
            paramLabel = "Never|IfNotPresent|Always",
            description = "The Deployment's imagePullPolicy. Default: Never for the default image, which no registry"
                    + " serves; IfNotPresent with --image.")
    String pullPolicy;

    ProvisionerManifestsCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        String img = image != null ? image : "corezfs-provisioner:" + ctx.toolVersion();
        String pull = pullPolicy != null ? pullPolicy : image == null ? "Never" : "IfNotPresent";
        out().print(new Manifests(namespace, img, pull, parent, node, zfsSsh).yaml());
        out().flush();
        return 0;
    }
}
