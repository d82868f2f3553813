package io.corezfs.system;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs host programs (mount, umount, tar) without a shell, so no argument is ever interpreted. A seam: tests
 * record the calls instead of mounting anything.
 */
public interface HostCommands {
    /** Runs to completion; a non-zero exit fails with the program's own error output. */
    void run(List<String> command);

    /** Starts a program whose standard output the caller consumes; {@link Running#finish()} checks its exit. */
    Running start(List<String> command);

    /** Where file systems are mounted on this machine now, as absolute paths. */
    List<Path> mountPoints() throws IOException;

    interface Running {
        InputStream stdout();

        /** Waits for the exit and fails on a non-zero one. */
        void finish();

        void kill();
    }

    /**
     * A path field of /proc/mounts or /proc/self/mountinfo as it is: the kernel writes space, tab, newline and
     * backslash in it as octal escapes ({@code \\040}).
     */
    static String unescapeMountPath(String field) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\'
                    && i + 3 < field.length()
                    && field.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                b.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** How long a streamed program may run: a developer container's root file system is gigabytes of tar. */
    Duration STREAM_TIMEOUT = Duration.ofHours(1);

    /**
     * The host's programs, through {@code runner}: ten minutes for one that runs to completion, an hour for a stream.
     * Every failure, a timeout included, is exit 3 with the runner's one-line report.
     */
    static HostCommands over(ProcessRunner runner) {
        return new HostCommands() {
            @Override
            public void run(List<String> command) {
                check(runner.run(ProcessRequest.of(command)));
            }

            @Override
            public Running start(List<String> command) {
                ProcessRunner.Streaming s =
                        runner.start(ProcessRequest.of(command).timeout(STREAM_TIMEOUT));
                return new Running() {
                    @Override
                    public InputStream stdout() {
                        return s.stdout();
                    }

                    @Override
                    public void finish() {
                        check(s.finish());
                    }

                    @Override
                    public void kill() {
                        s.kill();
                    }
                };
            }

            @Override
            public List<Path> mountPoints() throws IOException {
                List<Path> out = new ArrayList<>();
                for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                    String[] f = line.split(" ");
                    if (f.length > 1) {
                        out.add(Path.of(unescapeMountPath(f[1])));
                    }
                }
                return out;
            }

            private void check(ProcessResult r) {
                if (!r.ok()) {
                    throw new CorezfsException(ExitCode.PRECONDITION, r.describe());
                }
            }
        };
    }
}
