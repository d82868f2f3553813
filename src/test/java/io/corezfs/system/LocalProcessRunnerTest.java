package io.corezfs.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real runner, with {@code sh} standing in for the host's programs. */
class LocalProcessRunnerTest extends ProcessRunnerContract {
    private final LocalProcessRunner local = new LocalProcessRunner();

    @TempDir
    Path tmp;

    @Override
    protected ProcessRunner runner() {
        return local;
    }

    @Override
    protected List<String> program(int code, String out, String err) {
        return List.of(
                "sh", "-c", "printf %s \"$1\"; printf %s \"$2\" >&2; exit \"$0\"", String.valueOf(code), out, err);
    }

    @Override
    protected List<String> hangs() {
        return List.of("sleep", "600");
    }

    @Override
    protected List<String> missing() {
        return List.of(tmp.resolve("no-such-program").toString());
    }

    @Test
    void aTimeoutKillsWhatTheProgramStartedToo() throws Exception {
        // The grandchild keeps the pipes open: without the tree kill the result would wait for it.
        ProcessResult r = assertTimeoutPreemptively(
                Duration.ofSeconds(60),
                () -> local.run(ProcessRequest.of("sh", "-c", "sleep 600 & echo $!; wait")
                        .timeout(Duration.ofMillis(500))));
        assertEquals(ProcessResult.Outcome.TIMED_OUT, r.outcome());
        assertGone(Long.parseLong(r.stdout().strip()));
    }

    @Test
    void anInterruptedWaitKillsTheTreeAndSaysSo() throws Exception {
        AtomicReference<ProcessResult> result = new AtomicReference<>();
        Path pidFile = tmp.resolve("pid");
        Thread waiter = new Thread(() -> result.set(
                local.run(ProcessRequest.of("sh", "-c", "sleep 600 & echo $! > \"$0\"; wait", pidFile.toString()))));
        waiter.start();
        for (int i = 0;
                i < 6000 && (!Files.exists(pidFile) || Files.readString(pidFile).isBlank());
                i++) {
            Thread.sleep(10);
        }
        waiter.interrupt();
        waiter.join(TimeUnit.SECONDS.toMillis(60));
        assertEquals(ProcessResult.Outcome.INTERRUPTED, result.get().outcome());
        assertEquals(130, result.get().exitCode());
        assertGone(Long.parseLong(Files.readString(pidFile).strip()));
    }

    @Test
    void aMebibyteOnStderrDoesNotStallAStreamedStdout() {
        String script = "head -c 1048576 /dev/zero | tr '\\0' w >&2; echo rootfs";
        ProcessResult r = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            ProcessRunner.Streaming s = local.start(ProcessRequest.of("sh", "-c", script));
            try (InputStream in = s.stdout()) {
                assertEquals("rootfs\n", new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            return s.finish();
        });
        assertTrue(r.ok(), r.describe());
        assertEquals(ProcessRequest.DEFAULT_STDERR_TAIL, r.stderrTail().length());
    }

    @Test
    void stdinEnvironmentAndWorkingDirectoryAreTheRequests() throws IOException {
        Path input = Files.writeString(tmp.resolve("in"), "from a file");
        ProcessResult r = local.run(ProcessRequest.of("sh", "-c", "cat; echo \" $GREETING $(pwd)\"")
                .stdin(ProcessRequest.Input.file(input))
                .env(Map.of("GREETING", "hi"))
                .workDir(tmp));
        assertEquals("from a file hi " + tmp.toRealPath() + "\n", r.stdout());
        assertEquals(
                "bytes",
                local.run(ProcessRequest.of("cat").stdin(ProcessRequest.Input.bytes("bytes".getBytes())))
                        .stdout());
        assertEquals(
                "",
                local.run(ProcessRequest.of("cat")).stdout(),
                "no request for input reads nothing, not the terminal");
    }

    private static void assertGone(long pid) throws InterruptedException, ExecutionException {
        CompletableFuture<ProcessHandle> exit =
                ProcessHandle.of(pid).map(ProcessHandle::onExit).orElse(CompletableFuture.completedFuture(null));
        try {
            exit.get(60, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("process " + pid + " survived the kill");
        }
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
    }
}
