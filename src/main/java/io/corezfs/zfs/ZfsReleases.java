package io.corezfs.zfs;

import io.corezfs.CorezfsException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The OpenZFS releases corezfs trusts: per version, the sha256 of its release tarball and the kernel range from
 * its META. The hashes are the only thing that makes a download from GitHub or a mirror trustworthy, and the
 * ranges let {@code corezfs build} pick a release for a kernel before downloading anything.
 *
 * <p>The shipped table is {@code zfs-releases.properties} next to this class; the file itself says how to add a
 * release. Its format is {@code <version>.<field> = <value>} lines with {@code #} comments, where field is
 * {@code sha256}, {@code linux-minimum}, {@code linux-maximum} and, for releases before 0.8 only,
 * {@code spl-sha256}. It is parsed strictly (a duplicate or unknown key is an error) because a typo in a pinned
 * table would otherwise silently unpin a release.
 */
public final class ZfsReleases {
    private static final String RESOURCE = "zfs-releases.properties";
    private static final Pattern KEY = Pattern.compile("(.+)\\.(sha256|spl-sha256|linux-minimum|linux-maximum)");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /**
     * One pinned release.
     *
     * @param splSha256 sha256 of {@code spl-X.tar.gz}; present exactly for releases before 0.8
     */
    public record Release(
            ZfsVersion version, String sha256, String linuxMinimum, String linuxMaximum, Optional<String> splSha256) {
        /**
         * The range as a META file would state it, so the table and a real META are judged by the same code
         * ({@link ZfsMeta#supportsKernel}).
         */
        public ZfsMeta declaredMeta() {
            return ZfsMeta.parse(
                    "Name: zfs\nVersion: " + version + "\nLinux-Minimum: " + linuxMinimum + "\nLinux-Maximum: "
                            + linuxMaximum + "\n",
                    "the pinned table's entry for " + version);
        }

        public boolean supportsKernel(String kernelRelease) {
            return declaredMeta().supportsKernel(kernelRelease);
        }

        /** e.g. {@code 2.1.11 (Linux 3.10 to 6.2)}, for messages. */
        public String describe() {
            return version + " (Linux " + linuxMinimum + " to " + linuxMaximum + ")";
        }
    }

    private final List<Release> newestFirst;

    private ZfsReleases(List<Release> releases) {
        List<Release> sorted = new ArrayList<>(releases);
        sorted.sort(Comparator.comparing(Release::version).reversed());
        this.newestFirst = List.copyOf(sorted);
    }

    /** The table shipped in the jar. */
    public static ZfsReleases shipped() {
        try (InputStream in = ZfsReleases.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the jar lacks " + RESOURCE);
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), RESOURCE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Parses table text.
     *
     * @param source how to name the table in messages
     * @throws CorezfsException exit 3 naming the line or version at fault: a malformed line, unknown field,
     *                          duplicate key, hash that is not 64 lower-case hex digits, bound that is not
     *                          major.minor, missing field, or an spl-sha256 where there is no SPL (or none where
     *                          there is)
     */
    public static ZfsReleases parse(String text, String source) {
        Map<String, Map<String, String>> fields = new LinkedHashMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = source + ":" + (i + 1) + ": ";
            int eq = line.indexOf('=');
            Matcher k = eq < 0 ? null : KEY.matcher(line.substring(0, eq).strip());
            if (k == null || !k.matches()) {
                throw CorezfsException.precondition(
                        where + "expected '<version>.<sha256|spl-sha256|linux-minimum" + "|linux-maximum> = <value>'");
            }
            String version = k.group(1);
            try {
                ZfsVersion.of(version);
            } catch (CorezfsException e) {
                throw CorezfsException.precondition(where + e.getMessage());
            }
            String value = line.substring(eq + 1).strip();
            if (fields.computeIfAbsent(version, v -> new LinkedHashMap<>()).putIfAbsent(k.group(2), value) != null) {
                throw CorezfsException.precondition(where + "a second '" + version + "." + k.group(2) + "'");
            }
        }
        List<Release> releases = new ArrayList<>();
        fields.forEach((version, f) -> releases.add(release(source, ZfsVersion.of(version), f)));
        return new ZfsReleases(releases);
    }

    /** A table of exactly these releases, e.g. one a test made. */
    public static ZfsReleases of(Release... releases) {
        Set<ZfsVersion> seen = new HashSet<>();
        for (Release r : releases) {
            if (!seen.add(r.version())) {
                throw new IllegalArgumentException("two entries for " + r.version());
            }
        }
        return new ZfsReleases(List.of(releases));
    }

    /** Every release, newest first. */
    public List<Release> all() {
        return newestFirst;
    }

    public Optional<Release> get(ZfsVersion version) {
        return newestFirst.stream().filter(r -> r.version().equals(version)).findFirst();
    }

    /** The release whose zfs tarball has this sha256 (any case): a file is recognised by content, not name. */
    public Optional<Release> bySha256(String sha256) {
        String hex = sha256.toLowerCase(Locale.ROOT);
        return newestFirst.stream().filter(r -> r.sha256().equals(hex)).findFirst();
    }

    /** The newest release whose [Linux-Minimum, Linux-Maximum] holds the kernel's major.minor. */
    public Optional<Release> newestFor(String kernelRelease) {
        return newestFirst.stream().filter(r -> r.supportsKernel(kernelRelease)).findFirst();
    }

    /** e.g. {@code 2.2.6 (Linux 4.18 to 6.10), 2.1.11 (Linux 3.10 to 6.2)}, for messages. */
    public String describe() {
        return newestFirst.isEmpty()
                ? "(none)"
                : newestFirst.stream().map(Release::describe).collect(Collectors.joining(", "));
    }

    private static Release release(String source, ZfsVersion version, Map<String, String> f) {
        String where = source + ": release " + version + ": ";
        String sha256 = required(where, f, "sha256");
        for (String key : List.of("sha256", "spl-sha256")) {
            if (f.containsKey(key) && !SHA256.matcher(f.get(key)).matches()) {
                throw CorezfsException.precondition(
                        where + key + " '" + f.get(key) + "' is not 64 lower-case hex digits");
            }
        }
        Optional<String> spl = Optional.ofNullable(f.get("spl-sha256"));
        if (version.needsSpl() && spl.isEmpty()) {
            throw CorezfsException.precondition(
                    where + "releases before 0.8 need spl-sha256 (the SPL is a separate" + " tarball)");
        }
        if (!version.needsSpl() && spl.isPresent()) {
            throw CorezfsException.precondition(where + "spl-sha256 is only for releases before 0.8");
        }
        Release r = new Release(
                version, sha256, required(where, f, "linux-minimum"), required(where, f, "linux-maximum"), spl);
        try {
            r.declaredMeta();
        } catch (CorezfsException e) {
            throw CorezfsException.precondition(where + e.getMessage());
        }
        return r;
    }

    private static String required(String where, Map<String, String> f, String key) {
        String v = f.get(key);
        if (v == null || v.isEmpty()) {
            throw CorezfsException.precondition(where + "no " + key);
        }
        return v;
    }
}
