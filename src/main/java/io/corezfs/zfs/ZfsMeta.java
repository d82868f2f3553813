package io.corezfs.zfs;

import io.corezfs.CorezfsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code META} file at the top of an OpenZFS source tree ({@code Name: zfs}, {@code Version: 2.1.11},
 * {@code Linux-Minimum: 3.10}, {@code Linux-Maximum: 6.2}, …). It is how we learn the ZFS version to name the
 * archive after, and whether this ZFS release claims to support the target kernel at all; checking that before
 * a build saves minutes of configure and compile that would end in an obscure error.
 */
public final class ZfsMeta {
    private static final Pattern LINE = Pattern.compile("([A-Za-z][A-Za-z0-9_-]*)\\s*:\\s*(.*?)\\s*");
    private static final Pattern MAJOR_MINOR = Pattern.compile("(\\d+)\\.(\\d+)(?:[.\\-+~_].*)?");

    private final String source;
    private final Map<String, String> fields;

    private ZfsMeta(String source, Map<String, String> fields) {
        this.source = source;
        this.fields = fields;
    }

    public static ZfsMeta read(Path meta) throws IOException {
        return parse(Files.readString(meta, StandardCharsets.UTF_8), meta.toString());
    }

    /**
     * Parses META text.
     *
     * @param source how to name the file in messages
     * @throws CorezfsException exit 3 if a line is not {@code Key: value}, Name or Version is missing, or a Linux
     *                          bound is not {@code major.minor}: such a tree is not a source we can build
     */
    public static ZfsMeta parse(String text, String source) {
        Map<String, String> fields = new LinkedHashMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                throw CorezfsException.precondition(source + ":" + (i + 1) + ": expected 'Key: value'");
            }
            fields.put(m.group(1).toLowerCase(Locale.ROOT), m.group(2));
        }
        ZfsMeta meta = new ZfsMeta(source, Collections.unmodifiableMap(fields));
        meta.required("Name");
        meta.required("Version");
        meta.linuxMinimum().ifPresent(v -> meta.bound("Linux-Minimum", v));
        meta.linuxMaximum().ifPresent(v -> meta.bound("Linux-Maximum", v));
        return meta;
    }

    /** {@code zfs} for OpenZFS. */
    public String name() {
        return required("Name");
    }

    /** The release version, e.g. {@code 2.1.11}. */
    public String version() {
        return required("Version");
    }

    /** The package release, e.g. {@code 1}; empty if the file has none. */
    public Optional<String> release() {
        return field("Release");
    }

    /** The oldest supported kernel series, e.g. {@code 3.10}. */
    public Optional<String> linuxMinimum() {
        return field("Linux-Minimum");
    }

    /** The newest supported kernel series, e.g. {@code 6.2}: any 6.2.x is inside. */
    public Optional<String> linuxMaximum() {
        return field("Linux-Maximum");
    }

    /** Any field, by case-insensitive key; empty values count as absent. */
    public Optional<String> field(String key) {
        return Optional.ofNullable(fields.get(key.toLowerCase(Locale.ROOT))).filter(v -> !v.isEmpty());
    }

    /**
     * Whether {@code kernelRelease} (a {@code uname -r}, e.g. {@code 6.1.0-55-cloud-amd64}) lies within
     * [Linux-Minimum, Linux-Maximum], comparing major.minor only, as OpenZFS's configure does. A missing bound
     * does not limit.
     */
    public boolean supportsKernel(String kernelRelease) {
        int[] k = majorMinor(kernelRelease)
                .orElseThrow(() -> CorezfsException.precondition(
                        "cannot read major.minor from kernel release '" + kernelRelease + "'"));
        boolean aboveMin = linuxMinimum()
                .map(v -> compare(k, bound("Linux-Minimum", v)) >= 0)
                .orElse(true);
        boolean belowMax = linuxMaximum()
                .map(v -> compare(k, bound("Linux-Maximum", v)) <= 0)
                .orElse(true);
        return aboveMin && belowMax;
    }

    /**
     * As {@link #supportsKernel}, failing when outside.
     *
     * @throws CorezfsException exit 3 naming the ZFS version, its supported range and the kernel
     */
    public void requireKernel(String kernelRelease) {
        if (!supportsKernel(kernelRelease)) {
            throw CorezfsException.precondition("OpenZFS " + version() + " supports Linux "
                    + linuxMinimum().orElse("(any)") + " to " + linuxMaximum().orElse("(any)") + ", but the kernel is "
                    + kernelRelease + "; use a ZFS release that supports it");
        }
    }

    private String required(String key) {
        return field(key)
                .orElseThrow(() ->
                        CorezfsException.precondition(source + ": no '" + key + ":' line (not an OpenZFS META file?)"));
    }

    private int[] bound(String key, String value) {
        return majorMinor(value)
                .orElseThrow(() ->
                        CorezfsException.precondition(source + ": " + key + " '" + value + "' is not major.minor"));
    }

    private static Optional<int[]> majorMinor(String v) {
        Matcher m = MAJOR_MINOR.matcher(v == null ? "" : v.strip());
        if (!m.matches()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
        } catch (NumberFormatException e) {
            return Optional.empty(); // more digits than an int holds
        }
    }

    private static int compare(int[] a, int[] b) {
        return a[0] != b[0] ? Integer.compare(a[0], b[0]) : Integer.compare(a[1], b[1]);
    }
}
