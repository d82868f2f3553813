package io.corezfs.update;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.Reporter;
import io.corezfs.activation.LiveInstaller;
import io.corezfs.archive.ArchiveLimits;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.archive.store.NodeStore;
import io.corezfs.host.HostDetector;
import io.corezfs.host.HostFacts;
import io.corezfs.host.NodeConfig;
import io.corezfs.host.RootFs;
import io.corezfs.install.FileOps;
import io.corezfs.install.RootInstaller;
import io.corezfs.testing.Cli;
import io.corezfs.testing.FakeLiveSystem;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.TarBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The wait for the mirrors at boot is one budget for all tries together, on a clock the test owns: no sleeping. */
class BoundedWaitTest {
    @TempDir
    Path tmp;

    /** A clock that moves only when waited on, or when a try takes time. */
    static final class FakeTime implements BootReconciler.Waiting {
        long now;
        final List<Duration> pauses = new ArrayList<>();

        @Override
        public long nanoTime() {
            return now;
        }

        @Override
        public void pause(Duration d) {
            pauses.add(d);
            now += d.toNanos();
        }
    }

    @Test
    void everyTryAndEveryPauseFitInOneBudgetAndTheLastTryIsNotLongerThanWhatIsLeft() throws IOException {
        Path root = HostRoots.flatcar(tmp.resolve("root")).root();
        FakeLiveSystem host = new FakeLiveSystem(root, "2.1.11");
        Path work = Files.createDirectories(tmp.resolve("work"));
        TarBuilder.typicalTree().writeTo(work.resolve("corezfs_amd64-usr_3975.2.0_stable_zfs-2.1.11.tar.gz"));
        assertEquals(
                0,
                new Cli(work)
                        .live(root, host)
                        .run("install", "--mode", "overlay")
                        .exitCode());
        HostRoots.at(root).kernel("6.12.95+deb12-cloud-amd64");

        FakeTime time = new FakeTime();
        List<Duration> allowed = new ArrayList<>();
        long budget = Duration.ofSeconds(7).toNanos();
        BootReconciler.MirrorFetch unreachable = (url, target, max, within) -> {
            allowed.add(within);
            // A refused connection answers in a second; one that hangs takes all it is allowed, so a try that was
            // allowed more than what is left would overrun the budget.
            time.now += within.compareTo(Duration.ofSeconds(3)) < 0
                    ? within.toNanos()
                    : Duration.ofSeconds(1).toNanos();
            throw CorezfsException.precondition("connect to " + url + ": connection refused");
        };
        RootInstaller files = new RootInstaller(
                new ArchiveReader(ArchiveLimits.DEFAULT), FileOps.DEFAULT, Reporter.SILENT, Clock.systemUTC(), "t");
        LiveInstaller live = new LiveInstaller(
                root, host, files, new ArchiveReader(ArchiveLimits.DEFAULT), Reporter.SILENT, Optional.empty());
        BootReconciler boot = new BootReconciler(
                root,
                host,
                live,
                new ArchiveReader(ArchiveLimits.DEFAULT),
                new NodeStore(root),
                unreachable,
                time,
                Clock.systemUTC(),
                Reporter.SILENT);
        HostFacts facts = new HostDetector(io.corezfs.host.Environment.of(Map.of(), "x86_64", Clock.systemUTC()))
                .detect(new RootFs(root), Optional.empty());
        NodeConfig config = NodeConfig.parse(
                "MIRRORS=\"http://127.0.0.1:9/a/ http://127.0.0.1:9/b/\"\nBOOT_FETCH_TIMEOUT=7\n", "test");

        // Network mirrors are the late unit's: that is where the wait for the network happens.
        BootReconciler.Result r = boot.reconcileLate(facts, config, (h, d) -> {
            throw new AssertionError("BUILD is not boot: no build");
        });

        assertEquals(3, r.exitCode());
        assertEquals("off", r.record().outcome());
        assertEquals(budget, time.now, "spent " + Duration.ofNanos(time.now));
        assertTrue(allowed.size() >= 3, "asked again while the budget lasted: " + allowed);
        assertTrue(
                time.pauses.stream().allMatch(p -> p.compareTo(BootReconciler.RETRY_PAUSE) <= 0),
                time.pauses::toString);
    }
}
