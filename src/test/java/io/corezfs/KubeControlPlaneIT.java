package io.corezfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.testing.KubeLab;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The lab's real Kubernetes 1.20.2 (lab/k8s.sh: Debian's source package, built with Debian's Go 1.19 and reflect2
 * 1.0.2), run on 127.0.0.1 by lab/k8s-up.sh, checked through its real apiserver with the built kubectl. This is what
 * the Kubernetes tests of the FlexVolume driver and the provisioner stand on.
 */
class KubeControlPlaneIT {
    static final String NS = "corezfs-it-" + ProcessHandle.current().pid();

    static KubeLab kube;

    @BeforeAll
    @Timeout(value = 50, unit = TimeUnit.MINUTES)
    static void up() throws Exception {
        kube = KubeLab.up();
        kube.kubectlOk("create", "namespace", NS);
    }

    @AfterAll
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    static void downStopsEveryProcessItStarted() throws Exception {
        if (kube == null) {
            return;
        }
        Map<String, Long> pids = KubeLab.pids();
        kube.down();
        for (var e : pids.entrySet()) {
            assertFalse(
                    running(e.getValue()), e.getKey() + " (pid " + e.getValue() + ") still runs after lab/k8s-down.sh");
        }
        assertTrue(KubeLab.pids().isEmpty(), "pid files left after lab/k8s-down.sh");
    }

    @Test
    void theApiserverIsReadyAndIs1_20_2() throws Exception {
        assertEquals("ok", kube.kubectlOk("get", "--raw", "/readyz").strip());
        String version = kube.kubectlOk("get", "--raw", "/version");
        assertTrue(version.matches("(?s).*\"gitVersion\":\\s*\"v1\\.20\\.2\".*"), version);
    }

    @Test
    void yamlAndPrettyOutputWork_theVendoredReflect2CrashedTheApiserverHere() throws Exception {
        String yaml = kube.kubectlOk("get", "namespaces", "-o", "yaml");
        assertTrue(yaml.contains("name: " + NS), yaml);
        String pretty = kube.kubectlOk("get", "--raw", "/api/v1/namespaces/" + NS + "?pretty=true");
        assertTrue(pretty.contains("\n  \"kind\": \"Namespace\""), pretty);
        // Still alive after both: the old reflect2 took the whole process down.
        assertEquals("ok", kube.kubectlOk("get", "--raw", "/readyz").strip());
    }

    @Test
    void aStorageClassOfTheCorezfsProvisionerAndAClaimOnItAreStoredAndReadBack() throws Exception {
        String sc = "corezfs-it-" + ProcessHandle.current().pid();
        String manifests = """
                apiVersion: storage.k8s.io/v1
                kind: StorageClass
                metadata:
                  name: %1$s
                provisioner: corezfs.io/zfs
                reclaimPolicy: Retain
                parameters:
                  compression: lz4
                ---
                apiVersion: v1
                kind: PersistentVolumeClaim
                metadata:
                  name: data
                  namespace: %2$s
                spec:
                  storageClassName: %1$s
                  accessModes: [ReadWriteOnce]
                  resources:
                    requests:
                      storage: 100Mi
                """.formatted(sc, NS);
        KubeLab.Result applied = kube.kubectlWithInput(manifests, "apply", "-f", "-");
        assertEquals(0, applied.code(), applied::describe);

        assertEquals(
                "corezfs.io/zfs Retain lz4",
                kube.kubectlOk(
                        "get",
                        "storageclass",
                        sc,
                        "-o",
                        "jsonpath={.provisioner} {.reclaimPolicy} {.parameters.compression}"));
        assertEquals(
                sc + " 100Mi Pending",
                kube.kubectlOk(
                        "get",
                        "pvc",
                        "data",
                        "-n",
                        NS,
                        "-o",
                        "jsonpath={.spec.storageClassName} {.spec.resources.requests.storage} {.status.phase}"));
        // The controller-manager's PV controller saw the claim: it waits for the external provisioner the class names.
        String events = waitFor(
                Duration.ofSeconds(60),
                () -> kube.kubectlOk(
                        "get",
                        "events",
                        "-n",
                        NS,
                        "--field-selector",
                        "involvedObject.name=data",
                        "-o",
                        "jsonpath={.items[*].reason}"),
                s -> s.contains("ExternalProvisioning"));
        assertTrue(events.contains("ExternalProvisioning"), events);
        kube.kubectlOk("delete", "storageclass", sc);
    }

    @Test
    void theControllerManagerWorks_theNewNamespaceGetsItsDefaultServiceAccountAndToken() throws Exception {
        String secrets = waitFor(
                Duration.ofSeconds(60),
                () -> kube.kubectl("get", "serviceaccount", "default", "-n", NS, "-o", "jsonpath={.secrets[*].name}")
                        .out(),
                s -> !s.isBlank());
        assertTrue(secrets.startsWith("default-token-"), secrets);
    }

    @Test
    void theLabNodesKubeletIdentityIsAuthenticatedAndLimitedByTheNodeAuthorizer() throws Exception {
        String kubelet = KubeLab.state().resolve("kubelet.kubeconfig").toString();
        String node = io.corezfs.testing.Lab.pin("LAB_K8S_NODE");
        // Its own Node object: allowed, and not there yet (no kubelet runs on this host).
        KubeLab.Result own = KubeLab.run(
                Duration.ofMinutes(1),
                null,
                kube.bin().resolve("kubectl").toString(),
                "--kubeconfig",
                kubelet,
                "get",
                "node",
                node);
        assertTrue(own.err().contains("NotFound"), own::describe);
        // Another namespace's secrets: forbidden for a node.
        KubeLab.Result other = KubeLab.run(
                Duration.ofMinutes(1),
                null,
                kube.bin().resolve("kubectl").toString(),
                "--kubeconfig",
                kubelet,
                "get",
                "secrets",
                "-n",
                NS);
        assertTrue(other.err().contains("Forbidden"), other::describe);
    }

    @Test
    void everySocketOfTheControlPlaneIsOnLoopback() throws Exception {
        // The apiserver must never dial (nor listen on) the machine's own address: every TCP socket of the three
        // processes, listening or connected, has a loopback local and peer address.
        Map<String, Long> pids = KubeLab.pids();
        assertEquals(3, pids.size(), pids::toString);
        KubeLab.Sockets sockets = kube.sockets();
        assertTrue(
                sockets.ours().size() >= 4,
                () -> "expected the listeners and connections of the control plane\n" + sockets.ours());
        assertTrue(
                sockets.offLoopback().isEmpty(),
                () -> "sockets off loopback:\n" + String.join("\n", sockets.offLoopback()));
        // And the kubelet never ran on this host.
        assertFalse(Files.exists(KubeLab.state().resolve("kubelet.pid")));
    }

    /**
     * The process exists and is neither a zombie nor dead. The control plane's processes are not this JVM's children:
     * the init process reaps them when it gets to it, so an exited one may stay a zombie for a moment.
     */
    private static boolean running(long pid) throws IOException {
        Path stat = Path.of("/proc/" + pid + "/stat");
        String s;
        try {
            s = Files.readString(stat);
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        }
        char state = s.substring(s.lastIndexOf(')') + 2).charAt(0);
        return state != 'Z' && state != 'X';
    }

    interface Probe {
        String get() throws IOException, InterruptedException;
    }

    private static String waitFor(Duration limit, Probe probe, java.util.function.Predicate<String> done)
            throws IOException, InterruptedException {
        Instant end = Instant.now().plus(limit);
        String last = probe.get();
        while (!done.test(last) && Instant.now().isBefore(end)) {
            Thread.sleep(500);
            last = probe.get();
        }
        return last;
    }
}
