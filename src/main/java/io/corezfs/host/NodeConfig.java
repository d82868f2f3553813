package io.corezfs.host;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Text;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The node's own corezfs settings, {@code /etc/corezfs/corezfs.conf}: {@code KEY=value} lines as in Flatcar's
 * {@code update.conf}. Every command reads it and a flag wins over it; {@code corezfs status} shows each effective
 * value and where it came from.
 *
 * <p>It is parsed strictly: an unknown or repeated key, or a value out of its range, is an error naming the file and
 * line (exit 2), because a typo here would otherwise silently fall back to a default on a node nobody watches. A
 * missing file means all defaults.
 *
 * <pre>
 * MIRRORS="https://zfs.example.com/corezfs file:///var/mnt/archives"   tried in order
 * MODE=auto                 auto | overlay | sysext
 * BUILD=prepare             never | prepare | boot: when this node may compile an archive itself
 * KEEP=2                    archives kept per OS target in the store (2 = the running one and the previous one)
 * BOOT_FETCH_TIMEOUT=60     seconds corezfs-boot.service waits for the network before giving up on the mirrors
 * SIGNATURES=require        require | if-present | off (unset: require when /etc/corezfs/trusted-keys has a key)
 * </pre>
 */
public final class NodeConfig {
    /** Where the file lives on a node, relative to its root. */
    public static final String PATH = "/etc/corezfs/corezfs.conf";

    /** When a node may compile an archive itself. */
    public enum BuildPolicy {
        /** Never: archives come from the store and the mirrors only. */
        NEVER,
        /** While preparing an OS update ({@code corezfs prepare}), before the reboot; never at boot. */
        PREPARE,
        /** Also at boot, when nothing matches the new kernel: pools import once the build finishes. */
        BOOT;

        public String text() {
            return name().toLowerCase(Locale.ROOT);
        }

        public boolean allowsPrepare() {
            return this != NEVER;
        }
    }

    /**
     * One effective value and where it came from: {@code default}, {@code /etc/corezfs/corezfs.conf:3} or a flag.
     */
    public record Setting<T>(String key, T value, String source) {
        /** This setting, unless {@code flag} was given on the command line, which wins. */
        public Setting<T> or(Optional<T> flag, String flagName) {
            return flag.map(v -> new Setting<>(key, v, flagName)).orElse(this);
        }

        /** The value as the file would spell it. */
        public String display() {
            if (value instanceof List<?> l) {
                return l.stream()
                        .map(String::valueOf)
                        .reduce((a, b) -> a + " " + b)
                        .orElse("");
            }
            if (value instanceof BuildPolicy b) {
                return b.text();
            }
            if (value instanceof Duration d) {
                return Long.toString(d.toSeconds());
            }
            if (value instanceof Optional<?> o) {
                return o.map(String::valueOf).orElse("(require when trusted keys are configured, else if-present)");
            }
            return String.valueOf(value);
        }
    }

    public static final String MIRRORS = "MIRRORS";
    public static final String MODE = "MODE";
    public static final String BUILD = "BUILD";
    public static final String KEEP = "KEEP";
    public static final String BOOT_FETCH_TIMEOUT = "BOOT_FETCH_TIMEOUT";
    public static final String SIGNATURES = "SIGNATURES";

    private static final int MAX_KEEP = 100;
    private static final long MAX_TIMEOUT_SECONDS = 3600;
    private static final int MAX_MIRRORS = 16;

    private final Setting<List<URI>> mirrors;
    private final Setting<String> mode;
    private final Setting<BuildPolicy> build;
    private final Setting<Integer> keep;
    private final Setting<Duration> bootFetchTimeout;
    private final Setting<Optional<String>> signatures;

    private NodeConfig(Map<String, Setting<?>> s) {
        this.mirrors = cast(s.get(MIRRORS));
        this.mode = cast(s.get(MODE));
        this.build = cast(s.get(BUILD));
        this.keep = cast(s.get(KEEP));
        this.bootFetchTimeout = cast(s.get(BOOT_FETCH_TIMEOUT));
        this.signatures = cast(s.get(SIGNATURES));
    }

    @SuppressWarnings("unchecked")
    private static <T> Setting<T> cast(Setting<?> s) {
        return (Setting<T>) s;
    }

    /** Every value at its default, as on a node without the file. */
    public static NodeConfig defaults() {
        return new NodeConfig(defaultSettings());
    }

    private static Map<String, Setting<?>> defaultSettings() {
        Map<String, Setting<?>> d = new LinkedHashMap<>();
        d.put(MIRRORS, new Setting<>(MIRRORS, List.<URI>of(), "default"));
        d.put(MODE, new Setting<>(MODE, "auto", "default"));
        d.put(BUILD, new Setting<>(BUILD, BuildPolicy.PREPARE, "default"));
        d.put(KEEP, new Setting<>(KEEP, 2, "default"));
        d.put(BOOT_FETCH_TIMEOUT, new Setting<>(BOOT_FETCH_TIMEOUT, Duration.ofSeconds(60), "default"));
        // Unset: the trust policy decides from whether any key is trusted (io.corezfs.trust.TrustPolicy).
        d.put(SIGNATURES, new Setting<>(SIGNATURES, Optional.<String>empty(), "default"));
        return d;
    }

    /** The node's file under {@code fs}, or the defaults when it does not exist. */
    public static NodeConfig load(RootFs fs) {
        return fs.readIfExists(PATH).map(t -> parse(t, PATH)).orElseGet(NodeConfig::defaults);
    }

    /** Parses the file's text; {@code origin} names it in messages and in each setting's source. */
    public static NodeConfig parse(String text, String origin) {
        Map<String, Setting<?>> s = defaultSettings();
        Map<String, Integer> seen = new HashMap<>();
        List<KeyValueFile.Entry> entries;
        try {
            entries = KeyValueFile.entries(text, origin);
        } catch (CorezfsException e) {
            // The node's own settings: a garbled line is the operator's to fix, like a bad flag.
            throw new CorezfsException(ExitCode.USAGE, e.getMessage());
        }
        for (KeyValueFile.Entry e : entries) {
            String where = origin + ":" + e.line();
            Integer earlier = seen.putIfAbsent(e.key(), e.line());
            if (earlier != null) {
                throw bad(where, e.key() + " is set twice (first on line " + earlier + ")");
            }
            Function<String, ?> parser = parserFor(e.key(), where);
            s.put(e.key(), new Setting<>(e.key(), parser.apply(e.value()), where));
        }
        return new NodeConfig(s);
    }

    private static Function<String, ?> parserFor(String key, String where) {
        return switch (key) {
            case MIRRORS -> v -> mirrorList(v, where);
            case MODE -> v -> oneOf(v, List.of("auto", "overlay", "sysext"), key, where);
            case BUILD ->
                v -> BuildPolicy.valueOf(oneOf(v, List.of("never", "prepare", "boot"), key, where)
                        .toUpperCase(Locale.ROOT));
            case KEEP -> v -> (int) number(v, 1, MAX_KEEP, key, where);
            case BOOT_FETCH_TIMEOUT -> v -> Duration.ofSeconds(number(v, 0, MAX_TIMEOUT_SECONDS, key, where));
            case SIGNATURES -> v -> Optional.of(oneOf(v, List.of("require", "if-present", "off"), key, where));
            default ->
                throw bad(
                        where,
                        "unknown key " + Text.printable(key, 200) + " (known: "
                                + String.join(", ", defaultSettings().keySet()) + ")");
        };
    }

    private static String oneOf(String v, List<String> allowed, String key, String where) {
        if (!allowed.contains(v)) {
            throw bad(
                    where,
                    key + " must be one of " + String.join(", ", allowed) + ", not '" + Text.printable(v, 200) + "'");
        }
        return v;
    }

    private static long number(String v, long min, long max, String key, String where) {
        if (!v.matches("[0-9]{1,9}")) {
            throw bad(where, key + " must be a whole number, not '" + Text.printable(v, 200) + "'");
        }
        long n = Long.parseLong(v);
        if (n < min || n > max) {
            throw bad(where, key + " must be between " + min + " and " + max + ", not " + n);
        }
        return n;
    }

    private static List<URI> mirrorList(String v, String where) {
        List<URI> out = new ArrayList<>();
        for (String word : v.trim().split("\\s+")) {
            if (word.isEmpty()) {
                continue;
            }
            out.add(mirrorUrl(word, where));
        }
        if (out.size() > MAX_MIRRORS) {
            throw bad(where, "MIRRORS lists " + out.size() + " mirrors; at most " + MAX_MIRRORS);
        }
        return List.copyOf(out);
    }

    /**
     * A mirror's base URL: {@code http(s)://host[:port]/path} or {@code file:///absolute/path}, nothing else (no user
     * info, query or fragment, which would leak or be ignored). The same rule for the file and for {@code --mirror}.
     */
    public static URI mirrorUrl(String text, String where) {
        URI u;
        try {
            u = new URI(text);
        } catch (URISyntaxException e) {
            throw bad(where, "'" + Text.printable(text, 200) + "' is not a URL");
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        boolean web = scheme.equals("http") || scheme.equals("https");
        if (!web && !scheme.equals("file")) {
            throw bad(where, "mirror '" + Text.printable(text, 200) + "' must be an http://, https:// or file:// URL");
        }
        if (u.getRawUserInfo() != null || u.getRawQuery() != null || u.getRawFragment() != null) {
            throw bad(
                    where,
                    "mirror '" + Text.printable(text, 200) + "' must not carry user info, a query or a fragment");
        }
        if (web && (u.getHost() == null || u.getHost().isEmpty())) {
            throw bad(where, "mirror '" + Text.printable(text, 200) + "' names no host");
        }
        if (!web
                && ((u.getHost() != null && !u.getHost().isEmpty())
                        || u.getPath() == null
                        || !u.getPath().startsWith("/"))) {
            throw bad(where, "mirror '" + Text.printable(text, 200) + "' must be file:///absolute/path");
        }
        return u;
    }

    private static CorezfsException bad(String where, String why) {
        return new CorezfsException(ExitCode.USAGE, where + ": " + why);
    }

    public Setting<List<URI>> mirrors() {
        return mirrors;
    }

    public Setting<String> mode() {
        return mode;
    }

    public Setting<BuildPolicy> build() {
        return build;
    }

    public Setting<Integer> keep() {
        return keep;
    }

    public Setting<Duration> bootFetchTimeout() {
        return bootFetchTimeout;
    }

    public Setting<Optional<String>> signatures() {
        return signatures;
    }

    /** Every setting, in the file's documented order, for {@code corezfs status}. */
    public List<Setting<?>> all() {
        return List.of(mirrors, mode, build, keep, bootFetchTimeout, signatures);
    }
}
