package io.corezfs.system;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@link ProcessRunner} on this machine, through {@link ProcessBuilder}: no shell, stdin from the request (never the
 * terminal), stdout and stderr each drained by a thread of their own, and a watchdog per child that kills the
 * whole tree when the deadline passes.
 *
 * <p>The tree is found with {@link ProcessHandle#descendants()} while the child is still alive (once it is gone its
 * children belong to init and cannot be found from here), then every process in it is killed with SIGKILL: a
 * stuck {@code systemctl} or {@code zpool} does not get to ignore a polite signal. The same happens when the thread
 * waiting for the child is interrupted (Ctrl-C during an install).
 *
 * <p>Holds no state between calls; one instance serves the whole program.
 */
public final class LocalProcessRunner implements ProcessRunner {
    /** How long the output of a killed tree may take to reach its end before it is abandoned. */
    private static final Duration GRACE = Duration.ofSeconds(10);

    @Override
    public ProcessResult run(ProcessRequest request) {
        Child c;
        try {
            c = new Child(request, true);
        } catch (IOException e) {
            return ProcessResult.notStarted(
                    request.argv(), "cannot run " + request.argv().get(0) + ": " + e.getMessage());
        }
        return c.finish();
    }

    @Override
    public Streaming start(ProcessRequest request) {
        try {
            return new Child(request, false);
        } catch (IOException e) {
            ProcessResult failed = ProcessResult.notStarted(
                    request.argv(), "cannot run " + request.argv().get(0) + ": " + e.getMessage());
            return new Streaming() {
                @Override
                public InputStream stdout() {
                    return InputStream.nullInputStream();
                }

                @Override
                public ProcessResult finish() {
                    return failed;
                }

                @Override
                public void kill() {}
            };
        }
    }

    /** One started program with its drains and its watchdog. */
    private static final class Child implements Streaming {
        private final ProcessRequest request;
        private final Process process;
        private final long started = System.nanoTime();
        private final Drain out;
        private final Drain err;
        private volatile boolean timedOut;

        Child(ProcessRequest request, boolean captureStdout) throws IOException {
            this.request = request;
            ProcessBuilder pb = new ProcessBuilder(request.argv());
            pb.environment().putAll(request.env());
            request.workDir().ifPresent(d -> pb.directory(d.toFile()));
            if (request.stdin() instanceof ProcessRequest.Input.FromFile f) {
                pb.redirectInput(ProcessBuilder.Redirect.from(f.file().toFile()));
            } else if (!(request.stdin() instanceof ProcessRequest.Input.Bytes)) {
                pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            }
            process = pb.start();
            String name = request.argv().get(0);
            if (request.stdin() instanceof ProcessRequest.Input.Bytes b) {
                daemon("stdin of " + name, () -> feed(process.getOutputStream(), b.data()));
            }
            err = new Drain(process.getErrorStream(), request.stderrTailBytes(), false, "stderr of " + name);
            out = captureStdout
                    ? new Drain(process.getInputStream(), request.maxStdoutBytes(), true, "stdout of " + name)
                    : null;
            daemon("deadline of " + name, this::watch);
        }

        private void watch() {
            try {
                if (!process.waitFor(request.timeout().toNanos(), TimeUnit.NANOSECONDS)) {
                    timedOut = true;
                    killTree();
                }
            } catch (InterruptedException e) {
                // only this watchdog was stopped; nothing else uses the thread
            }
        }

        @Override
        public InputStream stdout() {
            return process.getInputStream();
        }

        @Override
        public ProcessResult finish() {
            try {
                long deadline = started + request.timeout().toNanos();
                // The watchdog kills the tree at the deadline; a process stuck in the kernel (state D) survives even
                // SIGKILL, so this wait is bounded too, and such a process is left behind and reported as timed out.
                if (!process.waitFor(
                        Math.max(0, deadline - System.nanoTime()) + GRACE.toNanos(), TimeUnit.NANOSECONDS)) {
                    timedOut = true;
                    killTree();
                }
                long now = System.nanoTime();
                long until = (timedOut ? now : Math.max(deadline, now)) + GRACE.toNanos();
                boolean drained = err.await(until) && (out == null || out.await(until));
                if (!drained && !timedOut) {
                    // The child is gone but something it started still holds its output open past the deadline.
                    timedOut = true;
                }
            } catch (InterruptedException e) {
                killTree();
                Thread.currentThread().interrupt();
                return ProcessResult.interrupted(request.argv(), text(out), err.text(), elapsed());
            }
            if (timedOut) {
                return ProcessResult.timedOut(request.argv(), text(out), err.text(), request.timeout());
            }
            return ProcessResult.exited(request.argv(), process.exitValue(), text(out), err.text(), elapsed());
        }

        @Override
        public void kill() {
            killTree();
            try {
                process.waitFor(GRACE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void killTree() {
            // Listed before the child dies: afterwards its children are init's and no longer found from it.
            List<ProcessHandle> tree = process.descendants().toList();
            process.destroyForcibly();
            tree.forEach(ProcessHandle::destroyForcibly);
        }

        private Duration elapsed() {
            return Duration.ofNanos(System.nanoTime() - started);
        }

        private static String text(Drain d) {
            return d == null ? "" : d.text();
        }
    }

    private static void feed(OutputStream stdin, byte[] data) {
        try (stdin) {
            stdin.write(data);
        } catch (IOException e) {
            // the child exited or closed its input without reading all of it; its exit code tells the rest
        }
    }

    /**
     * Reads a stream to its end on its own thread, keeping its head (stdout) or its tail (stderr) up to a cap and
     * dropping the rest, so the writer never blocks on a full pipe.
     */
    private static final class Drain {
        private final int cap;
        private final boolean head;
        private final Thread thread;
        private byte[] kept = new byte[0];
        private int length;

        Drain(InputStream in, int cap, boolean head, String name) {
            this.cap = cap;
            this.head = head;
            this.thread = daemon(name, () -> pump(in));
        }

        private void pump(InputStream in) {
            byte[] buf = new byte[64 << 10];
            try (in) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    keep(buf, n);
                }
            } catch (IOException e) {
                // the stream was closed under us (a killed tree); what was read is what there is
            }
        }

        private synchronized void keep(byte[] buf, int n) {
            if (head) {
                int take = Math.min(n, cap - length);
                if (take > 0) {
                    grow(length + take);
                    System.arraycopy(buf, 0, kept, length, take);
                    length += take;
                }
                return;
            }
            if (n >= cap) {
                kept = Arrays.copyOfRange(buf, n - cap, n);
                length = cap;
                return;
            }
            int drop = Math.max(0, length + n - cap);
            if (drop > 0) {
                System.arraycopy(kept, drop, kept, 0, length - drop);
                length -= drop;
            }
            grow(length + n);
            System.arraycopy(buf, 0, kept, length, n);
            length += n;
        }

        private void grow(int size) {
            if (kept.length < size) {
                kept = Arrays.copyOf(kept, Math.max(size, Math.min(cap, Math.max(1024, kept.length * 2))));
            }
        }

        /** Whether the stream reached its end before {@code deadline} ({@link System#nanoTime()}). */
        boolean await(long deadline) throws InterruptedException {
            long left = deadline - System.nanoTime();
            if (left > 0) {
                TimeUnit.NANOSECONDS.timedJoin(thread, left);
            }
            return !thread.isAlive();
        }

        synchronized String text() {
            return new String(kept, 0, length, StandardCharsets.UTF_8);
        }
    }

    private static Thread daemon(String name, Runnable r) {
        Thread t = new Thread(r, "corezfs " + name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Override
    public String toString() {
        return "local";
    }
}
