package io.corezfs.system;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The running system as live activation touches it: who we are and the host programs we call (systemctl,
 * modprobe, zfs, zpool, mount). A seam, so activation, rollback and uninstall are specified by tests that record
 * the calls against a temporary root instead of changing the machine.
 */
public interface LiveSystem {
    /** A finished program: its exit code and its standard output and error, merged. */
    record Result(int code, String output) {
        public boolean ok() {
            return code == 0;
        }

        /** The last line of output, for one-line error messages. */
        public String lastLine() {
            return output.strip().lines().reduce((a, b) -> b).orElse("");
        }
    }

    /** The effective user id of this process. */
    int effectiveUid();

    /** Runs a program without a shell, to completion; never throws for a non-zero exit. */
    Result run(List<String> command);

    /**
     * Runs a program keeping its stdout apart from its stderr, for output that is parsed (a tool's log lines on
     * stderr must not be read as data). Systems that cannot run programs this way report it as not started.
     */
    default ProcessResult runSeparately(ProcessRequest request) {
        return ProcessResult.notStarted(request.argv(), "this system runs no programs with separate output");
    }

    /** The machine itself, its programs run through {@code runner}, each given ten minutes. */
    static LiveSystem over(ProcessRunner runner) {
        return over(runner, ProcessRequest.DEFAULT_TIMEOUT);
    }

    /**
     * The machine itself, its programs run through {@code runner}. A program that cannot be started reads as exit
     * 127, one past {@code timeout} as 124 (it is killed), as in a shell; the last line then says so.
     */
    static LiveSystem over(ProcessRunner runner, Duration timeout) {
        return new LiveSystem() {
            @Override
            public int effectiveUid() {
                try {
                    // /proc/self is owned by the effective uid; this needs no module beyond java.base.
                    return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
                } catch (IOException | UnsupportedOperationException e) {
                    return -1;
                }
            }

            @Override
            public Result run(List<String> command) {
                ProcessResult r = runner.run(ProcessRequest.of(command).timeout(timeout));
                String output = joined(r.stdout(), r.stderrTail());
                if (r.outcome() != ProcessResult.Outcome.EXITED) {
                    output = joined(output, r.describe());
                }
                return new Result(r.exitCode(), output);
            }

            @Override
            public ProcessResult runSeparately(ProcessRequest request) {
                return runner.run(request);
            }

            private String joined(String a, String b) {
                return a.isEmpty() || b.isEmpty() || a.endsWith("\n") ? a + b : a + "\n" + b;
            }
        };
    }
}
