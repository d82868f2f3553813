package io.corezfs.install;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.testing.Cli;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.TarBuilder;
import io.corezfs.testing.TreeSnapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Two runs on one root: the second waits for the first (a bounded time), then says who holds the root and changes
 * nothing; the first is never disturbed. Here the first run is held inside its transaction by its file operations,
 * so nothing depends on timing.
 */
class ConcurrentRunsTest {
    @TempDir
    Path tmp;

    Path root;
    Path archive;
    final CountDownLatch firstIsMoving = new CountDownLatch(1);
    final CountDownLatch letFirstGo = new CountDownLatch(1);
    final ExecutorService pool = Executors.newSingleThreadExecutor();

    @BeforeEach
    void rootAndArchive() {
        root = HostRoots.flatcar(tmp.resolve("root")).root();
        archive = TarBuilder.typicalTree().writeTo(tmp.resolve("a.tar.gz"));
    }

    @AfterEach
    void stop() {
        letFirstGo.countDown();
        pool.shutdownNow();
    }

    /** The first run, stopped at its first rename into place until the test lets it go on. */
    private Future<Cli.Run> firstRunHeldInItsTransaction() throws InterruptedException {
        Cli held = new Cli(tmp).fileOps((from, to) -> {
            firstIsMoving.countDown();
            try {
                letFirstGo.await();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            FileOps.DEFAULT.move(from, to);
        });
        Future<Cli.Run> first =
                pool.submit(() -> held.run("install", "--archive", archive.toString(), "--root", root.toString()));
        assertTrue(firstIsMoving.await(60, TimeUnit.SECONDS), "the first run reached its transaction");
        return first;
    }

    @ParameterizedTest(name = "a second {0} waits, then gives up naming the holder")
    @ValueSource(strings = {"install", "uninstall"})
    void aSecondRunWaitsThenNamesTheHolder(String second) throws Exception {
        Future<Cli.Run> first = firstRunHeldInItsTransaction();
        Map<String, String> during = TreeSnapshot.of(root);
        Cli.Run r = second.equals("install")
                ? new Cli(tmp)
                        .env("COREZFS_LOCK_WAIT", "1")
                        .run("install", "--archive", archive.toString(), "--root", root.toString())
                : new Cli(tmp).env("COREZFS_LOCK_WAIT", "1").run("uninstall", "--root", root.toString());
        assertEquals(3, r.exitCode(), r::toString);
        assertEquals(1, r.err().strip().lines().count(), r::toString);
        assertTrue(
                r.err().contains("pid " + ProcessHandle.current().pid())
                        && r.err().contains("install"),
                () -> "says who holds the root: " + r);
        assertEquals(during, TreeSnapshot.of(root), "the second run changed nothing, not even the first run's staging");

        letFirstGo.countDown();
        Cli.Run done = first.get(60, TimeUnit.SECONDS);
        assertEquals(0, done.exitCode(), done::toString);
        assertEquals("zfs\n", Files.readString(root.resolve("etc/modules-load.d/zfs.conf")));
    }

    @Test
    void theLockLeavesNoTraceAndTheNextRunGetsIt() throws IOException {
        Map<String, String> before = TreeSnapshot.of(root);
        assertEquals(
                0,
                new Cli(tmp)
                        .run("install", "--archive", archive.toString(), "--root", root.toString())
                        .exitCode());
        assertFalse(Files.exists(InstallLock.pathFor(root)));
        Cli.Run u = new Cli(tmp).env("COREZFS_LOCK_WAIT", "0").run("uninstall", "--root", root.toString());
        assertEquals(0, u.exitCode(), u::toString);
        assertEquals(before, TreeSnapshot.of(root));
    }

    @Test
    void aLockLeftByAKilledRunDoesNotBlock() throws IOException {
        // A killed holder's file stays, but the kernel dropped its lock with the process.
        Files.writeString(InstallLock.pathFor(root), "pid 1: corezfs install, since yesterday\n");
        Cli.Run r = new Cli(tmp)
                .env("COREZFS_LOCK_WAIT", "0")
                .run("install", "--archive", archive.toString(), "--root", root.toString());
        assertEquals(0, r.exitCode(), r::toString);
    }
}
