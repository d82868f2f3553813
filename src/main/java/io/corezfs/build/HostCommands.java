package io.corezfs.build;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;

import java.io.IOException;
import java.io.InputStream;
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

    interface Running {
        InputStream stdout();

        /** Waits for the exit and fails on a non-zero one. */
        void finish();

        void kill();
    }

    HostCommands SYSTEM = new HostCommands() {
        @Override
        public void run(List<String> command) {
            try {
                Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
                String output = new String(p.getInputStream().readAllBytes()).strip();
                int code = p.waitFor();
                if (code != 0) {
                    throw new CorezfsException(ExitCode.PRECONDITION, String.join(" ", command) + " failed (exit " + code + ")"
                            + (output.isEmpty() ? "" : ": " + output.lines().reduce((a, b) -> b).orElse("")));
                }
            } catch (IOException e) {
                throw new CorezfsException(ExitCode.PRECONDITION, "cannot run " + command.get(0) + ": " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CorezfsException(ExitCode.PRECONDITION, "interrupted while running " + command.get(0));
            }
        }

        @Override
        public Running start(List<String> command) {
            try {
                Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.PIPE).start();
                return new Running() {
                    @Override
                    public InputStream stdout() {
                        return p.getInputStream();
                    }

                    @Override
                    public void finish() {
                        try {
                            String err = new String(p.getErrorStream().readAllBytes()).strip();
                            int code = p.waitFor();
                            if (code != 0) {
                                throw new CorezfsException(ExitCode.PRECONDITION, command.get(0) + " failed (exit " + code + ")"
                                        + (err.isEmpty() ? "" : ": " + err.lines().reduce((a, b) -> b).orElse("")));
                            }
                        } catch (IOException e) {
                            throw new CorezfsException(ExitCode.PRECONDITION, command.get(0) + ": " + e.getMessage());
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            p.destroyForcibly();
                            throw new CorezfsException(ExitCode.PRECONDITION, "interrupted while running " + command.get(0));
                        }
                    }

                    @Override
                    public void kill() {
                        p.destroyForcibly();
                    }
                };
            } catch (IOException e) {
                throw new CorezfsException(ExitCode.PRECONDITION, "cannot run " + command.get(0) + ": " + e.getMessage());
            }
        }
    };
}
