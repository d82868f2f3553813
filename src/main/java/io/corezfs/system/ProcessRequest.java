package io.corezfs.system;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One program to run, described as data so that a runner on another machine (Fleet, over SSH) can carry it out
 * exactly as the local one does: no shell, no inherited terminal, a deadline always.
 *
 * @param argv           the program and its arguments; never interpreted by a shell
 * @param env            variables set for the child on top of the runner's own environment
 * @param workDir        the child's working directory; empty: the runner's
 * @param stdin          what the child reads; {@link Input#none()} is an empty input, never the operator's terminal
 * @param timeout        how long the child (and everything it started) may run before the whole tree is killed
 * @param maxStdoutBytes stdout kept by {@link ProcessRunner#run}; the rest is read and dropped, so the child never stalls
 * @param stderrTailBytes the end of stderr kept for the one-line failure report; the rest is read and dropped
 */
public record ProcessRequest(
        List<String> argv,
        Map<String, String> env,
        Optional<Path> workDir,
        Input stdin,
        Duration timeout,
        int maxStdoutBytes,
        int stderrTailBytes) {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);
    public static final int DEFAULT_MAX_STDOUT = 16 << 20;
    public static final int DEFAULT_STDERR_TAIL = 8 << 10;

    public ProcessRequest {
        argv = List.copyOf(argv);
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("no program to run");
        }
        env = Map.copyOf(env);
        Objects.requireNonNull(workDir);
        Objects.requireNonNull(stdin);
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("a process needs a positive timeout: " + timeout);
        }
        if (maxStdoutBytes < 0 || stderrTailBytes < 0) {
            throw new IllegalArgumentException("negative output cap");
        }
    }

    /** {@code argv} with no input, the default deadline and caps. */
    public static ProcessRequest of(List<String> argv) {
        return new ProcessRequest(
                argv,
                Map.of(),
                Optional.empty(),
                Input.none(),
                DEFAULT_TIMEOUT,
                DEFAULT_MAX_STDOUT,
                DEFAULT_STDERR_TAIL);
    }

    public static ProcessRequest of(String... argv) {
        return of(List.of(argv));
    }

    public ProcessRequest timeout(Duration t) {
        return new ProcessRequest(argv, env, workDir, stdin, t, maxStdoutBytes, stderrTailBytes);
    }

    public ProcessRequest env(Map<String, String> overrides) {
        return new ProcessRequest(argv, overrides, workDir, stdin, timeout, maxStdoutBytes, stderrTailBytes);
    }

    public ProcessRequest workDir(Path dir) {
        return new ProcessRequest(argv, env, Optional.of(dir), stdin, timeout, maxStdoutBytes, stderrTailBytes);
    }

    public ProcessRequest stdin(Input in) {
        return new ProcessRequest(argv, env, workDir, in, timeout, maxStdoutBytes, stderrTailBytes);
    }

    public ProcessRequest caps(int maxStdout, int stderrTail) {
        return new ProcessRequest(argv, env, workDir, stdin, timeout, maxStdout, stderrTail);
    }

    /** What the child reads on stdin. */
    public sealed interface Input {
        static Input none() {
            return None.INSTANCE;
        }

        static Input bytes(byte[] data) {
            return new Bytes(data.clone());
        }

        static Input file(Path file) {
            return new FromFile(file);
        }

        enum None implements Input {
            INSTANCE
        }

        record Bytes(byte[] data) implements Input {}

        record FromFile(Path file) implements Input {}
    }
}
