package io.corezfs.install;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

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

    /** The machine itself. A program that cannot be started reads as exit 127, as in a shell. */
    LiveSystem REAL = new LiveSystem() {
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
            try {
                Process p = new ProcessBuilder(command).redirectErrorStream(true)
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
                byte[] out = p.getInputStream().readAllBytes();
                if (!p.waitFor(10, TimeUnit.MINUTES)) {
                    p.destroyForcibly();
                    return new Result(124, command.get(0) + " did not finish within 10 minutes");
                }
                return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
            } catch (IOException e) {
                return new Result(127, "cannot run " + command.get(0) + ": " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Result(130, "interrupted while running " + command.get(0));
            }
        }
    };
}
