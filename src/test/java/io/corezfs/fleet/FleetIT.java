package io.corezfs.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.corezfs.JsonMapping;
import io.corezfs.testing.Cli;
import io.corezfs.testing.CuttingProxy;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.SshLab;
import io.corezfs.testing.TarBuilder;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code corezfs fleet} against real sshd: eight containers of the lab's Debian image with OpenSSH and sudo, each on
 * its own 127.0.0.1 port. The remote action is the real bundle's {@code corezfs install --root /flatcar}, a real file
 * install into a Flatcar-like root in the container, which {@code fleet status} (the node's {@code status --root})
 * then reads back.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FleetIT {
    static final Path WORK = Path.of("target/fleet-it").toAbsolutePath();
    static final String VERSION = System.getProperty("corezfs.version", "0.1.0");
    static final Path BUNDLE = Path.of(
                    System.getProperty("corezfs.bundle", "target/corezfs-" + VERSION + "-linux-x86_64.tar.gz"))
            .toAbsolutePath();
    static final String ARCHIVE_NAME = "corezfs_amd64-usr_3975.2.0_stable_zfs-2.1.11.tar.gz";

    SshLab lab;
    Path archive;
    Path knownHosts;
    Path state;

    @BeforeAll
    void lab() throws Exception {
        Files.createDirectories(WORK);
        Path root = HostRoots.flatcar(Files.createTempDirectory(WORK, "root")).root();
        // Incompressible bulk, so a transfer has a middle to be cut in.
        byte[] bulk = new byte[6 << 20];
        new Random(16).nextBytes(bulk);
        archive = TarBuilder.typicalTree()
                .file("opt/corezfs/usr/lib/bulk.bin", Base64.getEncoder().encodeToString(bulk))
                .writeTo(WORK.resolve("archive.tar.gz"));
        long t0 = System.nanoTime();
        lab = SshLab.start(8, WORK, root);
        System.out.printf("[fleet-it] 8 sshd containers up in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    @AfterAll
    void stop() {
        if (lab != null) {
            lab.close();
        }
    }

    @BeforeEach
    void fresh() throws Exception {
        for (SshLab.Node n : lab.nodes) {
            n.reset(true);
        }
        knownHosts = WORK.resolve("known_hosts");
        StringBuilder kh = new StringBuilder();
        for (SshLab.Node n : lab.nodes) {
            kh.append(n.knownHosts());
        }
        Files.writeString(knownHosts, kh);
        state = WORK.resolve("state.json");
        Files.deleteIfExists(state);
    }

    Cli.Run fleet(String action, List<SshLab.Node> nodes, String... extra) {
        return fleetTo(action, nodes.stream().map(SshLab.Node::address).toList(), extra);
    }

    Cli.Run fleetTo(String action, List<String> hosts, String... extra) {
        List<String> a = new ArrayList<>(List.of("fleet", action));
        a.addAll(hosts);
        a.addAll(List.of(
                "--known-hosts",
                knownHosts.toString(),
                "--identity",
                lab.clientKey.toString(),
                "--state",
                state.toString(),
                "--remote-root",
                "/flatcar",
                "--connect-timeout",
                "5s",
                "--command-timeout",
                "60s"));
        a.addAll(List.of(extra));
        long t0 = System.nanoTime();
        Cli.Run r = new Cli(WORK)
                .env("HOME", WORK.resolve("home").toString())
                .ssh(JschSsh::new)
                .run(a.toArray(String[]::new));
        System.out.printf(
                "[fleet-it] fleet %s on %d nodes: exit %d in %.1f s%n",
                action, hosts.size(), r.exitCode(), (System.nanoTime() - t0) / 1e9);
        return r;
    }

    Cli.Run install(List<SshLab.Node> nodes, String... extra) {
        List<String> a = new ArrayList<>(List.of("--archive", archive.toString(), "--bundle", BUNDLE.toString()));
        a.addAll(List.of(extra));
        return fleet("install", nodes, a.toArray(String[]::new));
    }

    static boolean installed(SshLab.Node n) {
        return n.sh("test -f /flatcar/etc/modules-load.d/zfs.conf && test -f /flatcar/var/lib/corezfs/archives/"
                        + ARCHIVE_NAME + " && echo yes || echo no")
                .strip()
                .equals("yes");
    }

    List<SshLab.Node> nodes(int... i) {
        List<SshLab.Node> out = new ArrayList<>();
        for (int x : i) {
            out.add(lab.nodes.get(x));
        }
        return out;
    }

    @Test
    void parallelRolloutToEightNodesThenStatusReadsEachBack() throws Exception {
        for (SshLab.Node n : lab.nodes) {
            n.reset(false);
        }

        Cli.Run r = install(lab.nodes, "--parallel", "8", "--canary", "1");

        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("8 ok, 0 skipped, 0 failed, 0 not started"), r::toString);
        for (SshLab.Node n : lab.nodes) {
            assertTrue(installed(n), n.address());
        }
        // --bundle names the corezfs version the nodes run.
        Cli.Run s = fleet("status", lab.nodes, "--json", "--parallel", "8", "--bundle", BUNDLE.toString());
        assertEquals(0, s.exitCode(), s::toString);
        JsonNode j = JsonMapping.newMapper().readTree(s.out());
        for (JsonNode h : j.get("hosts")) {
            assertEquals(ARCHIVE_NAME, h.get("status").get("installed").asText(), s::toString);
            assertEquals("2.1.11", h.get("status").get("zfsVersion").asText(), s::toString);
        }
    }

    @Test
    void aNodeBehindAProxyJumpIsReachedThroughItWithBothHostKeysCheckedStrictly() throws Exception {
        SshLab.Node jump = lab.nodes.get(0);
        SshLab.Node behind = lab.nodes.get(1);
        // The node's name resolves only on the jump host: reaching it at all proves the jump was taken.
        assertThrows(UnknownHostException.class, () -> InetAddress.getByName(SshLab.INTERNAL_NAME));
        Path config = Files.writeString(
                WORK.resolve("ssh_config"),
                "Host behind\n  HostName " + SshLab.INTERNAL_NAME + "\n  Port " + behind.port
                        + "\n  ProxyJump core@127.0.0.1:" + jump.port + "\n");
        String jumpBefore = jump.snapshot();
        String behindBefore = behind.snapshot();
        // The jump host's key is not the one known_hosts has for it: nothing runs, on either.
        Files.writeString(
                knownHosts,
                lab.nodes.get(2).knownHosts(jump.port) + behind.knownHosts(SshLab.INTERNAL_NAME, behind.port));

        Cli.Run refused = install(List.of(), "behind", "--ssh-config", config.toString(), "--canary", "0");

        assertEquals(3, refused.exitCode(), refused::toString);
        assertTrue(refused.out().contains("behind via jump host core@127.0.0.1:" + jump.port), refused::toString);
        assertTrue(refused.out().contains("host key CHANGED"), refused::toString);
        assertEquals(behindBefore, behind.snapshot(), "nothing moved behind the jump host");

        Files.writeString(knownHosts, jump.knownHosts() + behind.knownHosts(SshLab.INTERNAL_NAME, behind.port));

        Cli.Run r = install(List.of(), "behind", "--ssh-config", config.toString(), "--canary", "0");

        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(installed(behind), r::toString);
        assertEquals(jumpBefore, jump.snapshot(), "the jump host only carried the connection");
    }

    @Test
    void strictHostKeysUnknownAndChangedStopTheirNodesAcceptNewRecords() throws Exception {
        SshLab.Node unknown = lab.nodes.get(0);
        SshLab.Node changed = lab.nodes.get(1);
        SshLab.Node known = lab.nodes.get(2);
        Files.writeString(
                knownHosts,
                changed.knownHosts().isEmpty() ? "" : lab.nodes.get(3).knownHosts(changed.port) + known.knownHosts());
        String unknownBefore = unknown.snapshot();
        String changedBefore = changed.snapshot();

        Cli.Run r = install(List.of(unknown, changed, known), "--max-failures", "2", "--canary", "0");

        assertEquals(7, r.exitCode(), r::toString);
        assertTrue(r.out().contains("host key unknown"), r::toString);
        assertTrue(r.out().contains("host key CHANGED"), r::toString);
        assertTrue(installed(known));
        assertEquals(unknownBefore, unknown.snapshot(), "no file moved on the unknown node");
        assertEquals(changedBefore, changed.snapshot(), "no file moved on the changed node");

        Cli.Run again =
                install(List.of(unknown, changed), "--accept-new-host-keys", "--max-failures", "1", "--canary", "0");

        assertEquals(7, again.exitCode(), again::toString);
        assertTrue(installed(unknown), again::toString);
        assertTrue(again.out().contains("host key CHANGED"), again::toString);
        assertEquals(changedBefore, changed.snapshot());
        assertTrue(
                Files.readString(knownHosts).contains("[127.0.0.1]:" + unknown.port + " "), "the new key is recorded");
    }

    @Test
    void aRefusedLoginFailsWithoutTouchingTheNode() throws Exception {
        SshLab.Node n = lab.nodes.get(0);
        Path other = WORK.resolve("other_key");
        Files.deleteIfExists(other);
        Files.deleteIfExists(WORK.resolve("other_key.pub"));
        new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other.toString())
                .start()
                .waitFor();
        String before = n.snapshot();

        List<String> a = new ArrayList<>(List.of(
                "fleet",
                "install",
                n.address(),
                "--archive",
                archive.toString(),
                "--known-hosts",
                knownHosts.toString(),
                "--identity",
                other.toString(),
                "--state",
                state.toString(),
                "--remote-root",
                "/flatcar"));
        Cli.Run r = new Cli(WORK)
                .env("HOME", WORK.resolve("home").toString())
                .ssh(JschSsh::new)
                .run(a.toArray(String[]::new));

        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(r.out().contains("authentication failed"), r::toString);
        assertEquals(before, n.snapshot());
    }

    @Test
    void aNodeThatIsDownFailsWithinTheConnectTimeoutAndTheOthersGoOn() throws Exception {
        SshLab.Node up = lab.nodes.get(0);
        int dead = SshLab.freePort();
        List<String> a = new ArrayList<>(List.of(
                "fleet",
                "install",
                "127.0.0.1:" + dead,
                up.address(),
                "--archive",
                archive.toString(),
                "--bundle",
                BUNDLE.toString(),
                "--known-hosts",
                knownHosts.toString(),
                "--identity",
                lab.clientKey.toString(),
                "--state",
                state.toString(),
                "--remote-root",
                "/flatcar",
                "--connect-timeout",
                "3s",
                "--max-failures",
                "1"));
        long t0 = System.nanoTime();
        Cli.Run r = new Cli(WORK)
                .env("HOME", WORK.resolve("home").toString())
                .ssh(JschSsh::new)
                .run(a.toArray(String[]::new));

        assertEquals(7, r.exitCode(), r::toString);
        assertTrue(r.out().contains("cannot connect"), r::toString);
        assertTrue(installed(up));
        assertTrue((System.nanoTime() - t0) / 1e9 < 60, "a dead node does not stall the run");
    }

    @Test
    void aNodeThatHangsIsCutOffByTheConnectTimeout() throws Exception {
        SshLab.Node hung = lab.nodes.get(1);
        SshLab.Node up = lab.nodes.get(0);
        // Frozen: the kernel still accepts the TCP connection, but sshd never answers the handshake.
        hung.container
                .getDockerClient()
                .pauseContainerCmd(hung.container.getContainerId())
                .exec();
        try {
            long t0 = System.nanoTime();
            // fleet() gives --connect-timeout 5s.
            Cli.Run r = install(List.of(hung, up), "--max-failures", "1");
            double took = (System.nanoTime() - t0) / 1e9;

            assertEquals(7, r.exitCode(), r::toString);
            assertTrue(r.out().contains("cannot connect within 5 s"), r::toString);
            assertTrue(installed(up));
            assertTrue(took < 45, "the hung node did not stall the run: " + took + " s");
        } finally {
            hung.container
                    .getDockerClient()
                    .unpauseContainerCmd(hung.container.getContainerId())
                    .exec();
        }
    }

    @Test
    void aSudoThatWantsAPasswordFailsFastAndSaysSo() throws Exception {
        SshLab.Node n = lab.nodes.get(0);
        String before = n.snapshot();

        Cli.Run r = fleet(
                "install",
                List.of(),
                "pwuser@" + n.address(),
                "--archive",
                archive.toString(),
                "--bundle",
                BUNDLE.toString());

        assertEquals(7, r.exitCode(), r::toString);
        assertTrue(r.out().contains("sudo wants a password for pwuser"), r::toString);
        assertEquals(before, n.snapshot());
    }

    @Test
    void aCutTransferResumesAndSendsOnlyTheRest() throws Exception {
        SshLab.Node n = lab.nodes.get(0);
        // The node has this corezfs already: what is cut is the archive, not the bundle.
        assertEquals(0, install(List.of(n)).exitCode());
        n.reset(true);
        Files.deleteIfExists(state);
        long size = Files.size(archive);
        try (CuttingProxy proxy = new CuttingProxy(n.port, size / 2)) {
            Files.writeString(knownHosts, n.knownHosts(proxy.port()), java.nio.file.StandardOpenOption.APPEND);
            List<String> a = new ArrayList<>(List.of(
                    "fleet",
                    "install",
                    "127.0.0.1:" + proxy.port(),
                    "--archive",
                    archive.toString(),
                    "--bundle",
                    BUNDLE.toString(),
                    "--known-hosts",
                    knownHosts.toString(),
                    "--identity",
                    lab.clientKey.toString(),
                    "--state",
                    state.toString(),
                    "--remote-root",
                    "/flatcar",
                    "--command-timeout",
                    "20s",
                    "--json"));
            Cli.Run cut = new Cli(WORK)
                    .env("HOME", WORK.resolve("home").toString())
                    .ssh(JschSsh::new)
                    .run(a.toArray(String[]::new));
            assertEquals(7, cut.exitCode(), cut::toString);
            assertTrue(cut.out().contains("connection lost") || cut.out().contains("sending"), cut::toString);
            assertFalse(installed(n), "a cut never half-installs");
            assertFalse(
                    n.sh("ls /flatcar/etc/modules-load.d 2>/dev/null || true").contains("zfs.conf"));
        }
        // sshd may still be writing what was in flight when the cut came; wait until the partial file stops growing.
        String partial = "/flatcar/var/lib/corezfs/archives/." + ARCHIVE_NAME + ".partial";
        long have = -1;
        for (int i = 0; i < 50; i++) {
            long now = Long.parseLong(n.sh("stat -c %s " + partial).strip());
            if (now == have) {
                break;
            }
            have = now;
            Thread.sleep(200);
        }
        assertTrue(have > 0 && have < size, "part of the archive arrived: " + have);

        Cli.Run resumed = install(List.of(n), "--resume", "--json");

        assertEquals(0, resumed.exitCode(), resumed::toString);
        long sent = JsonMapping.newMapper()
                .readTree(resumed.out())
                .get("hosts")
                .get(0)
                .get("bytesSent")
                .asLong();
        System.out.printf(
                "[fleet-it] resume: %d bytes missing, %d sent (%.4fx)%n",
                size - have, sent, (double) sent / (size - have));
        assertTrue(sent <= 1.05 * (size - have), "sent " + sent + " for " + (size - have) + " missing");
        assertTrue(sent >= size - have);
        assertTrue(installed(n));
    }

    @Test
    void aFailedCanaryStopsTheRolloutAndTheOthersAreUntouched() throws Exception {
        List<SshLab.Node> four = nodes(0, 1, 2, 3);
        // /flatcar/etc as a file: install refuses to put anything under it.
        four.get(0).sh("rm -rf /flatcar/etc && echo x > /flatcar/etc");
        List<String> before = four.stream().map(SshLab.Node::snapshot).toList();

        Cli.Run r = install(four, "--canary", "1", "--max-failures", "3");

        assertEquals(7, r.exitCode(), r::toString);
        assertEquals(
                3,
                r.out()
                        .lines()
                        .filter(l -> l.contains("not started: a canary failed"))
                        .count(),
                r::toString);
        for (int i = 1; i < 4; i++) {
            assertEquals(before.get(i), four.get(i).snapshot(), "node " + i + " untouched");
        }
    }

    @Test
    void onceFailuresPassTheBudgetNoNewNodeStarts() throws Exception {
        List<SshLab.Node> five = nodes(0, 1, 2, 3, 4);
        five.get(1).sh("rm -rf /flatcar/etc && echo x > /flatcar/etc");
        five.get(2).sh("rm -rf /flatcar/etc && echo x > /flatcar/etc");
        List<String> before = five.stream().map(SshLab.Node::snapshot).toList();

        Cli.Run r = install(five, "--canary", "0", "--parallel", "1", "--max-failures", "1");

        assertEquals(7, r.exitCode(), r::toString);
        assertTrue(installed(five.get(0)));
        assertEquals(
                2,
                r.out()
                        .lines()
                        .filter(l -> l.contains("not started: 2 failures passed"))
                        .count(),
                r::toString);
        assertEquals(before.get(3), five.get(3).snapshot());
        assertEquals(before.get(4), five.get(4).snapshot());
    }
}
