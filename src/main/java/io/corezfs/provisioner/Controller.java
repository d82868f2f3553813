package io.corezfs.provisioner;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the provisioner's passes: one at the start, one after any change the cluster reports (changes arriving during a
 * pass make one more pass, not one each), and one every {@code resync} in any case, so a lost watch event costs at
 * most that long. Stops when {@link #stop} is called or its thread is interrupted.
 */
public final class Controller {
    private static final Logger LOG = LoggerFactory.getLogger(Controller.class);

    private final Cluster cluster;
    private final Provisioner provisioner;
    private final Duration resync;
    private final Semaphore poke = new Semaphore(0);
    private volatile boolean stopped;

    public Controller(Cluster cluster, Provisioner provisioner, Duration resync) {
        this.cluster = cluster;
        this.provisioner = provisioner;
        this.resync = resync;
    }

    public void run() {
        // The watch is opened beside the passes: against an API server that is away, opening it waits on the
        // client's retries, and the passes must go on (and fail, and say so) meanwhile.
        CompletableFuture<AutoCloseable> watch = new CompletableFuture<>();
        Thread opener = new Thread(
                () -> {
                    try {
                        watch.complete(cluster.watch(this::changed));
                    } catch (RuntimeException e) {
                        LOG.warn("no watch (passes every {}s only): {}", resync.toSeconds(), e.getMessage());
                        watch.completeExceptionally(e);
                    }
                },
                "corezfs-provisioner-watch");
        opener.setDaemon(true);
        opener.start();
        try {
            while (!stopped && !Thread.currentThread().isInterrupted()) {
                poke.drainPermits();
                try {
                    provisioner.resync();
                } catch (RuntimeException e) {
                    // Listing failed (API server away): the next pass tries again.
                    LOG.warn("pass failed: {}", causes(e));
                }
                if (poke.tryAcquire(resync.toMillis(), TimeUnit.MILLISECONDS)) {
                    // Let a burst of events (a claim and its PV) settle into one pass.
                    Thread.sleep(200);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            opener.interrupt();
            watch.thenAccept(Controller::close);
        }
    }

    /** The message and the causes' messages, on one line: the client's own says only what failed, not why. */
    static String causes(Throwable e) {
        StringBuilder b = new StringBuilder(String.valueOf(e.getMessage()).strip());
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            b.append(": ")
                    .append(
                            c.getMessage() == null
                                    ? c.getClass().getSimpleName()
                                    : c.getMessage().strip());
        }
        return b.toString().replaceAll("\\s+", " ");
    }

    private static void close(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("closing the watch: {}", e.getMessage());
        }
    }

    void changed() {
        poke.release();
    }

    public void stop() {
        stopped = true;
        poke.release();
    }
}
