package io.corezfs.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.JsonMapping;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A run's state file: per host, the last action, the archive (by sha256) and how it ended. {@code --resume} skips
 * the hosts it records as done with the same action and archive. Written after every host, by rename, so a run cut
 * at any point leaves a file that says exactly what finished.
 */
public final class FleetState {
    public record Entry(String action, String sha256, String archive, String result) {}

    private final Map<String, Entry> hosts;

    private FleetState(Map<String, Entry> hosts) {
        this.hosts = hosts;
    }

    public static FleetState empty() {
        return new FleetState(new LinkedHashMap<>());
    }

    /** A state file larger than this is not one fleet wrote (a record is a few hundred bytes). */
    static final long MAX_BYTES = 64L << 20;

    /**
     * The file's state; a missing file is an empty state. A malformed one, or anything but a regular file of at most
     * {@link #MAX_BYTES} (a FIFO would block the run), is exit 2.
     */
    public static FleetState read(Path file) {
        return read(file, "remove it, or run without --resume");
    }

    private static FleetState read(Path file, String remedy) {
        if (!Files.exists(file)) {
            return empty();
        }
        try {
            java.nio.file.attribute.BasicFileAttributes a =
                    Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
            if (!a.isRegularFile()) {
                throw bad(file, "not a regular file", remedy);
            }
            if (a.size() > MAX_BYTES) {
                throw bad(file, "larger than " + (MAX_BYTES >> 20) + " MiB", remedy);
            }
            JsonNode n = JsonMapping.newStrictReader().readTree(Files.readString(file));
            Map<String, Entry> out = new LinkedHashMap<>();
            JsonNode hs = n == null ? null : n.get("hosts");
            if (n == null || n.path("format").asInt() != 1 || hs == null || !hs.isObject()) {
                throw bad(file, "no format 1 and hosts object", remedy);
            }
            Iterator<Map.Entry<String, JsonNode>> it = hs.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode h = e.getValue();
                for (String k : new String[] {"action", "sha256", "archive", "result"}) {
                    if (!h.path(k).isTextual()) {
                        throw bad(file, io.corezfs.Text.printable(e.getKey(), 80) + " has no " + k, remedy);
                    }
                }
                out.put(
                        e.getKey(),
                        new Entry(
                                h.get("action").asText(),
                                h.get("sha256").asText(),
                                h.get("archive").asText(),
                                h.get("result").asText()));
            }
            return new FleetState(out);
        } catch (IOException e) {
            throw bad(file, String.valueOf(e.getMessage()).lines().findFirst().orElse(""), remedy);
        }
    }

    private static CorezfsException bad(Path file, String why, String remedy) {
        return new CorezfsException(
                ExitCode.USAGE, "--state: " + file + " is not a fleet state file (" + why + "); " + remedy);
    }

    /** Whether {@code host} finished {@code action} with the archive of this sha256 ("" for actions without one). */
    public boolean doneWith(String host, String action, String sha256) {
        Entry e = hosts.get(host);
        return e != null
                && e.result().equals("ok")
                && e.action().equals(action)
                && e.sha256().equals(sha256);
    }

    public Map<String, Entry> hosts() {
        return Map.copyOf(hosts);
    }

    /**
     * Records outcomes as hosts finish, from any thread. Opening it writes the file once and takes a lock beside it,
     * so a state file that cannot be written, or that another run is writing, stops the run before any node is
     * touched. Each write goes to a new temporary file (never through a link planted under its name), is synced,
     * then renamed over the state file.
     */
    public static final class Writer implements AutoCloseable {
        private final Path file;
        private final Map<String, Entry> hosts;
        private final java.nio.channels.FileChannel lockFile;
        private String broken;

        private Writer(Path file, FleetState start, java.nio.channels.FileChannel lockFile) {
            this.file = file;
            this.hosts = new LinkedHashMap<>(start.hosts);
            this.lockFile = lockFile;
        }

        /**
         * Locks and writes {@code file} with {@code start}'s hosts; exit 2 if the file is there but is not an empty
         * file or one fleet wrote, exit 3 if it cannot be written or another run holds it.
         */
        public static Writer open(Path file, FleetState start) {
            // A run replaces the file, so it must be one fleet wrote (or empty): a mistyped --state is refused, not
            // overwritten, and nothing (not even the lock) is made beside it.
            if (!isEmptyRegularFile(file)) {
                read(file, "it is left alone: remove it, or give this run another --state");
            }
            Path lock = file.resolveSibling("." + file.getFileName() + ".lock");
            java.nio.channels.FileChannel ch = null;
            try {
                if (file.getParent() != null) {
                    Files.createDirectories(file.getParent());
                }
                ch = java.nio.channels.FileChannel.open(
                        lock,
                        java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.WRITE,
                        java.nio.file.LinkOption.NOFOLLOW_LINKS);
                java.nio.channels.FileLock held;
                try {
                    held = ch.tryLock();
                } catch (java.nio.channels.OverlappingFileLockException e) {
                    held = null;
                }
                if (held == null) {
                    throw new CorezfsException(
                            ExitCode.PRECONDITION,
                            "the state file " + file + " is in use by another fleet run (" + lock
                                    + " is locked); wait for it, or give this run its own --state");
                }
                Writer w = new Writer(file, start, ch);
                w.write();
                return w;
            } catch (IOException e) {
                close(ch);
                throw cannotWrite(file, e);
            } catch (RuntimeException e) {
                close(ch);
                throw e;
            }
        }

        private static boolean isEmptyRegularFile(Path file) {
            try {
                java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(
                        file,
                        java.nio.file.attribute.BasicFileAttributes.class,
                        java.nio.file.LinkOption.NOFOLLOW_LINKS);
                return a.isRegularFile() && a.size() == 0;
            } catch (IOException e) {
                return false;
            }
        }

        /**
         * Keeps {@code host}'s outcome. A write that fails here (a full disk, say) is not thrown into the host's
         * action, whose result stands: it is kept, and {@link #broken} tells the run to start no new host.
         */
        public synchronized void record(String host, String action, String sha256, String archive, String result) {
            hosts.put(host, new Entry(action, sha256, archive, result));
            if (broken != null) {
                return;
            }
            try {
                write();
            } catch (IOException e) {
                broken = cannotWrite(file, e).getMessage();
            }
        }

        /** Why the state file could not be written after the run began, if it could not. */
        public synchronized java.util.Optional<String> broken() {
            return java.util.Optional.ofNullable(broken);
        }

        private void write() throws IOException {
            ObjectMapper m = JsonMapping.newMapper();
            ObjectNode root = m.createObjectNode();
            root.put("format", 1);
            ObjectNode hs = root.putObject("hosts");
            hosts.forEach((name, e) -> {
                ObjectNode h = hs.putObject(name);
                h.put("action", e.action());
                h.put("sha256", e.sha256());
                h.put("archive", e.archive());
                h.put("result", e.result());
            });
            byte[] bytes = (m.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
            Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            try (java.nio.channels.FileChannel out = java.nio.channels.FileChannel.open(
                    tmp, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    out.write(buf);
                }
                out.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }

        private static CorezfsException cannotWrite(Path file, IOException e) {
            return new CorezfsException(
                    ExitCode.PRECONDITION,
                    "cannot write the state file " + file + ": " + e.getClass().getSimpleName()
                            + (e.getMessage() == null ? "" : " " + e.getMessage()));
        }

        private static void close(java.nio.channels.FileChannel ch) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // the lock goes with the channel
                }
            }
        }

        /** Releases the lock; the file stays. */
        @Override
        public void close() {
            close(lockFile);
        }
    }
}
