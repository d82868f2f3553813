package io.corezfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.testing.KubeLab;
import io.corezfs.testing.Lab;
import io.corezfs.testing.ProvisionerImage;
import io.corezfs.testing.VmBoot;
import io.corezfs.testing.VmLab;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The FlexVolume driver under the real kubelet 1.20.2 and containerd 1.6: the lab VM (lab/vm-kubelet.sh's image) gets
 * corezfs and ZFS, a pool and {@code corezfs flexvolume install}, then runs the kubelet, which registers with the lab
 * control plane on this host (lab/k8s-up.sh, 127.0.0.1) through the VM's only way out, a qemu guestfwd to the
 * apiserver's port. A pod whose flexVolume names {@code corezfs/zfs} writes into its quotaed dataset, fails to write
 * past the quota, and after the pod is deleted the dataset and its data are still there, for a second pod that reads
 * them. See kubelet.sh.
 */
@Timeout(value = 90, unit = TimeUnit.MINUTES)
@Execution(ExecutionMode.CONCURRENT) // a VM class: runs beside one other class (pom.xml, failsafe)
class KubeletFlexVolumeIT {
    private static final Pattern SERVER = Pattern.compile("server: https://127\\.0\\.0\\.1:(\\d+)");

    @Test
    void aPodOnTheRealKubeletGetsAQuotaedDatasetThatOutlivesIt() throws Exception {
        VmLab.requireVm();
        Lab.requireBuilt();
        Lab.requireDocker();
        KubeLab.require();
        Path bundle = Lab.bundle();
        Path archive = LiveInstallIT.vmArchive();

        KubeLab kube = KubeLab.up(3); // its own control plane (lab/k8s-lib.sh), beside others in CI's lanes
        try (VmLab vm = VmLab.create("kubelet")) {
            Matcher m = SERVER.matcher(Files.readString(kube.kubeconfig()));
            assertTrue(m.find(), "no apiserver URL in " + kube.kubeconfig());
            Path pki = kube.stateDir().resolve("pki");
            vm.script("vmlib.sh", "vmlib.sh")
                    .script("kubelet.sh", "run.sh")
                    .file(bundle, "corezfs-bundle.tar.gz")
                    .file(archive, "archives/" + archive.getFileName())
                    .env(
                            "BUNDLE",
                            "corezfs-bundle.tar.gz",
                            "ARCHIVE",
                            archive.getFileName().toString(),
                            "MODE",
                            "sysext");
            // The provisioner image's root file system: its tree (a runtime with the Kubernetes client's modules) runs
            // on the node, zfs locally, for a claim that a pod writes through.
            ProvisionerImage.tag();
            vm.file(VmLab.repo().resolve("target/provisioner-image/rootfs.tar"), "provisioner-rootfs.tar");
            for (String f : List.of("ca.crt", "kubelet.crt", "kubelet.key", "admin.crt", "admin.key")) {
                vm.file(pki.resolve(f), "k8s/" + f);
            }
            vm.prepare();
            assertEquals(
                    0,
                    vm.lab(
                            Duration.ofMinutes(45),
                            "bash",
                            VmLab.repo().resolve("lab/vm-kubelet.sh").toString(),
                            "--run",
                            vm.name()),
                    "lab/vm-kubelet.sh --run failed (see target/vm-it/" + vm.name() + "/lab.log)");
            vm.guestfwd(Integer.parseInt(m.group(1)));
            ExecutorService runner = Executors.newSingleThreadExecutor();
            CompletableFuture<VmBoot> running =
                    CompletableFuture.supplyAsync(() -> vm.firstBoot(Duration.ofMinutes(60)), runner);
            // While the kubelet is connected (its connections relayed from the guestfwd): the node it registered, and
            // the control plane's sockets, every one on loopback.
            String addresses = "";
            KubeLab.Sockets sockets = null;
            VmBoot boot;
            try {
                while (!running.isDone()) {
                    KubeLab.Result ready = kube.kubectl(
                            "get",
                            "node",
                            "lab-node",
                            "-o",
                            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}");
                    if (ready.code() == 0 && ready.out().strip().equals("True")) {
                        addresses = kube.kubectlOk(
                                "get",
                                "node",
                                "lab-node",
                                "-o",
                                "jsonpath={range .status.addresses[*]}{.type}={.address} {end}");
                        sockets = kube.sockets();
                        break;
                    }
                    Thread.sleep(2000);
                }
                boot = running.get();
            } finally {
                // The boot ends by itself (vm-run.sh's timeout); the run is not deleted under a running VM.
                running.handle((b, e) -> null).join();
                runner.shutdown();
            }
            boot.assertChecks(
                    "install-rc",
                    "boot1-module-loaded",
                    "pool-created",
                    "parent-created",
                    "flex-install-rc",
                    "driver-executable",
                    "cgroup-v2",
                    "network-up",
                    "apiserver-reachable",
                    "containerd-up",
                    "image-pause-imported",
                    "image-busybox-imported",
                    "node-registered",
                    "node-ready",
                    "pod-created",
                    "pod-done",
                    "pod-succeeded",
                    "pod-exit-code",
                    "quota-enforced-in-pod",
                    "mounted-by-kubelet",
                    "dataset-mounted",
                    "quota",
                    "compression",
                    "written-by-pod",
                    "big-file-removed-by-pod",
                    "pod-deleted",
                    "pod-gone",
                    "unmounted-by-kubelet",
                    "dataset-kept",
                    "data-kept",
                    "data-unchanged",
                    "quota-kept",
                    "reader-created",
                    "reader-done",
                    "reader-succeeded",
                    "reader-sees-data",
                    "reader-deleted",
                    "reader-unmounted",
                    "dataset-kept-after-reader",
                    "provisioner-unpacked",
                    "claim-created",
                    "claim-bound",
                    "claim-refquota-refreservation",
                    "claimer-created",
                    "claimer-done",
                    "claimer-succeeded",
                    "claim-quota-in-pod",
                    "claim-written",
                    "claimer-deleted",
                    "claim-deleted",
                    "claim-dataset-destroyed",
                    "claim-pv-deleted");

            // The node advertises the VM's own address on qemu's user network, never this machine's.
            assertEquals("InternalIP=10.0.2.15 Hostname=lab-node", addresses.strip());
            KubeLab.Sockets seen = sockets;
            assertTrue(seen != null, "the node was never Ready as seen from the host");
            assertTrue(
                    seen.offLoopback().isEmpty(),
                    () -> "control plane sockets off loopback:\n" + String.join("\n", seen.offLoopback()));
            // The apiserver's side: the node the kubelet registered, with the kubelet's version.
            String version =
                    kube.kubectlOk("get", "node", "lab-node", "-o", "jsonpath={.status.nodeInfo.kubeletVersion}");
            assertEquals("v1.20.2", version.strip());
            String runtime = kube.kubectlOk(
                    "get", "node", "lab-node", "-o", "jsonpath={.status.nodeInfo.containerRuntimeVersion}");
            assertTrue(runtime.startsWith("containerd://1.6."), runtime);
        } finally {
            kube.down();
        }
    }
}
