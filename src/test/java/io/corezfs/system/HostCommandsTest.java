package io.corezfs.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.testing.FakeProcessRunner;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The host programs the image import runs, on the real machine: {@code sh} stands in for {@code tar}. */
class HostCommandsTest {
    @Test
    void aChildThatWritesAMebibyteToStderrBeforeItsStdoutEndsDoesNotStallTheReader() {
        String script = "head -c 1048576 /dev/zero | tr '\\0' w >&2; echo rootfs";
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            HostCommands.Running tar =
                    HostCommands.over(new LocalProcessRunner()).start(List.of("sh", "-c", script));
            try (InputStream out = tar.stdout()) {
                assertEquals("rootfs\n", new String(out.readAllBytes()));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            tar.finish();
        });
    }

    @Test
    void aFailingProgramIsExit3WithItsCommandExitCodeAndLastErrorLine() {
        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> HostCommands.over(new LocalProcessRunner())
                        .run(List.of("sh", "-c", "echo 'mount: /mnt: wrong fs type' >&2; exit 32")));
        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertEquals(
                "sh -c echo 'mount: /mnt: wrong fs type' >&2; exit 32 failed (exit 32): mount: /mnt: wrong fs type",
                e.getMessage());
    }

    @Test
    void theMountTableListsTheRoot() throws IOException {
        assertTrue(HostCommands.over(new LocalProcessRunner()).mountPoints().contains(Path.of("/")));
    }

    @Test
    void aStreamPastItsHourIsExit3AndSaysSo() {
        List<String> tar = List.of("tar", "-C", "/mnt", "-c", ".");
        FakeProcessRunner fake = new FakeProcessRunner().on(tar, FakeProcessRunner.Script.hangs());
        HostCommands.Running running = HostCommands.over(fake).start(tar);
        CorezfsException e = assertThrows(CorezfsException.class, running::finish);
        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertEquals("tar -C /mnt -c . did not finish within 60 minutes and was killed (exit 124)", e.getMessage());
        assertEquals(HostCommands.STREAM_TIMEOUT, fake.requests().get(0).timeout());
    }
}
