package io.corezfs.provisioner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.corezfs.testing.KubeLab;
import io.corezfs.testing.ProvisionerImage;
import io.corezfs.testing.SshLab;
import io.corezfs.testing.VmLab;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The provisioner's container image (scripts/provisioner-image.sh), built here by the real Docker engine and run with
 * no network, or host networking against the lab's real API server: it is the provisioner tree on a jlink'd runtime
 * with only the libraries that runtime needs, runs as an unprivileged user, holds no shell and no package manager,
 * and its saved form loads back.
 */
class ProvisionerImageIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String LABEL = "io.corezfs.provisioner-image-it";
    static final String HOME = "/opt/corezfs-provisioner";
    static String image;

    @TempDir
    Path tmp;

    @BeforeAll
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    static void build() throws Exception {
        image = ProvisionerImage.tag();
    }

    @Test
    void itStartsWithNoNetworkAndSaysItsVersion() throws Exception {
        KubeLab.Result r =
                docker("run", "--rm", "--read-only", "--cap-drop", "ALL", "--network", "none", image, "--version");
        assertEquals(0, r.code(), r::describe);
        assertEquals(
                "corezfs " + image.substring(image.indexOf(':') + 1), r.out().strip());
    }

    @Test
    void itsManifestsParseBackAndRunThisImageWithoutAskingARegistry() throws Exception {
        KubeLab.Result r = docker(
                "run",
                "--rm",
                "--read-only",
                "--cap-drop",
                "ALL",
                "--network",
                "none",
                image,
                "provisioner",
                "manifests",
                "--parent",
                "tank/kube",
                "--node",
                "zfs-1",
                "--zfs-ssh",
                "core@zfs-1");
        assertEquals(0, r.code(), r::describe);
        List<String> kinds = new ArrayList<>();
        JsonNode container = null;
        try (var it =
                new ObjectMapper(new YAMLFactory()).readerFor(JsonNode.class).<JsonNode>readValues(r.out())) {
            while (it.hasNext()) {
                JsonNode d = it.next();
                kinds.add(d.path("kind").asText());
                if (d.path("kind").asText().equals("Deployment")) {
                    container = d.at("/spec/template/spec/containers/0");
                }
            }
        }
        assertEquals(
                List.of(
                        "ServiceAccount",
                        "ClusterRole",
                        "ClusterRoleBinding",
                        "Role",
                        "RoleBinding",
                        "Deployment",
                        "StorageClass"),
                kinds);
        assertEquals(image, container.path("image").asText());
        assertEquals("Never", container.path("imagePullPolicy").asText());
        assertTrue(container.at("/securityContext/runAsNonRoot").asBoolean(), container::toString);
    }

    @Test
    void itRunsAsAnUnprivilegedNumericUser_soRunAsNonRootCanCheckIt() throws Exception {
        JsonNode config = inspect().path("Config");
        // The kubelet verifies runAsNonRoot only against a numeric user; a name would make the pod fail to start.
        assertEquals("65532:65532", config.path("User").asText());
        KubeLab.Result props = docker(
                "run",
                "--rm",
                "--read-only",
                "--cap-drop",
                "ALL",
                "--network",
                "none",
                "--entrypoint",
                HOME + "/runtime/bin/java",
                image,
                "-XshowSettings:properties",
                "-version");
        assertEquals(0, props.code(), props::describe);
        assertTrue(props.err().contains("user.name = corezfs"), props::describe);
        assertTrue(props.err().contains("sun.jnu.encoding = UTF-8"), props::describe);
    }

    @Test
    void theSavedImageIsTheProvisionerTreeOnAJlinkRuntime_noShellNoPackageManager() throws Exception {
        Path saved = ProvisionerImage.saved();
        Map<String, byte[]> files = new HashMap<>();
        try (InputStream in = Files.newInputStream(saved);
                TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                if (e.isFile()) {
                    files.put(e.getName(), tar.readAllBytes());
                }
            }
        }
        JsonNode manifest = JSON.readTree(files.get("manifest.json")).get(0);
        assertEquals(image, manifest.path("RepoTags").get(0).asText());
        assertEquals(1, manifest.path("Layers").size(), manifest::toString);
        JsonNode config =
                JSON.readTree(files.get(manifest.path("Config").asText())).path("config");
        // No shell: the entry point is the java command line of bin/corezfs.
        assertEquals(
                HOME + "/runtime/bin/java", config.path("Entrypoint").get(0).asText());

        Map<String, TarArchiveEntry> layer = new java.util.TreeMap<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new java.io.ByteArrayInputStream(
                files.get(manifest.path("Layers").get(0).asText())))) {
            for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                layer.put(e.getName().replaceFirst("^\\./", "").replaceFirst("/$", ""), e);
            }
        }
        List<String> outside = layer.keySet().stream()
                .filter(n -> !n.isEmpty())
                .filter(n -> !Stream.of(
                                "opt",
                                "opt/corezfs-provisioner",
                                "usr",
                                "usr/lib",
                                "usr/lib/x86_64-linux-gnu",
                                "usr/lib64",
                                "usr/lib/locale",
                                "usr/lib/locale/C.utf8",
                                "etc",
                                "etc/passwd",
                                "etc/group",
                                "etc/nsswitch.conf",
                                "tmp",
                                "lib",
                                "lib64")
                        .anyMatch(n::equals))
                .filter(n -> !Stream.of(
                                "opt/corezfs-provisioner/",
                                "usr/lib/x86_64-linux-gnu/",
                                "usr/lib64/",
                                "usr/lib/locale/C.utf8/")
                        .anyMatch(n::startsWith))
                .toList();
        assertEquals(List.of(), outside, "files outside the tree, its runtime, its libraries and /etc");
        Set<String> banned = Set.of(
                "sh", "bash", "dash", "ash", "busybox", "dpkg", "apt", "apt-get", "rpm", "apk", "yum", "dnf", "su",
                "sudo");
        List<String> tools = layer.keySet().stream()
                .filter(n -> banned.contains(n.substring(n.lastIndexOf('/') + 1)))
                .toList();
        assertEquals(List.of(), tools, "a shell or a package manager");
        List<String> sharedObjects = layer.keySet().stream()
                .filter(n -> n.startsWith("usr/lib/x86_64-linux-gnu/"))
                .map(n -> n.substring(n.lastIndexOf('/') + 1).replaceFirst("\\.so.*", ""))
                .distinct()
                .toList();
        // glibc and the loader, zlib, and the C++ and GCC runtime libraries of libjvm.so: nothing of X11 or fonts.
        assertEquals(
                List.of("ld-linux-x86-64", "libc", "libgcc_s", "libm", "libstdc++", "libz"),
                sharedObjects.stream().sorted().toList());
        assertEquals(
                List.of("java"),
                layer.keySet().stream()
                        .filter(n -> n.startsWith(HOME.substring(1) + "/runtime/bin/"))
                        .map(n -> n.substring(n.lastIndexOf('/') + 1))
                        .toList());

        // The provisioner tree as `mvn package` made it, jar for jar: the Kubernetes client is there and only there.
        Set<String> treeJars = new TreeSet<>();
        try (Stream<Path> s = Files.list(VmLab.repo().resolve("target/corezfs-provisioner/lib"))) {
            s.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".jar"))
                    .forEach(treeJars::add);
        }
        Set<String> imageJars = new TreeSet<>();
        for (String n : layer.keySet()) {
            if (n.endsWith(".jar") && !n.equals(HOME.substring(1) + "/runtime/lib/jrt-fs.jar")) {
                assertTrue(n.startsWith(HOME.substring(1) + "/lib/"), "a jar outside the tree: " + n);
                imageJars.add(n.substring(n.lastIndexOf('/') + 1));
            }
        }
        assertEquals(treeJars, imageJars);
        assertTrue(imageJars.stream().anyMatch(n -> n.startsWith("kubernetes-client-")), imageJars::toString);

        // Reproducible: every entry is root's, with the build's fixed time.
        for (TarArchiveEntry e : layer.values()) {
            assertEquals(0, e.getLongUserId(), e.getName());
            assertEquals(0, e.getLongGroupId(), e.getName());
            assertEquals(Instant.parse("2026-01-01T00:00:00Z"), e.getModTime().toInstant(), e.getName());
        }

        // A node loads it as it is (the engine already has it: loading again changes nothing).
        KubeLab.Result load = docker("load", "--input", saved.toString());
        assertEquals(0, load.code(), load::describe);
        assertTrue(load.out().contains(image), load::describe);
    }

    @Test
    void runSaysInOneLineWhenItsZfsNodeCannotBeReached() throws Exception {
        // Nothing listens on port 1 of the container's own loopback: refused at once, before any cluster is looked for.
        KubeLab.Result r = docker(
                "run",
                "--rm",
                "--read-only",
                "--cap-drop",
                "ALL",
                "--network",
                "none",
                image,
                "provisioner",
                "run",
                "--parent",
                "tank/kube",
                "--node",
                "zfs-1",
                "--zfs-ssh",
                "core@127.0.0.1:1",
                "--known-hosts",
                "/dev/null",
                "--id",
                "it");
        assertEquals(3, r.code(), r::describe);
        assertEquals("", r.out());
        assertEquals(1, r.err().strip().lines().count(), r::describe);
        assertTrue(r.err().contains("cannot connect") && r.err().contains("Connection refused"), r::describe);
    }

    /**
     * {@code provisioner run} in the image, on host networking, with the lab's real control plane: it takes its Lease
     * there and reports itself the leader. The ZFS node is an SSH container of the lab whose {@code zfs} answers only
     * the one question {@code run} asks before it reaches the cluster (does the parent exist); no claim is made, so
     * nothing else is ever asked of it. Real ZFS is ProvisionerIT's part.
     */
    @Test
    @Timeout(value = 50, unit = TimeUnit.MINUTES)
    void runInTheImageReachesTheRealApiserverAndTakesItsLease() throws Exception {
        KubeLab kube = KubeLab.up(1); // its own control plane (lab/k8s-lib.sh), beside others in CI's lanes
        String ns = "corezfs-image-it-" + ProcessHandle.current().pid();
        String name = "corezfs-image-it-" + ProcessHandle.current().pid();
        Path work = Files.createDirectories(tmp.resolve("work"));
        try (SshLab ssh = SshLab.start(1, work, Files.createDirectories(tmp.resolve("root")))) {
            kube.kubectlOk("create", "namespace", ns);
            SshLab.Node node = ssh.nodes.get(0);
            node.sh("printf '%s\\n' '#!/bin/sh'"
                    + " '[ \"$*\" = \"get -H -p -o property,value type tank/kube\" ] || exit 1'"
                    + " 'printf \"type\\tfilesystem\\n\"' > /usr/local/sbin/zfs && chmod 755 /usr/local/sbin/zfs");
            // Readable by the image's user: the files are bind-mounted as they are.
            Path config = readable(tmp.resolve("kubeconfig"), kube.kubectlOk("config", "view", "--raw", "--flatten"));
            Path key = readable(tmp.resolve("id"), Files.readString(ssh.clientKey));
            Path known = readable(tmp.resolve("known_hosts"), node.knownHosts());
            int metrics = SshLab.freePort();
            KubeLab.Result started = docker(
                    "run",
                    "--detach",
                    // As the Deployment's securityContext has it: a read-only root, no privileges to gain.
                    "--read-only",
                    "--cap-drop",
                    "ALL",
                    "--security-opt",
                    "no-new-privileges",
                    "--name",
                    name,
                    "--label",
                    LABEL,
                    "--network",
                    "host",
                    "--volume",
                    config + ":/kube/config:ro",
                    "--volume",
                    key + ":/ssh/id:ro",
                    "--volume",
                    known + ":/ssh/known_hosts:ro",
                    image,
                    "provisioner",
                    "run",
                    "--parent",
                    "tank/kube",
                    "--node",
                    "zfs-1",
                    "--zfs-ssh",
                    "core@" + node.address(),
                    "--ssh-identity",
                    "/ssh/id",
                    "--known-hosts",
                    "/ssh/known_hosts",
                    "--kubeconfig",
                    "/kube/config",
                    "--lease-namespace",
                    ns,
                    "--id",
                    "image-it",
                    "--metrics-address",
                    "127.0.0.1:" + metrics);
            assertEquals(0, started.code(), started::describe);
            try {
                String holder = waitFor(
                        Duration.ofSeconds(90),
                        () -> kube.kubectl(
                                        "get",
                                        "lease",
                                        "corezfs-provisioner",
                                        "-n",
                                        ns,
                                        "-o",
                                        "jsonpath={.spec.holderIdentity}")
                                .out(),
                        "image-it"::equals);
                assertEquals("image-it", holder, () -> logs(name));
                String scrape = waitFor(
                        Duration.ofSeconds(30), () -> scrape(metrics), s -> s.contains("corezfs_provisioner_leader 1"));
                assertTrue(scrape.contains("corezfs_provisioner_leader 1"), () -> scrape + logs(name));
                // The process itself runs as the image's user.
                long pid = inspect(name).path("State").path("Pid").asLong();
                String status = Files.readString(Path.of("/proc/" + pid + "/status"));
                assertTrue(status.lines().anyMatch(l -> l.matches("Uid:\\s+65532\\s+65532\\s+65532\\s+65532")), status);
            } finally {
                docker("rm", "--force", name);
            }
        } finally {
            kube.down();
        }
    }

    private static Path readable(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        return file;
    }

    private static String scrape(int port) {
        try {
            return HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                                    .timeout(Duration.ofSeconds(5))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e.toString();
        }
    }

    private static String logs(String container) {
        try {
            KubeLab.Result r = docker("logs", container);
            return "\ncontainer logs:\n" + r.out() + r.err();
        } catch (IOException | InterruptedException e) {
            return "\n(no logs: " + e + ")";
        }
    }

    private static JsonNode inspect() throws IOException, InterruptedException {
        return inspect(image);
    }

    private static JsonNode inspect(String what) throws IOException, InterruptedException {
        KubeLab.Result r = docker("inspect", what);
        assertEquals(0, r.code(), r::describe);
        return JSON.readTree(r.out()).get(0);
    }

    private static KubeLab.Result docker(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("docker"));
        cmd.addAll(List.of(args));
        return KubeLab.run(Duration.ofMinutes(2), null, cmd.toArray(String[]::new));
    }

    interface Probe {
        String get() throws IOException, InterruptedException;
    }

    private static String waitFor(Duration limit, Probe probe, Predicate<String> done)
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
