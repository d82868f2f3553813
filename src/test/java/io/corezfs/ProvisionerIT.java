package io.corezfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.VmNodes.Node;
import io.corezfs.VmNodes.Run;
import io.corezfs.testing.KubeLab;
import io.corezfs.testing.VmBoot;
import io.corezfs.testing.VmLab;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * Issue 17's provisioner, end to end: the lab's real kube-apiserver and kube-controller-manager (built from Debian's
 * source, on 127.0.0.1), and the ZFS side in a lab VM that {@code corezfs fleet install} gave ZFS. The packaged
 * provisioner (its own tree, target/corezfs-provisioner) runs on the host and reaches the node's zfs over SSH
 * through qemu's host forward, with strict host keys, as the identity that {@code corezfs provisioner manifests}
 * creates (its ServiceAccount's token): the RBAC it writes is what is proven sufficient.
 *
 * <p>In order: a provisioner whose role cannot create PVs makes a claim's dataset and is killed there; its successor
 * converges without a second {@code zfs create}. Then two replicas share one Lease: five claims at once get one dataset
 * each, exactly once; 100Mi claims of a Delete and a Retain class become Bound with refquota = refreservation = 100M;
 * the node writes into them as the kubelet would (and fails past the quota); deleting the claims destroys the Delete
 * one's dataset and keeps the Retain one's with its data. Last, the Lease's holder is killed and the other replica
 * provisions the next claim.
 */
@Execution(ExecutionMode.CONCURRENT) // a VM class: runs beside one other class (pom.xml, failsafe)
class ProvisionerIT {
    /** Its own control plane, so another Kubernetes class may run in the other lane (lab/k8s-lib.sh). */
    private static final int KUBE_INSTANCE = 2;

    private static final String NS = "corezfs-system";
    private static final String APP = "apps";
    private static final String PARENT = "tank/kube";
    private static final String NODE_NAME = "lab-vm";
    private static final long MIB100 = 100L * 1024 * 1024;

    static VmNodes.Payload payload;
    static Path provisioner;

    @BeforeAll
    @Timeout(value = 60, unit = TimeUnit.MINUTES) // a cold cache compiles OpenZFS and builds Kubernetes
    static void payload() throws Exception {
        payload = VmNodes.payload();
        provisioner = VmLab.repo().resolve("target/corezfs-provisioner/bin/corezfs");
        assertTrue(Files.isExecutable(provisioner), "no " + provisioner + " (mvn package builds it)");
        KubeLab.require();
    }

    /** A provisioner process on the host, its output in a file. */
    record Replica(String id, Process process, Path log, int metricsPort) {
        String metrics() throws IOException, InterruptedException {
            HttpResponse<String> r = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                                    .timeout(Duration.ofSeconds(10))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            return r.body();
        }

        String output() throws IOException {
            return Files.readString(log, StandardCharsets.UTF_8);
        }

        void kill() throws InterruptedException {
            process.destroyForcibly();
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), id + " did not end");
        }
    }

    @Test
    @Timeout(value = 75, unit = TimeUnit.MINUTES)
    void claimsOnTheRealApiServerGetDatasetsOnTheVmNodeOnceEachThroughRestartsAndTwoReplicas() throws Exception {
        Path work = Files.createDirectories(VmLab.repo().resolve("target/vm-it"));
        Path dir = Files.createTempDirectory(work, "provisioner");
        Path home = Files.createDirectories(dir.resolve("home"));
        Path key = dir.resolve("id_ed25519");
        Files.copy(payload.sshd().resolve("id_ed25519"), key);
        Path knownHosts = dir.resolve("known_hosts");
        String hostKey = Files.readString(payload.sshd().resolve("ssh_host_ed25519_key.pub"), StandardCharsets.US_ASCII)
                .strip();

        ExecutorService boots = Executors.newSingleThreadExecutor();
        List<Replica> replicas = new ArrayList<>();
        Node node = null;
        KubeLab kube = null;
        try {
            VmLab vm = VmLab.create("provisioner");
            vm.script("vmlib.sh", "vmlib.sh").script("provisioner-node.sh", "run.sh");
            vm.prepare();
            assertEquals(
                    0,
                    vm.lab(
                            Duration.ofMinutes(20),
                            "bash",
                            VmLab.repo().resolve("lab/vm-sshd.sh").toString(),
                            "--run",
                            vm.name()));
            int port = VmNodes.freePort();
            vm.bootOptions("--hostfwd", Integer.toString(port));
            Files.writeString(
                    knownHosts, "[127.0.0.1]:" + port + " " + hostKey.substring(0, hostKey.lastIndexOf(' ')) + "\n");
            node = new Node(
                    "p", vm, port, CompletableFuture.supplyAsync(() -> vm.firstBoot(Duration.ofMinutes(60)), boots));
            // The control plane starts while the VM boots: both take minutes, on different cores.
            kube = KubeLab.up(KUBE_INSTANCE);
            VmNodes.awaitSsh(node, key, knownHosts, Duration.ofMinutes(20));

            scenario(kube, node, dir, home, key, knownHosts, replicas);
        } finally {
            for (Replica r : replicas) {
                if (r.process().isAlive()) {
                    r.kill();
                }
                System.out.printf("[provisioner-it] %s's output:%n%s%n", r.id(), r.output());
            }
            if (node != null && !node.boot().isDone()) {
                // A failed assertion above leaves the guest waiting: tell it, so it powers off instead of timing out.
                VmNodes.ssh(node, key, knownHosts, "sudo -n touch /run/lab-provisioner-done");
            }
            boots.shutdown();
            boots.awaitTermination(20, TimeUnit.MINUTES);
            if (node != null) {
                node.vm().close();
            }
            if (kube != null) {
                kube.down();
            }
        }
    }

    private void scenario(
            KubeLab kube, Node node, Path dir, Path home, Path key, Path knownHosts, List<Replica> replicas)
            throws Exception {
        Run install = payload.fleet(
                home,
                key,
                knownHosts,
                List.of(node.address()),
                "install",
                "--archive",
                payload.archive().toString(),
                "--bundle",
                payload.bundle().toString(),
                "--canary",
                "0",
                "--state",
                dir.resolve("state.json").toString());
        assertEquals(0, install.code(), install::toString);
        nodeOk(
                node,
                key,
                knownHosts,
                "sudo -n zpool create -f tank /dev/vdb && sudo -n zfs create -o" + " mountpoint=/tank/kube " + PARENT);

        // What an operator applies: the manifests' RBAC (the Deployment stays unscheduled: no kubelet here).
        kube.kubectlOk("create", "namespace", NS);
        kube.kubectlOk("create", "namespace", APP);
        Run manifests = VmNodes.exec(
                home,
                Duration.ofMinutes(2),
                provisioner.toString(),
                "provisioner",
                "manifests",
                "--parent",
                PARENT,
                "--node",
                NODE_NAME,
                "--zfs-ssh",
                "core@" + node.address());
        assertEquals(0, manifests.code(), manifests::toString);
        KubeLab.Result applied = kube.kubectlWithInput(manifests.out(), "apply", "-f", "-");
        assertEquals(0, applied.code(), applied::describe);
        KubeLab.Result sc = kube.kubectlWithInput(classes(), "apply", "-f", "-");
        assertEquals(0, sc.code(), sc::describe);
        Path saConfig = serviceAccountKubeconfig(kube, dir, "corezfs-provisioner");

        // 1. A restart in the middle of provisioning: this identity may read claims and volumes but not create
        // PVs, so it makes the dataset and then fails on every pass, as a crash between the two would leave it.
        KubeLab.Result role = kube.kubectlWithInput(limitedRole(), "apply", "-f", "-");
        assertEquals(0, role.code(), role::describe);
        Path limited = serviceAccountKubeconfig(kube, dir, "corezfs-limited");
        Replica cut = start(dir, "cut", limited, key, knownHosts, node, false);
        replicas.add(cut);
        String first = claim(kube, "first", "corezfs-delete");
        String firstSet = PARENT + "/pvc-" + first;
        await(
                Duration.ofMinutes(5),
                "the dataset of claim 'first' on the node",
                () -> sshOut(node, key, knownHosts, "sudo -n zfs list -H -o name " + firstSet + " 2>&1"),
                s -> s.strip().equals(firstSet),
                cut);
        await(
                Duration.ofMinutes(2),
                "the refused PV create in the cut replica's output",
                cut::output,
                s -> s.contains("forbidden") || s.contains("Forbidden") || s.contains("403"),
                cut);
        assertEquals("Pending", phase(kube, "first"));
        cut.kill();

        Replica r1 = start(dir, "r1", saConfig, key, knownHosts, node, true);
        replicas.add(r1);
        Replica r2 = start(dir, "r2", saConfig, key, knownHosts, node, true);
        replicas.add(r2);
        awaitBound(kube, "first", r1, r2);
        assertEquals(1, creates(node, key, knownHosts, firstSet), "one zfs create of " + firstSet);

        // 2. Two replicas, one Lease: five claims at once, each provisioned once.
        StringBuilder five = new StringBuilder();
        IntStream.rangeClosed(1, 5).forEach(i -> five.append(claimYaml("many-" + i, "corezfs-delete")));
        KubeLab.Result many = kube.kubectlWithInput(five.toString(), "apply", "-f", "-");
        assertEquals(0, many.code(), many::describe);
        for (int i = 1; i <= 5; i++) {
            awaitBound(kube, "many-" + i, r1, r2);
            String uid = kube.kubectlOk("get", "pvc", "many-" + i, "-n", APP, "-o", "jsonpath={.metadata.uid}");
            assertEquals(1, creates(node, key, knownHosts, PARENT + "/pvc-" + uid), "claim many-" + i);
        }
        String holder = kube.kubectlOk(
                "get", "lease", "corezfs-provisioner", "-n", NS, "-o", "jsonpath={.spec.holderIdentity}");
        assertTrue(holder.equals("r1") || holder.equals("r2"), "Lease holder: " + holder);
        Replica leader = holder.equals("r1") ? r1 : r2;
        Replica follower = leader == r1 ? r2 : r1;
        assertTrue(leader.metrics().contains("corezfs_provisioner_leader 1"), leader.metrics());
        assertTrue(follower.metrics().contains("corezfs_provisioner_leader 0"), follower.metrics());
        assertTrue(
                leader.metrics().contains("corezfs_provisioner_claims_total{outcome=\"provisioned\"}"),
                leader.metrics());

        // 3. 100Mi in a Delete class and in a Retain class: refquota = refreservation = 100M, written by the node
        // as the kubelet would (into the PV's hostPath), and refused past the quota.
        String gone = claim(kube, "scratch", "corezfs-delete");
        String kept = claim(kube, "keep", "corezfs-retain");
        for (String[] c : List.of(new String[] {"scratch", gone}, new String[] {"keep", kept})) {
            awaitBound(kube, c[0], r1, r2);
            String set = PARENT + "/pvc-" + c[1];
            assertEquals(
                    MIB100 + "\n" + MIB100 + "\n" + c[1],
                    sshOut(
                                    node,
                                    key,
                                    knownHosts,
                                    "sudo -n zfs get -Hp -o value refquota,refreservation,io.corezfs:claim " + set)
                            .strip());
            String path = kube.kubectlOk("get", "pv", "pvc-" + c[1], "-o", "jsonpath={.spec.hostPath.path}");
            assertEquals(
                    NODE_NAME,
                    kube.kubectlOk(
                            "get",
                            "pv",
                            "pvc-" + c[1],
                            "-o",
                            "jsonpath={.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}"));
            nodeOk(
                    node,
                    key,
                    knownHosts,
                    "sudo -n dd if=/dev/urandom of=" + path + "/data bs=1M count=40 status=none && sync && sudo -n"
                            + " sha256sum " + path + "/data > /tmp/" + c[0] + ".sum");
            Run over = VmNodes.ssh(
                    node,
                    key,
                    knownHosts,
                    "sudo -n dd if=/dev/urandom of=" + path + "/more bs=1M count=120 conv=fsync status=none");
            assertNotEquals(0, over.code(), () -> "a write past the 100M quota succeeded: " + over);
            assertTrue(over.err().contains("Disk quota exceeded"), over::toString);
        }
        kube.kubectlOk("delete", "pvc", "scratch", "keep", "-n", APP, "--wait=false");
        await(
                Duration.ofMinutes(5),
                "the Delete claim's PV gone",
                () -> kube.kubectl("get", "pv", "pvc-" + gone, "-o", "name").err(),
                s -> s.contains("NotFound"),
                r1,
                r2);
        assertTrue(
                sshOut(node, key, knownHosts, "sudo -n zfs list -H -o name " + PARENT + "/pvc-" + gone + " 2>&1")
                        .contains("does not exist"),
                "the Delete claim's dataset is destroyed");
        await(
                Duration.ofMinutes(3),
                "the Retain claim's PV Released",
                () -> kube.kubectlOk("get", "pv", "pvc-" + kept, "-o", "jsonpath={.status.phase}"),
                s -> s.equals("Released"),
                r1,
                r2);
        // A few passes later (resync 5 s), the Retain dataset and its data are still there.
        Thread.sleep(15_000);
        assertEquals("Released", kube.kubectlOk("get", "pv", "pvc-" + kept, "-o", "jsonpath={.status.phase}"));
        nodeOk(node, key, knownHosts, "sudo -n sha256sum -c --status /tmp/keep.sum");
        assertEquals(
                "Retain",
                sshOut(
                                node,
                                key,
                                knownHosts,
                                "sudo -n zfs get -H -o value io.corezfs:reclaim " + PARENT + "/pvc-" + kept)
                        .strip());

        // 4. The Lease's holder dies: the other replica takes over and provisions the next claim.
        leader.kill();
        String after = claim(kube, "after", "corezfs-delete");
        awaitBound(kube, "after", follower);
        assertEquals(
                follower.id(),
                kube.kubectlOk(
                        "get", "lease", "corezfs-provisioner", "-n", NS, "-o", "jsonpath={.spec.holderIdentity}"));
        assertEquals(1, creates(node, key, knownHosts, PARENT + "/pvc-" + after));

        nodeOk(node, key, knownHosts, "sudo -n touch /run/lab-provisioner-done");
        VmBoot b = node.boot().get(15, TimeUnit.MINUTES);
        b.assertChecks("sshd-running", "host-said-done", "provisioner-module-loaded", "pool-online", "foreign-dataset");
    }

    /** The packaged provisioner, as an operator runs it outside the cluster: zfs over SSH, strict host keys. */
    private Replica start(Path dir, String id, Path kubeconfig, Path key, Path knownHosts, Node node, boolean lease)
            throws IOException {
        int metrics = VmNodes.freePort();
        Path log = dir.resolve(id + ".log");
        List<String> cmd = new ArrayList<>(List.of(
                provisioner.toString(),
                "provisioner",
                "run",
                "--parent",
                PARENT,
                "--node",
                NODE_NAME,
                "--zfs-ssh",
                "core@" + node.address(),
                "--ssh-identity",
                key.toString(),
                "--known-hosts",
                knownHosts.toString(),
                "--kubeconfig",
                kubeconfig.toString(),
                "--id",
                id,
                "--metrics-address",
                "127.0.0.1:" + metrics,
                "--resync",
                "5s",
                "-v")); // its INFO lines (leading, provisioned, destroyed) for the post-mortem below
        if (lease) {
            cmd.addAll(List.of("--lease-namespace", NS));
        }
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("HOME", dir.resolve("home").toString());
        pb.environment().remove("SSH_AUTH_SOCK");
        pb.environment().remove("KUBECONFIG");
        return new Replica(id, pb.start(), log, metrics);
    }

    /** A kubeconfig with the token of the ServiceAccount {@code name} in {@link #NS}, as its pod would hold it. */
    private static Path serviceAccountKubeconfig(KubeLab kube, Path dir, String name) throws Exception {
        // Kubernetes 1.20's token controller writes a Secret for every ServiceAccount, a moment after it appears.
        String secret = await(
                Duration.ofMinutes(1),
                "the token Secret of " + name,
                () -> kube.kubectlOk("get", "serviceaccount", name, "-n", NS, "-o", "jsonpath={.secrets[0].name}"),
                s -> !s.isBlank());
        String token = new String(
                Base64.getDecoder()
                        .decode(kube.kubectlOk("get", "secret", secret, "-n", NS, "-o", "jsonpath={.data.token}")),
                StandardCharsets.US_ASCII);
        Path config = dir.resolve(name + ".kubeconfig");
        Files.writeString(config, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: lab
                  cluster:
                    server: %s
                    certificate-authority: %s
                users:
                - name: %s
                  user:
                    token: %s
                contexts:
                - name: lab
                  context:
                    cluster: lab
                    user: %s
                current-context: lab
                """.formatted(kube.server(), kube.caCertificate(), name, token, name));
        return config;
    }

    private static String classes() {
        StringBuilder b = new StringBuilder();
        for (String policy : List.of("Delete", "Retain")) {
            b.append("""
                    apiVersion: storage.k8s.io/v1
                    kind: StorageClass
                    metadata:
                      name: corezfs-%s
                    provisioner: corezfs.io/zfs
                    reclaimPolicy: %s
                    volumeBindingMode: Immediate
                    ---
                    """.formatted(policy.toLowerCase(java.util.Locale.ROOT), policy));
        }
        return b.toString();
    }

    /** The manifests' cluster role without {@code create} on PVs: a provisioner that stops between dataset and PV. */
    private static String limitedRole() {
        return """
                apiVersion: v1
                kind: ServiceAccount
                metadata:
                  name: corezfs-limited
                  namespace: %1$s
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRole
                metadata:
                  name: corezfs-limited
                rules:
                - apiGroups: [""]
                  resources: [persistentvolumes]
                  verbs: [get, list, watch]
                - apiGroups: [""]
                  resources: [persistentvolumeclaims]
                  verbs: [get, list, watch, patch, update]
                - apiGroups: [storage.k8s.io]
                  resources: [storageclasses]
                  verbs: [get, list, watch]
                - apiGroups: [""]
                  resources: [events]
                  verbs: [create, patch]
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRoleBinding
                metadata:
                  name: corezfs-limited
                roleRef:
                  apiGroup: rbac.authorization.k8s.io
                  kind: ClusterRole
                  name: corezfs-limited
                subjects:
                - kind: ServiceAccount
                  name: corezfs-limited
                  namespace: %1$s
                """.formatted(NS);
    }

    private static String claimYaml(String name, String storageClass) {
        return """
                apiVersion: v1
                kind: PersistentVolumeClaim
                metadata:
                  name: %s
                  namespace: %s
                spec:
                  storageClassName: %s
                  accessModes: [ReadWriteOnce]
                  resources:
                    requests:
                      storage: 100Mi
                ---
                """.formatted(name, APP, storageClass);
    }

    /** Creates a 100Mi claim; its uid. */
    private static String claim(KubeLab kube, String name, String storageClass) throws Exception {
        KubeLab.Result r = kube.kubectlWithInput(claimYaml(name, storageClass), "apply", "-f", "-");
        assertEquals(0, r.code(), r::describe);
        return kube.kubectlOk("get", "pvc", name, "-n", APP, "-o", "jsonpath={.metadata.uid}");
    }

    private static String phase(KubeLab kube, String claim) throws Exception {
        return kube.kubectlOk("get", "pvc", claim, "-n", APP, "-o", "jsonpath={.status.phase}");
    }

    private static void awaitBound(KubeLab kube, String claim, Replica... replicas) throws Exception {
        await(Duration.ofMinutes(5), "claim " + claim + " Bound", () -> phase(kube, claim), "Bound"::equals, replicas);
    }

    /** How many times {@code zpool history} records a {@code zfs create} of exactly this dataset. */
    private static long creates(Node node, Path key, Path knownHosts, String dataset) throws Exception {
        String history = sshOut(node, key, knownHosts, "sudo -n zpool history tank");
        return history.lines()
                .filter(l -> l.contains("zfs create") && (l.endsWith(" " + dataset)))
                .count();
    }

    private static String sshOut(Node node, Path key, Path knownHosts, String command) throws Exception {
        Run r = VmNodes.ssh(node, key, knownHosts, command);
        return r.out();
    }

    private static void nodeOk(Node node, Path key, Path knownHosts, String command) throws Exception {
        Run r = VmNodes.ssh(node, key, knownHosts, command);
        assertEquals(0, r.code(), () -> command + ": " + r);
    }

    interface Probe {
        String get() throws Exception;
    }

    /**
     * Polls {@code probe} every second until {@code done} holds; fails with the last value and the replicas' output
     * when the time is up or a replica exits.
     */
    private static String await(Duration limit, String what, Probe probe, Predicate<String> done, Replica... replicas)
            throws Exception {
        long end = System.nanoTime() + limit.toNanos();
        String last = null;
        while (System.nanoTime() < end) {
            last = probe.get();
            if (done.test(last)) {
                return last;
            }
            for (Replica r : replicas) {
                if (!r.process().isAlive()) {
                    throw new AssertionError("replica " + r.id() + " exited ("
                            + r.process().exitValue() + ") while waiting for " + what + "\n" + r.output());
                }
            }
            Thread.sleep(1000);
        }
        StringBuilder logs = new StringBuilder();
        for (Replica r : replicas) {
            logs.append("\n--- ").append(r.id()).append('\n').append(r.output());
        }
        throw new AssertionError("no " + what + " within " + limit + "; last: " + last + logs);
    }
}
