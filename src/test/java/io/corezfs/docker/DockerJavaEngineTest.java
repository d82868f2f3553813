package io.corezfs.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DockerJavaEngineTest {
    @TempDir
    Path dir;

    @Test
    void anEngineThatDoesNotAnswerIsAPreconditionFailureThatSaysHowToStartIt() throws Exception {
        String host = "unix://" + dir.resolve("no-docker.sock");
        try (DockerJavaEngine engine = new DockerJavaEngine(host)) {
            CorezfsException e = assertThrows(CorezfsException.class, engine::ping);

            assertEquals(ExitCode.PRECONDITION, e.exitCode());
            assertTrue(e.getMessage().startsWith("Docker is not running or not reachable at " + host), e.getMessage());
            assertTrue(e.getMessage().contains("systemctl start docker"), e.getMessage());
        }
    }
}
