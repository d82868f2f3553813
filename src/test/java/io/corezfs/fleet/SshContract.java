package io.corezfs.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.system.ProcessRequest;
import io.corezfs.system.ProcessResult;
import io.corezfs.trust.Hashes;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Ssh} promises, stated once and run against the fake (FakeSshContractTest) and JSch against real
 * sshd (JschSshContractIT), so the fake the fleet's unit tests stand on behaves like the real thing.
 */
abstract class SshContract {
    /** The transport with a known_hosts that knows the node. */
    abstract Ssh ssh();

    /** The transport with an empty known_hosts. */
    abstract Ssh strangerSsh();

    abstract SshTarget node();

    /** A fresh directory on the node for pushes, as the node names it. */
    abstract String nodeDir();

    abstract Path work();

    ProcessResult run(Ssh.Session s, String... argv) {
        return s.run(ProcessRequest.of(argv).timeout(Duration.ofSeconds(30)));
    }

    @Test
    void aCommandReturnsItsExitCodeItsStdoutAndTheTailOfItsStderr() {
        try (Ssh.Session s = ssh().connect(node())) {
            ProcessResult r = run(s, "sh", "-c", "echo out; echo first >&2; echo last >&2; exit 3");
            assertEquals(ProcessResult.Outcome.EXITED, r.outcome());
            assertEquals(3, r.exitCode());
            assertEquals("out\n", r.stdout());
            assertEquals("last", r.stderrLastLine());
        }
    }

    @Test
    void argumentsReachTheProgramAsTheyAreNeitherSplitNorExpanded() {
        try (Ssh.Session s = ssh().connect(node())) {
            ProcessResult r = run(s, "printf", "%s\\n", "a b", "$HOME", "it's", "*", "");
            assertEquals("a b\n$HOME\nit's\n*\n\n", r.stdout(), r::describe);
        }
    }

    @Test
    void aCommandPastItsTimeoutIsEndedAndReportedAs124() {
        try (Ssh.Session s = ssh().connect(node())) {
            long t0 = System.nanoTime();
            ProcessResult r = s.run(ProcessRequest.of("sleep", "30").timeout(Duration.ofSeconds(1)));
            assertEquals(ProcessResult.Outcome.TIMED_OUT, r.outcome());
            assertEquals(124, r.exitCode());
            assertTrue((System.nanoTime() - t0) / 1e9 < 15, "ended near its deadline");
        }
    }

    @Test
    void stdinIsStreamedWholeAndCounted() {
        byte[] data = new byte[3 << 20];
        new Random(1).nextBytes(data);
        try (Ssh.Session s = ssh().connect(node())) {
            ProcessResult r = s.run(
                    ProcessRequest.of("sha256sum").timeout(Duration.ofSeconds(60)),
                    Optional.of(new ByteArrayInputStream(data)));
            assertTrue(r.ok(), r::describe);
            assertEquals(Hashes.sha256(data), r.stdout().substring(0, 64));
            assertEquals(data.length, s.bytesSent());
        }
    }

    @Test
    void aPushIsVerifiedOnTheNodeAndAResumedPushSendsOnlyTheRest() throws Exception {
        byte[] data = new byte[2 << 20];
        new Random(2).nextBytes(data);
        Path file = work().resolve("push.bin");
        Files.write(file, data);
        String sha = Hashes.sha256(data);
        int half = data.length / 2;
        try (Ssh.Session s = ssh().connect(node())) {
            // What a cut transfer leaves: the first half under the partial name.
            ProcessResult cut = s.run(
                    ProcessRequest.of(
                                    "sudo",
                                    "-n",
                                    "sh",
                                    "-c",
                                    "mkdir -p \"$1\" && cat > \"$1/.push.bin.partial\"",
                                    "sh",
                                    nodeDir())
                            .timeout(Duration.ofSeconds(30)),
                    Optional.of(new ByteArrayInputStream(data, 0, half)));
            assertTrue(cut.ok(), cut::describe);
            RemoteNode n = new RemoteNode(s, node(), Duration.ofSeconds(60));

            RemoteNode.Pushed p = n.push(file, nodeDir(), "push.bin", sha);

            assertEquals(data.length - half, p.sent());
            assertEquals(half, p.resumedFrom());
            ProcessResult check = run(s, "sha256sum", nodeDir() + "/push.bin");
            assertEquals(sha, check.stdout().substring(0, 64));
            assertEquals(
                    0,
                    run(s, "test", "!", "-e", nodeDir() + "/.push.bin.partial").exitCode());
            RemoteNode.Pushed again = n.push(file, nodeDir(), "push.bin", sha);
            assertTrue(again.alreadyThere());
            assertEquals(0, again.sent());
        }
    }

    @Test
    void aFileThatArrivesDifferentIsRemovedAndRefused() throws Exception {
        Path file = work().resolve("other.bin");
        Files.writeString(file, "these bytes");
        try (Ssh.Session s = ssh().connect(node())) {
            RemoteNode n = new RemoteNode(s, node(), Duration.ofSeconds(60));
            io.corezfs.CorezfsException e = assertThrows(
                    io.corezfs.CorezfsException.class, () -> n.push(file, nodeDir(), "other.bin", "0".repeat(64)));
            assertEquals(io.corezfs.ExitCode.VERIFICATION_FAILED, e.exitCode(), e::getMessage);
            assertEquals(0, run(s, "test", "!", "-e", nodeDir() + "/other.bin").exitCode());
            assertEquals(
                    0,
                    run(s, "test", "!", "-e", nodeDir() + "/.other.bin.partial").exitCode());
        }
    }

    @Test
    void anUnknownHostKeyIsRefusedBeforeAnythingRuns() {
        SshException e = assertThrows(
                SshException.class, () -> strangerSsh().connect(node()).close());
        assertEquals(SshException.Kind.HOST_KEY, e.kind());
        assertTrue(e.getMessage().contains("host key unknown"), e::getMessage);
    }

    @Test
    void noServerIsUnreachableAndARefusalIsNotCalledATimeout() throws Exception {
        int port;
        try (java.net.ServerSocket ss = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = ss.getLocalPort();
        }
        SshTarget dead = new SshTarget("dead", "127.0.0.1", port, node().user(), node().identities(), "test");
        SshException e =
                assertThrows(SshException.class, () -> ssh().connect(dead).close());
        assertEquals(SshException.Kind.UNREACHABLE, e.kind());
        assertTrue(e.getMessage().endsWith("cannot connect: Connection refused"), e::getMessage);
    }

    static List<Path> none() {
        return List.of();
    }
}
