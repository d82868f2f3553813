package io.corezfs.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What every {@link ProcessRunner} promises, whether it runs programs here, on another host or on paper. A runner
 * passes by naming the programs the scenarios need.
 */
public abstract class ProcessRunnerContract {
    protected abstract ProcessRunner runner();

    /** A program that writes {@code out} to stdout and {@code err} to stderr, then exits with {@code code}. */
    protected abstract List<String> program(int code, String out, String err);

    /** A program that would run far longer than any timeout in these tests. */
    protected abstract List<String> hangs();

    /** A program that does not exist. */
    protected abstract List<String> missing();

    @Test
    void aProgramThatSucceedsIsOkWithItsOutput() {
        ProcessResult r = runner().run(ProcessRequest.of(program(0, "hello\n", "")));
        assertTrue(r.ok(), r.describe());
        assertEquals(ProcessResult.Outcome.EXITED, r.outcome());
        assertEquals(0, r.exitCode());
        assertEquals("hello\n", r.stdout());
    }

    @Test
    void aFailureIsOneLineWithTheCommandTheExitCodeAndTheLastLineOfStderr() {
        List<String> argv = program(3, "", "warming up\ncannot export 'tank': pool is busy\n");
        ProcessResult r = runner().run(ProcessRequest.of(argv));
        assertFalse(r.ok());
        assertEquals(3, r.exitCode());
        assertEquals(
                ProcessResult.commandLine(argv) + " failed (exit 3): cannot export 'tank': pool is busy", r.describe());
        assertEquals(1, r.describe().lines().count());
    }

    @Test
    void onlyTheTailOfStderrAndTheHeadOfStdoutAreKept() {
        String err = "e".repeat(50_000) + "\nthe real reason\n";
        String out = "o".repeat(50_000);
        ProcessResult r = runner().run(ProcessRequest.of(program(1, out, err)).caps(1000, 100));
        assertEquals("o".repeat(1000), r.stdout());
        assertTrue(r.stderrTail().length() <= 100, r.stderrTail());
        assertTrue(r.stderrTail().endsWith("the real reason\n"), r.stderrTail());
        assertTrue(r.describe().endsWith("failed (exit 1): the real reason"), r.describe());
    }

    @Test
    void aProgramPastItsTimeoutIsKilledAndReportedAsExit124() {
        ProcessResult r = runner().run(ProcessRequest.of(hangs()).timeout(Duration.ofMillis(300)));
        assertEquals(ProcessResult.Outcome.TIMED_OUT, r.outcome());
        assertEquals(124, r.exitCode());
        assertFalse(r.ok());
        assertTrue(
                r.describe().startsWith(ProcessResult.commandLine(hangs()) + " did not finish within 300 ms"),
                r.describe());
    }

    @Test
    void aProgramThatCannotBeStartedIsExit127AndSaysSo() {
        ProcessResult r = runner().run(ProcessRequest.of(missing()));
        assertEquals(ProcessResult.Outcome.NOT_STARTED, r.outcome());
        assertEquals(127, r.exitCode());
        assertTrue(
                r.describe()
                        .startsWith(
                                ProcessResult.commandLine(missing()) + " could not be started (exit 127): cannot run "),
                r.describe());
    }

    @Test
    void aStreamedProgramHandsOverItsStdoutAndReportsItsExitAfterwards() throws IOException {
        ProcessRunner.Streaming s = runner().start(ProcessRequest.of(program(0, "a tar stream", "a warning\n")));
        try (InputStream in = s.stdout()) {
            assertEquals("a tar stream", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        ProcessResult r = s.finish();
        assertTrue(r.ok(), r.describe());
        assertEquals("", r.stdout(), "the caller had the stream");
        assertEquals("a warning\n", r.stderrTail());
    }

    @Test
    void aStreamedProgramThatFailsIsReportedLikeAnyOther() throws IOException {
        List<String> argv = program(2, "", "tar: ./dev/console: Cannot open\n");
        ProcessRunner.Streaming s = runner().start(ProcessRequest.of(argv));
        try (InputStream in = s.stdout()) {
            in.readAllBytes();
        }
        assertEquals(
                ProcessResult.commandLine(argv) + " failed (exit 2): tar: ./dev/console: Cannot open",
                s.finish().describe());
    }

    @Test
    void aStreamedProgramPastItsTimeoutIsKilledEvenWhileItsOutputIsBeingRead() throws IOException {
        ProcessRunner.Streaming s = runner().start(ProcessRequest.of(hangs()).timeout(Duration.ofMillis(300)));
        try (InputStream in = s.stdout()) {
            in.readAllBytes(); // ends when the tree is killed
        }
        ProcessResult r = s.finish();
        assertEquals(ProcessResult.Outcome.TIMED_OUT, r.outcome());
        assertEquals(124, r.exitCode());
    }
}
