package io.corezfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.corezfs.VmNodes.Node;
import io.corezfs.VmNodes.Run;
import io.corezfs.testing.VmBoot;
import io.corezfs.testing.VmLab;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * Issue 16's live rollout: two lab VMs are Flatcar-like nodes with OpenSSH, a {@code core} user with passwordless sudo
 * and no Java (lab/vm-sshd.sh, a variant of the VM image; the minimal base image keeps proving that the archive
 * carries the libraries a bare node lacks). Each is reached only through qemu's host forwarding on its own 127.0.0.1
 * port, with restrict=on. From the host, the packaged tool's {@code corezfs fleet install} gives both ZFS (strict host
 * keys, the tool's bundle pushed because the nodes have none); each node then makes a pool, and {@code corezfs fleet
 * status --json} reads both back as active with their pools. Inside, each node's own script judges it afterwards
 * (module, tools, pool, dataset, no Java, nothing left in the incoming directory).
 */
@Execution(ExecutionMode.CONCURRENT) // a VM class: runs beside one other class (pom.xml, failsafe)
class FleetVmIT {
    static VmNodes.Payload payload;

    @BeforeAll
    @Timeout(value = 60, unit = TimeUnit.MINUTES) // a cold cache compiles OpenZFS for the archive
    static void payload() throws Exception {
        payload = VmNodes.payload();
    }

    @Test
    void fleetInstallGivesTwoVmNodesZfsEachMakesAPoolAndStatusReadsBothBack() throws Exception {
        Path work = Files.createDirectories(VmLab.repo().resolve("target/vm-it"));
        Path dir = Files.createTempDirectory(work, "fleet-vm");
        Path home = Files.createDirectories(dir.resolve("home"));
        Path key = dir.resolve("id_ed25519");
        Files.copy(payload.sshd().resolve("id_ed25519"), key);
        Path knownHosts = dir.resolve("known_hosts");
        String hostKey = Files.readString(payload.sshd().resolve("ssh_host_ed25519_key.pub"), StandardCharsets.US_ASCII)
                .strip();
        String hostKeyTypeAndBlob = hostKey.substring(0, hostKey.lastIndexOf(' '));

        ExecutorService boots = Executors.newFixedThreadPool(2);
        List<Node> nodes = new ArrayList<>();
        try {
            StringBuilder kh = new StringBuilder();
            for (String label : List.of("a", "b")) {
                VmLab vm = VmLab.create("fleet-" + label);
                vm.script("vmlib.sh", "vmlib.sh")
                        .script("fleet-node.sh", "run.sh")
                        .env("NODE", label);
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
                kh.append("[127.0.0.1]:")
                        .append(port)
                        .append(' ')
                        .append(hostKeyTypeAndBlob)
                        .append('\n');
                nodes.add(new Node(
                        label,
                        vm,
                        port,
                        CompletableFuture.supplyAsync(() -> vm.firstBoot(Duration.ofMinutes(40)), boots)));
            }
            Files.writeString(knownHosts, kh.toString());
            for (Node n : nodes) {
                VmNodes.awaitSsh(n, key, knownHosts, Duration.ofMinutes(20));
            }

            // The default user is core, as on Flatcar: the inventory names addresses only.
            List<String> hosts = nodes.stream().map(Node::address).toList();
            Run install = payload.fleet(
                    home,
                    key,
                    knownHosts,
                    hosts,
                    "install",
                    "--archive",
                    payload.archive().toString(),
                    "--bundle",
                    payload.bundle().toString(),
                    "--parallel",
                    "2",
                    "--canary",
                    "0",
                    "--state",
                    dir.resolve("state.json").toString());
            assertEquals(0, install.code(), install::toString);
            assertTrue(install.out().contains("2 ok, 0 skipped, 0 failed, 0 not started"), install::toString);

            for (Node n : nodes) {
                Run pool = VmNodes.ssh(
                        n,
                        key,
                        knownHosts,
                        "sudo -n zpool create -f tank /dev/vdb && sudo -n zfs create tank/data" + " && echo 'from "
                                + n.label() + "' | sudo -n tee /tank/data/hello >/dev/null");
                assertEquals(0, pool.code(), () -> n.address() + ": " + pool);
            }

            Run status = payload.fleet(
                    home,
                    key,
                    knownHosts,
                    hosts,
                    "status",
                    "--json",
                    "--bundle",
                    payload.bundle().toString());
            assertEquals(0, status.code(), status::toString);
            JsonNode j = JsonMapping.newMapper().readTree(status.out());
            assertEquals(2, j.get("hosts").size(), status::toString);
            for (JsonNode h : j.get("hosts")) {
                JsonNode s = h.get("status");
                assertEquals(
                        payload.archive().getFileName().toString(),
                        s.get("installed").asText(),
                        status::toString);
                assertTrue(s.get("active").asBoolean(), () -> "active: " + status);
                assertTrue(s.get("moduleLoaded").asBoolean(), () -> "module: " + status);
                assertEquals(1, s.get("pools").size(), status::toString);
                assertEquals("tank", s.get("pools").get(0).get("name").asText(), status::toString);
                assertEquals("ONLINE", s.get("pools").get(0).get("health").asText(), status::toString);
            }

            for (Node n : nodes) {
                Run done = VmNodes.ssh(n, key, knownHosts, "sudo -n touch /run/lab-fleet-done");
                assertEquals(0, done.code(), () -> n.address() + ": " + done);
            }
            for (Node n : nodes) {
                VmBoot b = n.boot().get(15, TimeUnit.MINUTES);
                b.assertChecks(
                        "sshd-running",
                        "host-said-done",
                        "no-java-on-the-node",
                        "tool-pushed",
                        "pool-online",
                        "dataset-mounted",
                        "written-as-core",
                        "archive-in-store",
                        "no-incoming-left");
            }
        } finally {
            for (Node n : nodes) {
                // A failed assertion above leaves the guest waiting: tell it, so it powers off instead of timing out.
                if (!n.boot().isDone()) {
                    VmNodes.ssh(n, key, knownHosts, "sudo -n touch /run/lab-fleet-done");
                }
            }
            boots.shutdown();
            boots.awaitTermination(20, TimeUnit.MINUTES);
            for (Node n : nodes) {
                n.vm().close();
            }
        }
    }
}
