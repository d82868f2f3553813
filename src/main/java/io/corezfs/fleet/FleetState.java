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

    /** The file's state; a missing file is an empty state, a malformed one exit 2. */
    public static FleetState read(Path file) {
        if (!Files.exists(file)) {
            return empty();
        }
        try {
            JsonNode n = JsonMapping.newStrictReader().readTree(Files.readString(file));
            Map<String, Entry> out = new LinkedHashMap<>();
            JsonNode hs = n == null ? null : n.get("hosts");
            if (n == null || n.path("format").asInt() != 1 || hs == null || !hs.isObject()) {
                throw bad(file, "no format 1 and hosts object");
            }
            Iterator<Map.Entry<String, JsonNode>> it = hs.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode h = e.getValue();
                for (String k : new String[] {"action", "sha256", "archive", "result"}) {
                    if (!h.path(k).isTextual()) {
                        throw bad(file, e.getKey() + " has no " + k);
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
            throw bad(file, e.getMessage().lines().findFirst().orElse(""));
        }
    }

    private static CorezfsException bad(Path file, String why) {
        return new CorezfsException(
                ExitCode.USAGE,
                "--resume: " + file + " is not a fleet state file (" + why + "); remove it, or run without --resume");
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

    /** Records outcomes as hosts finish, from any thread. */
    public static final class Writer {
        private final Path file;
        private final Map<String, Entry> hosts;

        public Writer(Path file, FleetState start) {
            this.file = file;
            this.hosts = new LinkedHashMap<>(start.hosts);
        }

        public synchronized void record(String host, String action, String sha256, String archive, String result) {
            hosts.put(host, new Entry(action, sha256, archive, result));
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
            Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
            try {
                if (file.getParent() != null) {
                    Files.createDirectories(file.getParent());
                }
                Files.writeString(tmp, m.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new CorezfsException(
                        ExitCode.PRECONDITION, "cannot write the state file " + file + ": " + e.getMessage());
            }
        }
    }
}
