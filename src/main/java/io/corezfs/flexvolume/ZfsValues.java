package io.corezfs.flexvolume;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Text;
import java.math.BigDecimal;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one set of rules for ZFS names and property values that come from outside: a pod's options, an operator's
 * {@code --parent}. They are a strict subset of what {@code zfs} itself accepts, so a value that passes can never be
 * read by {@code zfs} as an option, a path out of the parent, a snapshot or a different dataset.
 */
public final class ZfsValues {
    /** ZFS's own limit on a full dataset name (ZFS_MAX_DATASET_NAME_LEN, less its terminating NUL). */
    public static final int MAX_NAME = 255;

    /**
     * One component of a dataset name. ZFS allows letters, digits, {@code _-.:} and space; the first character is
     * kept to a letter or digit here so that no component reads as an option, a dot name or hidden name, and space is
     * left out because a name travels through argv, logs and JSON.
     */
    private static final Pattern COMPONENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:-]*");

    private static final Pattern SIZE =
            Pattern.compile("(0|[1-9][0-9]{0,18})(?:\\.([0-9]{1,6}))?(?:([KMGTPEkmgtpe])(B|b|iB|ib)?)?");

    /** 16 EiB less one byte: the largest value a 64-bit ZFS size property holds. */
    private static final BigDecimal MAX_BYTES = new BigDecimal("18446744073709551615");

    /** The algorithms of the OpenZFS releases corezfs installs (2.1 and later). */
    private static final Set<String> COMPRESSION = compressionValues();

    private ZfsValues() {}

    /**
     * A single dataset name component, as a pod may give it: no {@code /}, no {@code @} or {@code #}, no {@code ..},
     * nothing ZFS would refuse or read differently.
     */
    public static String component(String value, String what) {
        if (!COMPONENT.matcher(value).matches() || value.length() > MAX_NAME) {
            throw bad(what + " must be one ZFS dataset name component (letters, digits and _ . : -, starting with a"
                    + " letter or digit, at most " + MAX_NAME + " characters), not '" + Text.printable(value, 80)
                    + "'");
        }
        return value;
    }

    /**
     * A full dataset name {@code POOL/NAME/...}: the pool name starts with a letter and is not one ZFS reserves, each
     * further component is a {@link #component}.
     */
    public static String dataset(String value, String what) {
        String[] parts = value.split("/", -1);
        String pool = parts[0];
        String lower = pool.toLowerCase(Locale.ROOT);
        boolean reserved = lower.startsWith("mirror")
                || lower.startsWith("raidz")
                || lower.startsWith("draid")
                || lower.startsWith("spare")
                || lower.equals("log")
                || pool.matches("c[0-9].*");
        if (value.length() > MAX_NAME
                || !COMPONENT.matcher(pool).matches()
                || !Character.isLetter(pool.charAt(0))
                || reserved) {
            throw bad(what + " must be a ZFS dataset POOL/NAME (a pool name starting with a letter and not reserved,"
                    + " then components of letters, digits and _ . : -), not '" + Text.printable(value, 80) + "'");
        }
        for (int i = 1; i < parts.length; i++) {
            if (!COMPONENT.matcher(parts[i]).matches()) {
                throw bad(what + " must be a ZFS dataset POOL/NAME; component " + (i + 1) + " of '"
                        + Text.printable(value, 80) + "' is not a valid name (letters, digits and _ . : -, starting"
                        + " with a letter or digit)");
            }
        }
        return value;
    }

    /**
     * A size in ZFS's notation, {@code 64M}, {@code 1.5G}, {@code 512K}, {@code 10GiB} or bytes; returned as given,
     * which {@code zfs} reads to the same number. Zero and anything from 16 EiB up are refused (as zfs does): a zero quota would mean
     * no quota at all.
     */
    public static String size(String value, String what) {
        Matcher m = SIZE.matcher(value);
        if (!m.matches()) {
            throw bad(what + " must be a ZFS size such as 64M, 1.5G or 10GiB, not '" + Text.printable(value, 80) + "'");
        }
        BigDecimal n = new BigDecimal(m.group(1) + (m.group(2) == null ? "" : "." + m.group(2)));
        if (m.group(3) != null) {
            int shift = 10 * ("KMGTPE".indexOf(Character.toUpperCase(m.group(3).charAt(0))) + 1);
            n = n.multiply(BigDecimal.valueOf(2).pow(shift));
        }
        if (n.signum() == 0 || n.compareTo(MAX_BYTES) > 0) {
            throw bad(what + " must be more than 0 and less than 16E, not '" + value + "'");
        }
        return value;
    }

    /** As {@link #size}, as a number of bytes (fractions of a byte rounded down, as zfs does). */
    public static BigDecimal bytes(String value, String what) {
        Matcher m = SIZE.matcher(size(value, what));
        m.matches();
        BigDecimal n = new BigDecimal(m.group(1) + (m.group(2) == null ? "" : "." + m.group(2)));
        if (m.group(3) != null) {
            int shift = 10 * ("KMGTPE".indexOf(Character.toUpperCase(m.group(3).charAt(0))) + 1);
            n = n.multiply(BigDecimal.valueOf(2).pow(shift));
        }
        return n.setScale(0, java.math.RoundingMode.DOWN);
    }

    /**
     * A {@code recordsize}: a {@link #size} that is a power of two from 512 bytes to 16M, the range OpenZFS 2.1 and
     * later accept (over 1M only with the pool's large_blocks feature, which zfs itself then checks).
     */
    public static String recordsize(String value, String what) {
        BigDecimal n = bytes(value, what);
        long b = n.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0 ? 0 : n.longValue();
        if (b < 512 || b > (16L << 20) || Long.bitCount(b) != 1) {
            throw bad(what + " must be a power of two from 512 to 16M, such as 128K or 1M, not '"
                    + Text.printable(value, 80) + "'");
        }
        return value;
    }

    /** A {@code compression} value this ZFS knows: on, off, lz4, zstd-3, gzip-9, ... */
    public static String compression(String value, String what) {
        if (!COMPRESSION.contains(value)) {
            throw bad(what + " must be a ZFS compression value (on, off, lz4, zstd, zstd-1 to zstd-19, gzip, gzip-1 to"
                    + " gzip-9, zle, lzjb, zstd-fast, zstd-fast-N), not '" + Text.printable(value, 80) + "'");
        }
        return value;
    }

    private static Set<String> compressionValues() {
        java.util.HashSet<String> s =
                new java.util.HashSet<>(Set.of("on", "off", "lzjb", "gzip", "zle", "lz4", "zstd", "zstd-fast"));
        for (int i = 1; i <= 9; i++) {
            s.add("gzip-" + i);
        }
        for (int i = 1; i <= 19; i++) {
            s.add("zstd-" + i);
        }
        for (int i = 1; i <= 10; i++) {
            s.add("zstd-fast-" + i);
        }
        for (int i = 20; i <= 100; i += 10) {
            s.add("zstd-fast-" + i);
        }
        s.add("zstd-fast-500");
        s.add("zstd-fast-1000");
        return Set.copyOf(s);
    }

    private static CorezfsException bad(String message) {
        return new CorezfsException(ExitCode.USAGE, message);
    }
}
