package io.corezfs.fleet;

import io.corezfs.testing.FakeSsh;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

class FakeSshContractTest extends SshContract {
    @TempDir
    Path tmp;

    FakeSsh fake;

    @BeforeEach
    void setUp() throws IOException {
        fake = new FakeSsh(tmp);
        fake.node("127.0.0.1", 2222, Files.createDirectories(tmp.resolve("node")));
        Files.writeString(tmp.resolve("known_hosts"), "[127.0.0.1]:2222 key-A\n");
        Files.writeString(tmp.resolve("empty_known_hosts"), "");
    }

    private Ssh with(String knownHosts) {
        return fake.open(
                new SshSettings(tmp.resolve(knownHosts), false, Duration.ofSeconds(5), Optional.empty(), List.of()));
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
        return new SshTarget("node", "127.0.0.1", 2222, "core", List.of(), "test");
    }

    @Override
    String nodeDir() {
        return "/push";
    }

    @Override
    Path work() {
        return tmp;
    }
}
