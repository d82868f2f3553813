package io.corezfs.trust;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Text;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The keys a node trusts, in OpenSSH's {@code allowed_signers} format ({@code ssh-keygen(1)}, "ALLOWED SIGNERS"), so
 * the same file works with {@code ssh-keygen -Y verify -f FILE}:
 *
 * <pre>
 * # principals   [options]                                   keytype      key
 * builds@example  namespaces="corezfs",valid-before="20280101Z" ssh-ed25519 AAAAC3Nz...
 * </pre>
 *
 * <p>Options honoured: {@code namespaces} (a key limited to other namespaces does not sign for corezfs),
 * {@code valid-after} and {@code valid-before} (timestamps {@code YYYYMMDD[HHMM[SS]][Z]}; without {@code Z} in the
 * clock's zone, as ssh-keygen reads them in local time). {@code cert-authority} lines and key types other than
 * ed25519 can never vouch for a corezfs signature and are skipped, so one file can serve git and corezfs. A line
 * that cannot be parsed is an error naming it (exit 3): a trust file read half-way is not a trust file.
 */
public final class AllowedSigners {
    /** The node's trust file. */
    public static final String NODE_FILE = "/etc/corezfs/trusted-keys";

    private static final Pattern OPTION = Pattern.compile("([A-Za-z-]+)(?:=\"([^\"]*)\")?");
    private static final Pattern TIMESTAMP = Pattern.compile("([0-9]{8})(?:([0-9]{4})([0-9]{2})?)?(Z)?");

    /** One trusted key and its limits. */
    public record Entry(
            String principals,
            SshKeys.PublicKey key,
            Optional<List<String>> namespaces,
            Optional<Instant> validAfter,
            Optional<Instant> validBefore,
            int line) {}

    /** The answer for a key at an instant. */
    public sealed interface Verdict {
        /** Listed and currently valid for corezfs. */
        record Trusted(Entry entry) implements Verdict {}

        /** Not in the file, or only for other namespaces or outside its validity; {@code why} says which. */
        record Refused(String why) implements Verdict {}
    }

    private final List<Entry> entries;
    private final String origin;

    private AllowedSigners(List<Entry> entries, String origin) {
        this.entries = List.copyOf(entries);
        this.origin = origin;
    }

    public static AllowedSigners parse(String text, String origin, ZoneId zone) {
        List<Entry> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            try {
                parseLine(line, i + 1, zone).ifPresent(out::add);
            } catch (SshWire.Malformed e) {
                throw new CorezfsException(ExitCode.PRECONDITION, origin + ":" + (i + 1) + ": " + e.getMessage());
            }
        }
        return new AllowedSigners(out, origin);
    }

    public List<Entry> entries() {
        return entries;
    }

    public String origin() {
        return origin;
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    private static Optional<Entry> parseLine(String line, int n, ZoneId zone) throws SshWire.Malformed {
        List<String> f = fields(line);
        if (f.size() < 3) {
            throw new SshWire.Malformed("expected 'principals [options] keytype key'");
        }
        String principals = f.get(0);
        int k = 1;
        String options = "";
        if (!isKeyType(f.get(1))) {
            options = f.get(1);
            k = 2;
        }
        if (f.size() < k + 2 || !isKeyType(f.get(k))) {
            throw new SshWire.Malformed("no key type where one was expected");
        }
        Optional<List<String>> namespaces = Optional.empty();
        Optional<Instant> after = Optional.empty();
        Optional<Instant> before = Optional.empty();
        boolean certAuthority = false;
        for (String opt : splitOptions(options)) {
            Matcher m = OPTION.matcher(opt);
            if (!m.matches()) {
                throw new SshWire.Malformed("bad option '" + Text.printable(opt, 80) + "'");
            }
            String name = m.group(1).toLowerCase(java.util.Locale.ROOT);
            String value = m.group(2);
            switch (name) {
                case "cert-authority" -> certAuthority = true;
                case "namespaces" ->
                    namespaces = Optional.of(List.of(required(name, value).split(",")));
                case "valid-after" -> after = Optional.of(timestamp(required(name, value), zone));
                case "valid-before" -> before = Optional.of(timestamp(required(name, value), zone));
                default -> throw new SshWire.Malformed("unknown option '" + Text.printable(name, 40) + "'");
            }
        }
        if (certAuthority || !f.get(k).equals(SshKeys.ED25519)) {
            return Optional.empty();
        }
        SshKeys.PublicKey key = SshKeys.parsePublic(f.get(k), f.get(k + 1));
        return Optional.of(new Entry(principals, key, namespaces, after, before, n));
    }

    private static String required(String name, String value) throws SshWire.Malformed {
        if (value == null || value.isEmpty()) {
            throw new SshWire.Malformed("option " + name + " needs a quoted value");
        }
        return value;
    }

    private static Instant timestamp(String v, ZoneId zone) throws SshWire.Malformed {
        Matcher m = TIMESTAMP.matcher(v);
        if (!m.matches()) {
            throw new SshWire.Malformed("bad timestamp '" + Text.printable(v, 40) + "' (YYYYMMDD[HHMM[SS]][Z])");
        }
        try {
            LocalDate d = LocalDate.parse(m.group(1), DateTimeFormatter.BASIC_ISO_DATE);
            LocalDateTime t = d.atStartOfDay();
            if (m.group(2) != null) {
                int hh = Integer.parseInt(m.group(2).substring(0, 2));
                int mm = Integer.parseInt(m.group(2).substring(2));
                int ss = m.group(3) == null ? 0 : Integer.parseInt(m.group(3));
                t = d.atTime(hh, mm, ss);
            }
            return t.atZone(m.group(4) != null ? ZoneOffset.UTC : zone).toInstant();
        } catch (java.time.DateTimeException e) {
            throw new SshWire.Malformed("bad timestamp '" + Text.printable(v, 40) + "'");
        }
    }

    private static boolean isKeyType(String s) {
        return s.startsWith("ssh-") || s.startsWith("ecdsa-") || s.startsWith("sk-");
    }

    /** Splits on blanks outside double quotes (an option's value may hold spaces). */
    private static List<String> fields(String line) throws SshWire.Malformed {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (char c : line.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            }
            if (!quoted && (c == ' ' || c == '\t')) {
                if (cur.length() > 0) {
                    out.add(cur.toString());
                    cur.setLength(0);
                }
            } else {
                cur.append(c);
            }
        }
        if (quoted) {
            throw new SshWire.Malformed("unterminated quote");
        }
        if (cur.length() > 0) {
            out.add(cur.toString());
        }
        return out;
    }

    /** Splits options on commas outside double quotes. */
    private static List<String> splitOptions(String options) {
        List<String> out = new ArrayList<>();
        if (options.isEmpty()) {
            return out;
        }
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (char c : options.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            }
            if (!quoted && c == ',') {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }

    /** Whether {@code key} may sign for corezfs at {@code now}. */
    public Verdict judge(SshKeys.PublicKey key, Instant now) {
        String why = "key " + key.fingerprint() + " is not in " + origin;
        for (Entry e : entries) {
            if (!e.key().equals(key)) {
                continue;
            }
            if (e.namespaces().isPresent() && !e.namespaces().get().contains(SshSig.NAMESPACE)) {
                why = "key " + key.fingerprint() + " (" + origin + ":" + e.line() + ") may not sign for namespace "
                        + SshSig.NAMESPACE;
                continue;
            }
            if (e.validBefore().isPresent() && !now.isBefore(e.validBefore().get())) {
                why = "key " + key.fingerprint() + " (" + origin + ":" + e.line() + ") expired at "
                        + e.validBefore().get();
                continue;
            }
            if (e.validAfter().isPresent() && now.isBefore(e.validAfter().get())) {
                why = "key " + key.fingerprint() + " (" + origin + ":" + e.line() + ") is not valid before "
                        + e.validAfter().get();
                continue;
            }
            return new Verdict.Trusted(e);
        }
        return new Verdict.Refused(why);
    }
}
