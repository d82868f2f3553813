package io.corezfs.cli;

import picocli.CommandLine.Command;

@Command(
        name = "provisioner",
        mixinStandardHelpOptions = true,
        subcommands = {ProvisionerRunCommand.class, ProvisionerManifestsCommand.class},
        description = {
            "The dynamic PersistentVolume provisioner corezfs.io/zfs: a claim of a StorageClass with that provisioner"
                    + " gets its own dataset PARENT/pvc-<claim uid>, refquota and refreservation set to the request,"
                    + " published as a hostPath PV with node affinity to the ZFS node, or over NFS with the class's"
                    + " sharenfs. A Released PV of policy Delete loses its dataset; Retain keeps it.",
            "",
            "It ships as its own artifact, corezfs-provisioner-<version>.tar.gz, as the Kubernetes client it needs"
                    + " would nearly double the node bundle."
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  corezfs provisioner manifests --parent tank/kube --node zfs-1 --zfs-ssh core@zfs-1 | kubectl apply -f -",
            "  corezfs provisioner run --parent tank/kube --node zfs-1 --zfs-ssh core@zfs-1"
        })
final class ProvisionerCommand extends BaseCommand implements Runnable {
    ProvisionerCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(
                spec.commandLine(), "a subcommand is required: run or manifests (see corezfs provisioner --help)");
    }
}
