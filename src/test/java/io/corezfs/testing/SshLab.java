package io.corezfs.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.DockerImageName;

/**
 * SSH nodes for the fleet tests: containers of the lab's sshd image (lab/sshd-image.sh) on host networking, each
 * with sshd on its own 127.0.0.1 port, the test's key authorized for {@code core} (passwordless sudo) and
 * {@code pwuser} (sudo with a password), and a Flatcar-like root at {@code /flatcar} (pristine copy in
 * {@code /flatcar.orig}).
 */
public final class SshLab implements AutoCloseable {
    public static final String LABEL = "io.corezfs.fleet-it";
    /**
     * A name every node resolves to 127.0.0.1 (its /etc/hosts) and this machine does not resolve at all: a connection
     * to it that works went through a node, as through a ProxyJump.
     */
    public static final String INTERNAL_NAME = "fleet-node.corezfs-lab.invalid";

    /** One container. */
    public final class Node {
        public final int port;
        public final GenericContainer<?> container;

        Node(int port, GenericContainer<?> container) {
            this.port = port;
            this.container = container;
        }

        public String address() {
            return "127.0.0.1:" + port;
        }

        /** Runs {@code sh -c script} in the container as root; fails the test unless it exits 0. */
        public String sh(String script) {
            try {
                Container.ExecResult r = container.execInContainer("sh", "-c", script);
                if (r.getExitCode() != 0) {
                    throw new AssertionError(
                            "in " + address() + ": " + script + " -> exit " + r.getExitCode() + ": " + r.getStderr());
                }
                return r.getStdout();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        /** known_hosts lines for all of this node's host keys, under {@code port}'s name. */
        public String knownHosts(int asPort) {
            return knownHosts("127.0.0.1", asPort);
        }

        /** known_hosts lines for all of this node's host keys, under {@code [host]:port}. */
        public String knownHosts(String host, int asPort) {
            StringBuilder b = new StringBuilder();
            for (String l : sh("cat /etc/ssh/ssh_host_*_key.pub").split("\n")) {
                String[] p = l.split(" ");
                if (p.length >= 2) {
                    b.append('[')
                            .append(host)
                            .append("]:")
                            .append(asPort)
                            .append(' ')
                            .append(p[0])
                            .append(' ')
                            .append(p[1])
                            .append('\n');
                }
            }
            return b.toString();
        }

        public String knownHosts() {
            return knownHosts(port);
        }

        /**
         * Everything fleet may change on the node: the root, the node store, the tools, with sizes and hashes. Equal
         * before and after: untouched.
         */
        public String snapshot() {
            return sh("cd / && find flatcar opt var/lib/corezfs -xdev 2>/dev/null | sort | while read -r f; do"
                    + " if [ -f \"$f\" ] && [ ! -L \"$f\" ]; then echo \"$f $(sha256sum < \"$f\" | cut -c1-16)\";"
                    + " else echo \"$f\"; fi; done");
        }

        /** Back to a fresh node; {@code keepTool}: the unpacked bundle stays, so it is not pushed again. */
        public void reset(boolean keepTool) {
            sh("rm -rf /var/lib/corezfs /flatcar /home/core/.cache && cp -a /flatcar.orig /flatcar"
                    + (keepTool ? "" : " && rm -rf /opt/corezfs-*"));
        }
    }

    public final List<Node> nodes = new ArrayList<>();
    public final Path clientKey;
    public final String image;

    private SshLab(String image, Path clientKey) {
        this.image = image;
        this.clientKey = clientKey;
    }

    /** {@code count} fresh nodes, their root made from {@code root} (a local Flatcar-like tree). */
    public static SshLab start(int count, Path work, Path root) throws Exception {
        Requirements.need(dockerAnswers(), "a Docker engine (run: sudo lab/docker.sh)");
        Requirements.need(Requirements.which("ssh-keygen").isPresent(), "ssh-keygen (openssh-client)");
        String image = buildImage();
        Files.createDirectories(work);
        Path key = work.resolve("id_ed25519");
        Files.deleteIfExists(key);
        Files.deleteIfExists(work.resolve("id_ed25519.pub"));
        run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fleet-it", "-f", key.toString()));
        SshLab lab = new SshLab(image, key);
        String pub = Files.readString(work.resolve("id_ed25519.pub"));
        Path tar = work.resolve("root.tar");
        run(List.of("tar", "-C", root.toString(), "-cf", tar.toString(), "."));
        try {
            for (int i = 0; i < count; i++) {
                int port = freePort();
                GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(image))
                        .withNetworkMode("host")
                        .withExtraHost(INTERNAL_NAME, "127.0.0.1")
                        .withLabel(LABEL, "true")
                        .withCommand("/usr/local/sbin/lab-sshd", String.valueOf(port))
                        .withCopyToContainer(Transferable.of(pub), "/lab/authorized_keys")
                        .withCopyToContainer(Transferable.of(Files.readAllBytes(tar)), "/lab/root.tar")
                        .waitingFor(Wait.forLogMessage(".*Server listening on 127.0.0.1.*", 1)
                                .withStartupTimeout(Duration.ofSeconds(60)));
                c.start();
                Node n = lab.new Node(port, c);
                n.sh("mkdir -p /flatcar.orig && tar -C /flatcar.orig -xf /lab/root.tar && chmod 0755 /flatcar.orig"
                        // The tree came from a 0700 temporary directory; a node's root is world-readable.
                        + " && cp -a /flatcar.orig /flatcar");
                lab.nodes.add(n);
            }
        } catch (RuntimeException | Error e) {
            lab.close();
            throw e;
        }
        return lab;
    }

    static boolean dockerAnswers() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** lab/sshd-image.sh, cached by its inputs; prints the image's name last. */
    static String buildImage() throws Exception {
        Path script = Path.of(System.getProperty("user.dir")).resolve("lab/sshd-image.sh");
        ProcessBuilder pb =
                new ProcessBuilder("bash", script.toString()).redirectError(ProcessBuilder.Redirect.INHERIT);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(15, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new AssertionError("lab/sshd-image.sh failed (exit " + p.exitValue() + ")");
        }
        return out.lines().reduce((a, b) -> b).orElseThrow();
    }

    static void run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
        }
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        for (Node n : nodes) {
            try {
                n.container.stop();
            } catch (RuntimeException e) {
                System.err.println("[ssh-lab] could not stop " + n.address() + ": " + e);
            }
        }
    }
}
