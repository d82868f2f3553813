package io.corezfs.update;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.JsonMapping;
import io.corezfs.Text;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What {@code corezfs boot} did at this boot, for {@code corezfs status}: above all why ZFS was left off and the
 * one command that fixes it. It lives in {@code /run}, so a record can only ever describe the current boot.
 *
 * <p>Read back as untrusted input: anyone able to write it could otherwise put any text in front of the operator
 * (terminal escapes included), so every field is checked and the file is refused as a whole when one is wrong.
 *
 * @param outcome   one of {@link Outcome}, lower case
 * @param detail    one line: what was found or done, and why
 * @param command   the command to run to get ZFS back; empty when nothing needs doing
 * @param kernel    the kernel release the boot ran
 * @param osVersion the OS version the boot ran
 * @param at        when, ISO-8601
 */
@JsonPropertyOrder({"outcome", "detail", "command", "kernel", "osVersion", "at"})
public record BootRecord(String outcome, String detail, String command, String kernel, String osVersion, String at) {
    /** Relative to the host root. */
    public static final String FILE = "run/corezfs/boot.json";

    static final long MAX_BYTES = 64 << 10;
    private static final int MAX_FIELD = 4096;
    private static final Pattern PLAIN = Pattern.compile("[\\x20-\\x7e]*");

    /** How a boot ended. */
    public enum Outcome {
        /** The installed archive already matched the running kernel and OS version. */
        MATCHED,
        /** A matching archive from the node store was applied. */
        APPLIED,
        /** A matching archive was fetched from a mirror, added to the store and applied. */
        FETCHED,
        /**
         * No archive for this OS version, but the installed one was built for this very kernel and overlay mode does
         * not bind it to an OS version: it stays and loads as before.
         */
        KEPT,
        /** Nothing matched; a build runs in its own unit and pools import when it ends. */
        BUILDING,
        /**
         * Nothing local matched; the network mirrors are asked in the late unit once the network is up, and pools import
         * when an archive from them is applied.
         */
        WAITING,
        /** Nothing matched: ZFS stays off for this boot. */
        OFF,
        /** An archive that matched was refused (it failed verification); ZFS stays off, nothing was changed. */
        REFUSED,
        /** corezfs was not installed here: nothing to reconcile. */
        NOT_INSTALLED,
        /**
         * A provisioned node's first boot: corezfs is not installed yet, but the node store holds an archive for it or
         * the node names mirrors (or BUILD=boot); the late unit installs and activates it.
         */
        INSTALLING;

        public String text() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }

        static Optional<Outcome> parse(String s) {
            for (Outcome o : values()) {
                if (o.text().equals(s)) {
                    return Optional.of(o);
                }
            }
            return Optional.empty();
        }
    }

    private static final ObjectMapper WRITER = JsonMapping.newMapper();
    private static final ObjectMapper READER =
            JsonMapping.newStrictReader().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public Outcome kind() {
        return Outcome.parse(outcome).orElseThrow();
    }

    /** ZFS is not running for this boot because of what the record says. */
    public boolean zfsOff() {
        Outcome o = kind();
        return o == Outcome.OFF
                || o == Outcome.REFUSED
                || o == Outcome.BUILDING
                || o == Outcome.WAITING
                || o == Outcome.INSTALLING;
    }

    /** Written next to its final name and renamed over it, so a reader sees the old record or the new one. */
    public void write(Path root) {
        Path file = root.resolve(FILE);
        Path tmp = file.resolveSibling(".boot.json.tmp");
        try {
            Files.createDirectories(file.getParent());
            Files.write(tmp, WRITER.writeValueAsBytes(this));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new CorezfsException(ExitCode.UNEXPECTED, "cannot record the boot's outcome in " + file + ": " + e);
        }
    }

    /** The record of this boot, if {@code corezfs boot} ran; refused (exit 4) when it is not one it could write. */
    public static Optional<BootRecord> read(Path root) {
        Path file = root.resolve(FILE);
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw bad(file, "not a regular file");
        }
        BootRecord r;
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw bad(file, "larger than " + (MAX_BYTES >> 10) + " KiB");
            }
            r = READER.readValue(Files.readAllBytes(file), BootRecord.class);
        } catch (JsonProcessingException e) {
            throw bad(file, "not valid JSON of the right shape");
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot read " + file + ": " + e.getMessage());
        }
        if (r == null) {
            throw bad(file, "empty");
        }
        if (r.outcome == null || Outcome.parse(r.outcome).isEmpty()) {
            throw bad(file, "unknown outcome '" + Text.printable(String.valueOf(r.outcome), 40) + "'");
        }
        for (String[] f : new String[][] {
            {"detail", r.detail}, {"command", r.command}, {"kernel", r.kernel}, {"osVersion", r.osVersion}, {"at", r.at}
        }) {
            if (f[1] == null
                    || f[1].length() > MAX_FIELD
                    || !PLAIN.matcher(f[1]).matches()) {
                throw bad(file, f[0] + " is missing, too long or not plain printable text");
            }
        }
        return Optional.of(r);
    }

    private static CorezfsException bad(Path file, String why) {
        return new CorezfsException(
                ExitCode.ARCHIVE_INVALID,
                file + ": invalid boot record, refusing to show it: " + why
                        + " (corezfs boot writes it; remove it, or run `corezfs boot` again to rewrite it)");
    }
}
