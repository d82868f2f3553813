package io.corezfs.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.testing.HostRoots;
import io.corezfs.testing.SshLab;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The SSH contract for JSch, against a real sshd in the lab's container. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JschSshContractIT extends SshContract {
    static final Path WORK = Path.of("target/ssh-contract-it").toAbsolutePath();

    SshLab lab;
    int run;

    @BeforeAll
    void lab() throws Exception {
        Files.createDirectories(WORK);
        lab = SshLab.start(
                1,
                WORK,
                HostRoots.flatcar(Files.createTempDirectory(WORK, "root")).root());
        Files.writeString(WORK.resolve("known_hosts"), lab.nodes.get(0).knownHosts());
        Files.writeString(WORK.resolve("empty_known_hosts"), "");
    }

    @AfterAll
    void stop() {
        if (lab != null) {
            lab.close();
        }
    }

    @BeforeEach
    void next() {
        run++;
    }

    private Ssh with(String knownHosts) {
        return new JschSsh(
                new SshSettings(WORK.resolve(knownHosts), false, Duration.ofSeconds(5), Optional.empty(), List.of()));
    }

    @Test
    void aKeyKnownHostsMarksRevokedIsRefusedEvenBesideAPlainLineOrWithAcceptNewAndIsNotRecorded() throws Exception {
        String plain = lab.nodes.get(0).knownHosts();
        String text = plain.lines().map(l -> "@revoked " + l + "\n").collect(Collectors.joining()) + plain;
        Path file = WORK.resolve("revoked_known_hosts");
        Files.writeString(file, text);
        for (boolean acceptNew : new boolean[] {false, true}) {
            Ssh ssh = new JschSsh(new SshSettings(file, acceptNew, Duration.ofSeconds(5), Optional.empty(), List.of()));
            SshException e =
                    assertThrows(SshException.class, () -> ssh.connect(node()).close());
            assertEquals(SshException.Kind.HOST_KEY, e.kind(), e::getMessage);
            assertTrue(e.getMessage().contains("host key REVOKED"), e::getMessage);
        }
        assertEquals(text, Files.readString(file), "known_hosts is left as it was");
    }

    @Override
    Ssh ssh() {
        return with("known_hosts");
    }

    @Override
    Ssh strangerSsh() {
        return with("empty_known_hosts");
    }

    @Override
    SshTarget node() {
        return new SshTarget("node", "127.0.0.1", lab.nodes.get(0).port, "core", List.of(lab.clientKey), "test");
    }

    @Override
    String nodeDir() {
        return "/tmp/contract-" + run;
    }

    @Override
    Path work() {
        return WORK;
    }
}
