package io.corezfs;

import io.corezfs.testing.Lab;
import io.corezfs.testing.Requirements;
import io.corezfs.testing.VmBoot;
import io.corezfs.testing.VmLab;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What the classes with SSH nodes in VMs (FleetVmIT, ProvisionerIT) share: the payload the lab builds for them, a
 * node, and ssh, the packaged tool and other commands run from the host.
 */
final class VmNodes {
    private VmNodes() {}

    /**
     * The bundle, the VM archive (lab/vm-archive.sh), the sshd image variant (lab/vm-sshd.sh: its key and host key
     * beside it) and the packaged launcher.
     */
    record Payload(Path bundle, Path archive, Path sshd, Path tool) {
        /** {@code tool fleet ACTION} on {@code hosts}: see {@link VmNodes#fleet}. */
        Run fleet(Path home, Path key, Path knownHosts, List<String> hosts, String action, String... extra)
                throws IOException, InterruptedException {
            return VmNodes.fleet(tool, home, key, knownHosts, hosts, action, extra);
        }
    }

    /** Builds (or finds cached) what the VM nodes need; each class calls it once, from its {@code @BeforeAll}. */
    static Payload payload() throws Exception {
        VmLab.requireVm();
        Lab.requireBuilt();
        Requirements.need(Requirements.which("ssh").isPresent(), "ssh (OpenSSH's client; scripts/deps.sh installs it)");
        Path bundle = Lab.bundle();
        Path tool = VmLab.repo().resolve("target/corezfs/bin/corezfs");
        Lab.requireDocker();
        Path archive = LiveInstallIT.vmArchive();
        Path sshd = LiveInstallIT.labProduct(Duration.ofMinutes(20), "vm-sshd.sh");
        return new Payload(bundle, archive, sshd, tool);
    }

    /** One node: its run, its forwarded port, and its boot running in the background until the test is through. */
    record Node(String label, VmLab vm, int port, CompletableFuture<VmBoot> boot) {
        String address() {
            return "127.0.0.1:" + port;
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

    /** {@code tool fleet ACTION}: the packaged tool, as an operator runs it; HOME is the test's, so no ~/.ssh of this machine is read. */
    static Run fleet(
            Path tool, Path home, Path key, Path knownHosts, List<String> hosts, String action, String... extra)
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
        LiveInstallIT.Result r = LiveInstallIT.run(home, timeout, command);
        return new Run(r.code(), r.out(), r.err());
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
