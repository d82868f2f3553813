package io.corezfs.update;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Text;
import io.corezfs.host.KeyValueFile;
import io.corezfs.system.LiveSystem;
import io.corezfs.system.ProcessRequest;
import io.corezfs.system.ProcessResult;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What Flatcar's update_engine says about a pending update, from {@code update_engine_client -status}. Its output is
 * read as untrusted input: only {@code KEY=value} lines, each key once, and a version of the shape release versions
 * have; anything else is refused with one line rather than guessed at.
 */
public final class UpdateEngine {
    public static final List<String> STATUS_COMMAND = List.of("update_engine_client", "-status");
    /** The state update_engine is in once the new /usr is written and only the reboot is missing. */
    public static final String NEED_REBOOT = "UPDATE_STATUS_UPDATED_NEED_REBOOT";

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int MAX_OUTPUT = 64 << 10;
    /** Release versions as Flatcar and the archive names spell them: no path separators, no spaces. */
    public static final Pattern VERSION = Pattern.compile("[0-9A-Za-z][0-9A-Za-z.+~_-]{0,63}");

    /**
     * @param currentOp  CURRENT_OP as reported, or {@code <missing>}
     * @param newVersion the version waiting for the reboot, present only when {@link #pending()}
     */
    public record Status(String currentOp, Optional<String> newVersion) {
        public boolean pending() {
            return newVersion.isPresent();
        }
    }

    private final LiveSystem system;

    public UpdateEngine(LiveSystem system) {
        this.system = system;
    }

    /** Asks update_engine; a missing client, a failure or garbled output is exit 3 with one line. */
    public Status status() {
        ProcessResult r = system.runSeparately(
                ProcessRequest.of(STATUS_COMMAND).timeout(TIMEOUT).caps(MAX_OUTPUT, 8 << 10));
        if (r.outcome() == ProcessResult.Outcome.NOT_STARTED) {
            throw CorezfsException.precondition("cannot ask update_engine whether an update is pending:"
                    + " update_engine_client is not on PATH (" + Text.printable(r.stderrLastLine(), 200)
                    + "); on a node without update_engine, name the version: corezfs prepare --os-version V");
        }
        if (!r.ok()) {
            throw CorezfsException.precondition(
                    "cannot ask update_engine whether an update is pending: " + r.describe());
        }
        return parse(r.stdout());
    }

    /** Reads the client's stdout. */
    public static Status parse(String stdout) {
        String where = "update_engine_client -status output";
        List<KeyValueFile.Entry> entries;
        try {
            entries = KeyValueFile.entries(stdout, where);
        } catch (CorezfsException e) {
            throw CorezfsException.precondition(e.getMessage() + "; nothing was prepared");
        }
        Map<String, String> values = new HashMap<>();
        for (KeyValueFile.Entry e : entries) {
            if (values.putIfAbsent(e.key(), e.value()) != null) {
                throw CorezfsException.precondition(
                        where + ":" + e.line() + ": " + e.key() + " is reported twice; nothing was prepared");
            }
        }
        String op = values.getOrDefault("CURRENT_OP", "<missing>");
        if (!op.equals(NEED_REBOOT)) {
            return new Status(Text.printable(op, 80), Optional.empty());
        }
        String v = values.get("NEW_VERSION");
        if (v == null || !VERSION.matcher(v).matches()) {
            throw new CorezfsException(
                    ExitCode.PRECONDITION,
                    where + ": CURRENT_OP=" + NEED_REBOOT + " but NEW_VERSION "
                            + (v == null ? "is missing" : "'" + Text.printable(v, 80) + "' is not a release version")
                            + "; nothing was prepared");
        }
        return new Status(op, Optional.of(v));
    }
}
