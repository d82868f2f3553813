package io.corezfs.install;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;

/**
 * One corezfs run at a time per target root. Without it, one run's crash recovery deletes the staging directories
 * of another run still in progress. The lock is a {@link FileLock} on a file, so a killed holder never leaves it
 * stuck; the file names its holder for the message a waiting run gives up with.
 *
 * <p>The file is removed on release, so an install leaves no trace of it: the holder deletes it, then marks the
 * unlinked file released through its own channel, then unlocks. A waiter that was blocked on that deleted file sees the
 * mark once it gets the lock, and tries again on whatever the path names now. Reopening the file by path while
 * locked is avoided on purpose: closing any descriptor of a file drops the process's POSIX locks on it.
 */
public final class InstallLock implements AutoCloseable {
    /** How long a second run waits for the first by default; {@code COREZFS_LOCK_WAIT} (seconds) overrides it. */
    public static final Duration DEFAULT_WAIT = Duration.ofSeconds(60);

    private static final String RELEASED = "released\n";
    private static final long POLL_MILLIS = 100;

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private InstallLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Where runs on {@code root} meet: {@code run/corezfs.lock} under it, as on a live host, or beside its top
     * directories when it has no {@code run} of its own (an image root). Both are inside the root.
     */
    public static Path pathFor(Path root) {
        Path run = root.resolve("run");
        return Files.isDirectory(run, LinkOption.NOFOLLOW_LINKS)
                ? run.resolve("corezfs.lock")
                : root.resolve(".corezfs.lock");
    }

    /**
     * Takes the lock on {@code root}, waiting up to {@code wait} for another run to finish.
     *
     * @param command what this run is, recorded for the message another run gives when it gives up
     */
    public static InstallLock acquire(Path root, String command, Duration wait) {
        if (!Files.isDirectory(root)) {
            throw CorezfsException.precondition(root + ": no such directory");
        }
        Path file = pathFor(root);
        long deadline = System.nanoTime() + wait.toNanos();
        String holder = "pid " + ProcessHandle.current().pid() + ": " + command + ", since " + Instant.now() + "\n";
        while (true) {
            try {
                FileChannel ch = FileChannel.open(
                        file,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.READ,
                        StandardOpenOption.WRITE,
                        LinkOption.NOFOLLOW_LINKS);
                FileLock lock = null;
                try {
                    lock = ch.tryLock();
                } catch (OverlappingFileLockException e) {
                    // Held by another thread of this JVM: the same as another process for us.
                }
                if (lock != null) {
                    if (!released(ch)) {
                        ch.truncate(0);
                        ch.write(ByteBuffer.wrap(holder.getBytes(StandardCharsets.UTF_8)), 0);
                        return new InstallLock(file, ch, lock);
                    }
                    lock.release();
                    ch.close();
                    continue;
                }
                ch.close();
            } catch (IOException e) {
                throw CorezfsException.precondition("cannot take the lock " + file + ": " + e.getMessage());
            }
            if (System.nanoTime() - deadline >= 0) {
                throw CorezfsException.precondition("another corezfs run is working on " + root + " ("
                        + describeHolder(file) + "); gave up after " + wait.toSeconds() + " s (COREZFS_LOCK_WAIT)."
                        + " Nothing was changed; run again when it has finished");
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw CorezfsException.precondition("interrupted while waiting for the lock " + file);
            }
        }
    }

    /** The wait configured in the environment, in seconds; malformed values are a usage error. */
    public static Duration waitFrom(java.util.Optional<String> seconds) {
        if (seconds.isEmpty()) {
            return DEFAULT_WAIT;
        }
        try {
            long s = Long.parseLong(seconds.get().strip());
            if (s < 0) {
                throw new NumberFormatException();
            }
            return Duration.ofSeconds(s);
        } catch (NumberFormatException e) {
            throw new CorezfsException(
                    ExitCode.USAGE, "COREZFS_LOCK_WAIT must be a number of seconds, not '" + seconds.get() + "'");
        }
    }

    private static boolean released(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(RELEASED.length());
        ch.read(b, 0);
        return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).equals(RELEASED);
    }

    private static String describeHolder(Path file) {
        try {
            byte[] b;
            // Only the start is shown; the lock file is writable by whoever can write the root.
            try (java.io.InputStream in = Files.newInputStream(file)) {
                b = in.readNBytes(500);
            }
            String s = new String(b, 0, Math.min(b.length, 500), StandardCharsets.UTF_8).strip();
            return s.isEmpty() || s.equals(RELEASED.strip())
                    ? "holder unknown"
                    : "held by " + s.replaceAll("[\\p{Cntrl}]", "?");
        } catch (IOException e) {
            return "holder unknown";
        }
    }

    @Override
    public void close() {
        try {
            // Marked only once unlinked: a mark on a file the path still names would turn every later run away.
            Files.deleteIfExists(file);
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(RELEASED.getBytes(StandardCharsets.UTF_8)), 0);
        } catch (IOException e) {
            // The lock itself still goes with the channel; a file left behind is an ordinary lock file for the next.
        } finally {
            try {
                lock.release();
                channel.close();
            } catch (IOException e) {
                // closing drops the lock regardless
            }
        }
    }
}
