package io.corezfs.provisioner;

import java.time.Duration;
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
        try (AutoCloseable watch = cluster.watch(this::changed)) {
            while (!stopped && !Thread.currentThread().isInterrupted()) {
                poke.drainPermits();
                try {
                    provisioner.resync();
                } catch (RuntimeException e) {
                    // Listing failed (API server away): the next pass tries again.
                    LOG.warn("pass failed: {}", e.getMessage());
                }
                if (poke.tryAcquire(resync.toMillis(), TimeUnit.MILLISECONDS)) {
                    // Let a burst of events (a claim and its PV) settle into one pass.
                    Thread.sleep(200);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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
