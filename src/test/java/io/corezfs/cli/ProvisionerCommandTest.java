package io.corezfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.corezfs.provisioner.Provisioner;
import io.corezfs.system.LiveSystem;
import io.corezfs.testing.Cli;
import io.corezfs.testing.FakeZfsHost;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code corezfs provisioner}: {@code manifests} writes YAML that parses back into exactly the objects a cluster needs
 * to run it, with the rights the controller uses; {@code run} checks its options before it reaches anything, and then
 * provisions a claim through a real client against fabric8's API server mock, serving its metrics.
 */
class ProvisionerCommandTest {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @TempDir
    Path tmp;

    static List<JsonNode> documents(String yaml) throws IOException {
        List<JsonNode> docs = new ArrayList<>();
        try (var it = YAML.readerFor(JsonNode.class).<JsonNode>readValues(yaml)) {
            while (it.hasNext()) {
                docs.add(it.next());
            }
        }
        return docs;
    }

    static JsonNode kind(List<JsonNode> docs, String kind) {
        return docs.stream()
                .filter(d -> d.path("kind").asText().equals(kind))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind));
    }

    static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void manifestsParseBackIntoTheAccountItsRightsTheDeploymentAndAStorageClass() throws IOException {
        Cli.Run r = new Cli(tmp)
                .run(
                        "provisioner",
                        "manifests",
                        "--parent",
                        "tank/kube",
                        "--node",
                        "zfs-1",
                        "--zfs-ssh",
                        "core@zfs-1:22");
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("", r.err());
        List<JsonNode> docs = documents(r.out());
        assertEquals(
                List.of(
                        "ServiceAccount",
                        "ClusterRole",
                        "ClusterRoleBinding",
                        "Role",
                        "RoleBinding",
                        "Deployment",
                        "StorageClass"),
                docs.stream().map(d -> d.path("kind").asText()).toList());

        Map<String, List<String>> verbs = new HashMap<>();
        kind(docs, "ClusterRole")
                .path("rules")
                .forEach(rule -> verbs.put(rule.path("resources").get(0).asText(), texts(rule.path("verbs"))));
        assertTrue(verbs.get("persistentvolumes").containsAll(List.of("get", "list", "watch", "create", "delete")));
        assertTrue(verbs.get("persistentvolumeclaims").containsAll(List.of("get", "list", "watch", "patch")));
        assertTrue(verbs.get("storageclasses").containsAll(List.of("get", "list", "watch")));
        assertTrue(verbs.get("events").contains("create"));
        JsonNode lease = kind(docs, "Role");
        assertEquals("corezfs-system", lease.path("metadata").path("namespace").asText());
        assertEquals(
                "leases", lease.path("rules").get(0).path("resources").get(0).asText());
        assertEquals(
                "coordination.k8s.io",
                lease.path("rules").get(0).path("apiGroups").get(0).asText());
        assertEquals(
                "corezfs-provisioner",
                kind(docs, "ClusterRoleBinding")
                        .path("subjects")
                        .get(0)
                        .path("name")
                        .asText());

        JsonNode deploy = kind(docs, "Deployment");
        assertEquals(2, deploy.path("spec").path("replicas").asInt());
        JsonNode pod = deploy.path("spec").path("template").path("spec");
        assertEquals("corezfs-provisioner", pod.path("serviceAccountName").asText());
        JsonNode c = pod.path("containers").get(0);
        assertEquals("corezfs-provisioner:0.0.0-test", c.path("image").asText());
        // The image scripts/provisioner-image.sh builds is loaded onto the nodes: no registry is ever asked for it.
        assertEquals("Never", c.path("imagePullPolicy").asText());
        List<String> args = texts(c.path("args"));
        assertEquals(List.of("provisioner", "run", "--parent", "tank/kube", "--node", "zfs-1"), args.subList(0, 6));
        assertTrue(args.containsAll(List.of("--zfs-ssh", "core@zfs-1:22", "--lease-namespace", "corezfs-system")));
        assertEquals(
                "corezfs-provisioner-ssh",
                pod.path("volumes").get(0).path("secret").path("secretName").asText());
        // The key is mode 0400 and root's; the image's non-root user reads it through the pod's fsGroup.
        assertEquals(
                0400,
                pod.path("volumes").get(0).path("secret").path("defaultMode").asInt());
        assertEquals(65532, pod.path("securityContext").path("fsGroup").asInt());
        assertTrue(c.path("securityContext").path("runAsNonRoot").asBoolean());
        // The pod's log says what it provisioned and destroyed, not only what went wrong.
        assertTrue(args.contains("-v"), args::toString);
        // The run command knows every option the Deployment passes it (with --help it parses them, then stops).
        List<String> withHelp = new ArrayList<>(args);
        withHelp.add("--help");
        Cli.Run parsed = new Cli(tmp).run(withHelp.toArray(String[]::new));
        assertEquals(0, parsed.exitCode(), parsed::toString);

        JsonNode sc = kind(docs, "StorageClass");
        assertEquals(Provisioner.NAME, sc.path("provisioner").asText());
        assertTrue(sc.path("parameters").path("reserveSpace").isTextual(), "parameters are strings: " + sc);
        assertEquals("Delete", sc.path("reclaimPolicy").asText());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "|Never",
                "--image registry.example:5000/corezfs-provisioner:1|IfNotPresent",
                "--image registry.example:5000/corezfs-provisioner:1 --pull-policy Always|Always",
                "--pull-policy IfNotPresent|IfNotPresent"
            })
    void theDefaultImageIsNeverPulled_anImageGivenIsPulledWhenMissing(String spec) throws IOException {
        String[] s = spec.split("\\|", 2);
        List<String> argv = new ArrayList<>(
                List.of("provisioner", "manifests", "--parent", "tank/kube", "--node", "zfs-1", "--zfs-ssh", "zfs-1"));
        if (!s[0].isEmpty()) {
            argv.addAll(List.of(s[0].split(" ")));
        }
        Cli.Run r = new Cli(tmp).run(argv.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r::toString);
        JsonNode c = kind(documents(r.out()), "Deployment")
                .path("spec")
                .path("template")
                .path("spec")
                .path("containers")
                .get(0);
        assertEquals(s[1], c.path("imagePullPolicy").asText());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "--parent|tank/../etc",
                "--parent|-o mountpoint=/",
                "--node|Node_1",
                "--namespace|kube system",
                "--zfs-ssh|core@zfs-1;reboot",
                "--image|img\nkind: Secret",
                "--pull-policy|Sometimes"
            })
    void manifestsRefuseValuesThatAreNotNames(String option) {
        Map<String, String> o = new HashMap<>(Map.of(
                "--parent", "tank/kube", "--node", "zfs-1", "--zfs-ssh", "core@zfs-1", "--namespace", "corezfs"));
        String[] kv = option.split("\\|", 2);
        o.put(kv[0], kv[1]);
        List<String> argv = new ArrayList<>(List.of("provisioner", "manifests"));
        o.forEach((k, v) -> {
            argv.add(k);
            argv.add(v);
        });
        Cli.Run r = new Cli(tmp).run(argv.toArray(String[]::new));
        assertEquals(2, r.exitCode(), r::toString);
        assertEquals("", r.out());
        assertTrue(r.err().contains(kv[0]), r::toString);
    }

    @Test
    void runChecksItsOptionsBeforeReachingAnything() {
        Cli.Run r = new Cli(tmp)
                .run("provisioner", "run", "--parent", "tank", "--node", "n", "--metrics-address", "localhost");
        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains("--metrics-address"), r::toString);

        r = new Cli(tmp).run("provisioner", "run", "--parent", "mirror/x", "--node", "n");
        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains("--parent"), r::toString);

        r = new Cli(tmp).run("provisioner");
        assertEquals(2, r.exitCode(), r::toString);
    }

    @Test
    void runChecksTheParentAndTheZfsNodeBeforeTheCluster() throws Exception {
        FakeZfsHost zfs = new FakeZfsHost(Files.createDirectories(tmp.resolve("root")));
        Cli.Run r = new Cli(tmp)
                .live(tmp.resolve("root"), LiveSystem.over(zfs))
                .run("provisioner", "run", "--parent", "tank/kube", "--node", "zfs-1", "--id", "x");
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(r.err().contains("the parent dataset tank/kube does not exist"), r::toString);

        // Over SSH the node's host key must be known already: an unknown one is refused, nothing runs there.
        io.corezfs.testing.FakeSsh ssh = new io.corezfs.testing.FakeSsh(tmp);
        io.corezfs.testing.FakeSsh.Node node =
                ssh.node("127.0.0.1", 2222, Files.createDirectories(tmp.resolve("node")));
        Path knownHosts = Files.writeString(tmp.resolve("known_hosts"), "");
        r = new Cli(tmp)
                .ssh(ssh)
                .run(
                        "provisioner",
                        "run",
                        "--parent",
                        "tank/kube",
                        "--node",
                        "zfs-1",
                        "--id",
                        "x",
                        "--zfs-ssh",
                        "core@127.0.0.1:2222",
                        "--known-hosts",
                        knownHosts.toString());
        assertTrue(r.exitCode() != 0, r::toString);
        assertTrue(r.err().contains("host key unknown"), r::toString);
        assertTrue(node.commands.isEmpty(), () -> node.commands.toString());
        assertEquals("", Files.readString(knownHosts), "nothing was added to known_hosts");
    }

    @Test
    void runProvisionsAClaimThroughTheApiAndServesItsMetrics() throws Exception {
        KubernetesMockServer server = new KubernetesMockServer(
                new io.fabric8.mockwebserver.Context(),
                new MockWebServer(),
                new HashMap<>(),
                new KubernetesCrudDispatcher(),
                false);
        server.init(InetAddress.getLoopbackAddress(), 0);
        try (KubernetesClient client = server.createClient()) {
            client.storage()
                    .v1()
                    .storageClasses()
                    .resource(new StorageClassBuilder()
                            .withNewMetadata()
                            .withName("zfs")
                            .endMetadata()
                            .withProvisioner(Provisioner.NAME)
                            .build())
                    .create();
            String uid = client.persistentVolumeClaims()
                    .inNamespace("apps")
                    .resource(new PersistentVolumeClaimBuilder()
                            .withNewMetadata()
                            .withName("data")
                            .withNamespace("apps")
                            .endMetadata()
                            .withNewSpec()
                            .withStorageClassName("zfs")
                            .withNewResources()
                            .withRequests(Map.of("storage", new Quantity("64Mi")))
                            .endResources()
                            .endSpec()
                            .build())
                    .create()
                    .getMetadata()
                    .getUid();
            Path kubeconfig = tmp.resolve("kubeconfig");
            Files.writeString(
                    kubeconfig,
                    "apiVersion: v1\nkind: Config\nclusters:\n- name: mock\n  cluster:\n    server: "
                            + client.getConfiguration().getMasterUrl()
                            + "\ncontexts:\n- name: mock\n  context: {cluster: mock, user: u}\n"
                            + "current-context: mock\nusers:\n- name: u\n  user: {token: t}\n");
            int port;
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            FakeZfsHost zfs =
                    new FakeZfsHost(Files.createDirectories(tmp.resolve("root"))).dataset("tank/kube", "/tank/kube");
            Cli cli = new Cli(tmp).live(tmp.resolve("root"), LiveSystem.over(zfs));
            CompletableFuture<Cli.Run> run = new CompletableFuture<>();
            Thread t = new Thread(() -> run.complete(cli.run(
                    "provisioner",
                    "run",
                    "--parent",
                    "tank/kube",
                    "--node",
                    "zfs-1",
                    "--kubeconfig",
                    kubeconfig.toString(),
                    "--resync",
                    "1s",
                    "--metrics-address",
                    "127.0.0.1:" + port,
                    "--id",
                    "test")));
            t.start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (client.persistentVolumes().withName("pvc-" + uid).get() == null) {
                    assertTrue(System.nanoTime() < deadline, "no PV within 30s");
                    assertTrue(!run.isDone(), () -> run.join().toString());
                    Thread.sleep(100);
                }
                assertEquals("67108864", zfs.properties("tank/kube/pvc-" + uid).get("refquota"));
                // The count follows the PV: the claim's annotation and event come between them.
                String expected = "corezfs_provisioner_claims_total{outcome=\"provisioned\"} 1\n";
                HttpResponse<String> metrics;
                do {
                    metrics = HttpClient.newHttpClient()
                            .send(
                                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                                            .timeout(Duration.ofSeconds(10))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, metrics.statusCode());
                    assertTrue(System.nanoTime() < deadline, metrics.body());
                    Thread.sleep(50);
                } while (!metrics.body().contains(expected));
            } finally {
                t.interrupt();
                t.join(10_000);
            }
            assertEquals(
                    1, run.get(1, TimeUnit.SECONDS).exitCode(), () -> run.join().toString());
        } finally {
            server.destroy();
        }
    }
}
