package io.corezfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.corezfs.testing.Lab;
import io.corezfs.testing.Requirements;
import io.corezfs.testing.VmBoot;
import io.corezfs.testing.VmLab;
import java.io.IOException;
import java.net.ServerSocket;
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
    static Path bundle;
    static Path archive;
    static Path sshd;
    static Path tool;

    @BeforeAll
    @Timeout(value = 60, unit = TimeUnit.MINUTES) // a cold cache compiles OpenZFS for the archive
    static void payload() throws Exception {
        VmLab.requireVm();
        Lab.requireBuilt();
        Requirements.need(Requirements.which("ssh").isPresent(), "ssh (OpenSSH's client; scripts/deps.sh installs it)");
        bundle = LiveInstallIT.bundle();
        tool = VmLab.repo().resolve("target/corezfs/bin/corezfs");
        Lab.requireDocker();
        LiveInstallIT.Result r = LiveInstallIT.run(
                Duration.ofMinutes(45),
                "bash",
                VmLab.repo().resolve("lab/vm-archive.sh").toString());
        assertEquals(0, r.code(), () -> "lab/vm-archive.sh failed\n" + r.out() + r.err());
        List<String> lines = r.out().strip().lines().toList();
        archive = Path.of(lines.get(lines.size() - 1));
        LiveInstallIT.Result s = LiveInstallIT.run(
                Duration.ofMinutes(20),
                "bash",
                VmLab.repo().resolve("lab/vm-sshd.sh").toString());
        assertEquals(0, s.code(), () -> "lab/vm-sshd.sh failed\n" + s.out() + s.err());
        List<String> out = s.out().strip().lines().toList();
        sshd = Path.of(out.get(out.size() - 1));
    }

    /** One node: its run, its forwarded port, and its boot running in the background until the test is through. */
    record Node(String label, VmLab vm, int port, CompletableFuture<VmBoot> boot) {
        String address() {
            return "127.0.0.1:" + port;
        }
    }

    @Test
    void fleetInstallGivesTwoVmNodesZfsEachMakesAPoolAndStatusReadsBothBack() throws Exception {
        Path work = Files.createDirectories(VmLab.repo().resolve("target/vm-it"));
        Path dir = Files.createTempDirectory(work, "fleet-vm");
        Path home = Files.createDirectories(dir.resolve("home"));
        Path key = dir.resolve("id_ed25519");
        Files.copy(sshd.resolve("id_ed25519"), key);
        Path knownHosts = dir.resolve("known_hosts");
        String hostKey = Files.readString(sshd.resolve("ssh_host_ed25519_key.pub"), StandardCharsets.US_ASCII)
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
                int port = freePort();
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
                awaitSsh(n, key, knownHosts, Duration.ofMinutes(20));
            }

            // The default user is core, as on Flatcar: the inventory names addresses only.
            List<String> hosts = nodes.stream().map(Node::address).toList();
            Run install = fleet(
                    home,
                    key,
                    knownHosts,
                    hosts,
                    "install",
                    "--archive",
                    archive.toString(),
                    "--bundle",
                    bundle.toString(),
                    "--parallel",
                    "2",
                    "--canary",
                    "0",
                    "--state",
                    dir.resolve("state.json").toString());
            assertEquals(0, install.code(), install::toString);
            assertTrue(install.out().contains("2 ok, 0 skipped, 0 failed, 0 not started"), install::toString);

            for (Node n : nodes) {
                Run pool = ssh(
                        n,
                        key,
                        knownHosts,
                        "sudo -n zpool create -f tank /dev/vdb && sudo -n zfs create tank/data" + " && echo 'from "
                                + n.label() + "' | sudo -n tee /tank/data/hello >/dev/null");
                assertEquals(0, pool.code(), () -> n.address() + ": " + pool);
            }

            Run status = fleet(home, key, knownHosts, hosts, "status", "--json", "--bundle", bundle.toString());
            assertEquals(0, status.code(), status::toString);
            JsonNode j = JsonMapping.newMapper().readTree(status.out());
            assertEquals(2, j.get("hosts").size(), status::toString);
            for (JsonNode h : j.get("hosts")) {
                JsonNode s = h.get("status");
                assertEquals(
                        archive.getFileName().toString(), s.get("installed").asText(), status::toString);
                assertTrue(s.get("active").asBoolean(), () -> "active: " + status);
                assertTrue(s.get("moduleLoaded").asBoolean(), () -> "module: " + status);
                assertEquals(1, s.get("pools").size(), status::toString);
                assertEquals("tank", s.get("pools").get(0).get("name").asText(), status::toString);
                assertEquals("ONLINE", s.get("pools").get(0).get("health").asText(), status::toString);
            }

            for (Node n : nodes) {
                Run done = ssh(n, key, knownHosts, "sudo -n touch /run/lab-fleet-done");
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
                    ssh(n, key, knownHosts, "sudo -n touch /run/lab-fleet-done");
                }
            }
            boots.shutdown();
            boots.awaitTermination(20, TimeUnit.MINUTES);
            for (Node n : nodes) {
                n.vm().close();
            }
        }
    }

    /** Waits until the node's sshd accepts the lab key under the strict known_hosts, or its boot ends first. */
    static void awaitSsh(Node n, Path key, Path knownHosts, Duration limit) throws Exception {
        long end = System.nanoTime() + limit.toNanos();
        Run last = null;
        while (System.nanoTime() < end) {
            if (n.boot().isDone()) {
                throw new AssertionError(n.address() + ": the VM's boot ended before its sshd answered: "
                        + n.boot().get());
            }
            last = ssh(n, key, knownHosts, "true");
            if (last.code() == 0) {
                return;
            }
            Thread.sleep(3000);
        }
        throw new AssertionError(n.address() + ": no ssh within " + limit + "; last: " + last);
    }

    record Run(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
        }
    }

    static Run ssh(Node n, Path key, Path knownHosts, String command) throws IOException, InterruptedException {
        return exec(
                null,
                Duration.ofMinutes(5),
                "ssh",
                "-F",
                "/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "UserKnownHostsFile=" + knownHosts,
                "-o",
                "ConnectTimeout=10",
                "-o",
                "IdentitiesOnly=yes",
                "-i",
                key.toString(),
                "-p",
                Integer.toString(n.port()),
                "core@127.0.0.1",
                command);
    }

    /** The packaged tool, as an operator runs it; HOME is the test's, so no ~/.ssh of this machine is read. */
    static Run fleet(Path home, Path key, Path knownHosts, List<String> hosts, String action, String... extra)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(tool.toString(), "fleet", action));
        cmd.addAll(hosts);
        cmd.addAll(List.of(
                "--identity",
                key.toString(),
                "--known-hosts",
                knownHosts.toString(),
                "--connect-timeout",
                "30s",
                "--command-timeout",
                "20m"));
        cmd.addAll(List.of(extra));
        long t0 = System.nanoTime();
        Run r = exec(home, Duration.ofMinutes(30), cmd.toArray(String[]::new));
        System.out.printf(
                "[fleet-vm-it] fleet %s: exit %d in %.1f s%n%s%n",
                action, r.code(), (System.nanoTime() - t0) / 1e9, r.out());
        return r;
    }

    static Run exec(Path home, Duration timeout, String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("fleet-vm", ".out");
        Path err = Files.createTempFile("fleet-vm", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(command)
                    .directory(VmLab.repo().toFile())
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            if (home != null) {
                pb.environment().put("HOME", home.toString());
                pb.environment().remove("SSH_AUTH_SOCK");
            }
            Process p = pb.start();
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                p.destroy();
                p.waitFor(30, TimeUnit.SECONDS);
                throw new AssertionError(List.of(command) + " did not return within " + timeout);
            }
            return new Run(
                    p.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
