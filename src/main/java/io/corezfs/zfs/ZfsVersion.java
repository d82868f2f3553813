package io.corezfs.zfs;

import io.corezfs.CorezfsException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An OpenZFS release version as its tags spell it: {@code 2.1.11}, {@code 0.7.13}, {@code 2.2.0-rc1}. The text
 * ends up in URLs and file names, so anything else is refused rather than escaped.
 *
 * @param text the version exactly as given
 */
public record ZfsVersion(String text) implements Comparable<ZfsVersion> {
    private static final Pattern SHAPE = Pattern.compile("(\\d{1,6}(?:\\.\\d{1,6}){1,3})(?:-rc(\\d{1,6}))?");

    /** @throws CorezfsException exit 3 if {@code text} is not a release version */
    public ZfsVersion {
        if (text == null || !SHAPE.matcher(text).matches()) {
            throw CorezfsException.precondition("'" + text + "' is not an OpenZFS release version (like 2.1.11)");
        }
    }

    /**
     * The one order of ZFS versions, for any text an archive may carry ({@code --zfs-version} allows
     * {@code [0-9][A-Za-z0-9.~+-]*}), so listing, lookup and the mirror all choose alike. The dotted numbers first,
     * numerically ({@code 2.10.0} after {@code 2.9.9}; a missing part is 0). Then what follows them: a pre-release
     * ({@code ~} or a letter first, as {@code -rc1}) precedes the bare release, a revision (a digit first, as
     * {@code -1}) follows it; two of a kind compare by their runs of digits (numerically) and letters. Texts the
     * order cannot tell apart ({@code 2.2} and {@code 2.2.0}) fall back to plain text order, so it agrees with
     * {@code equals}.
     */
    public static final Comparator<String> ORDER = ZfsVersion::compare;

    private static final Pattern CORE = Pattern.compile("\\d+(?:\\.\\d+)*");
    private static final Pattern RUN = Pattern.compile("\\d+|[A-Za-z]+");

    public static ZfsVersion of(String text) {
        return new ZfsVersion(text);
    }

    /**
     * Whether the release predates 0.8. Until then the SPL (Solaris Porting Layer) was a separate project,
     * released as its own {@code spl-X.tar.gz} next to {@code zfs-X.tar.gz}, and has to be built first.
     */
    public boolean needsSpl() {
        int[] n = numbers();
        return n[0] == 0 && n[1] < 8;
    }

    /** In {@link #ORDER}. */
    @Override
    public int compareTo(ZfsVersion o) {
        return ORDER.compare(text, o.text);
    }

    private static int compare(String a, String b) {
        Matcher ma = CORE.matcher(a);
        Matcher mb = CORE.matcher(b);
        String coreA = ma.lookingAt() ? ma.group() : "";
        String coreB = mb.lookingAt() ? mb.group() : "";
        int c = compareRuns(List.of(coreA.split("\\.")), List.of(coreB.split("\\.")), true);
        if (c == 0) {
            String restA = a.substring(coreA.length());
            String restB = b.substring(coreB.length());
            c = Integer.compare(rank(restA), rank(restB));
            if (c == 0) {
                c = compareRuns(runs(restA), runs(restB), false);
            }
        }
        return c != 0 ? c : a.compareTo(b);
    }

    /** 0 a pre-release, 1 the release itself, 2 a revision after it. */
    private static int rank(String rest) {
        if (rest.isEmpty()) {
            return 1;
        }
        if (rest.startsWith("~")) {
            return 0;
        }
        List<String> runs = runs(rest);
        return runs.isEmpty() || Character.isDigit(runs.get(0).charAt(0)) ? 2 : 0;
    }

    private static List<String> runs(String s) {
        List<String> out = new ArrayList<>();
        Matcher m = RUN.matcher(s);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    /** Run by run: digits as numbers of any length, letters case-blind, letters before digits; missing parts as 0. */
    private static int compareRuns(List<String> a, List<String> b, boolean missingIsZero) {
        for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
            if (!missingIsZero && (i >= a.size() || i >= b.size())) {
                return Integer.compare(a.size(), b.size());
            }
            String x = i < a.size() ? a.get(i) : "0";
            String y = i < b.size() ? b.get(i) : "0";
            boolean dx = !x.isEmpty() && Character.isDigit(x.charAt(0));
            boolean dy = !y.isEmpty() && Character.isDigit(y.charAt(0));
            int c;
            if (dx && dy) {
                String nx = x.replaceFirst("^0+(?=.)", "");
                String ny = y.replaceFirst("^0+(?=.)", "");
                c = nx.length() != ny.length() ? Integer.compare(nx.length(), ny.length()) : nx.compareTo(ny);
            } else if (dx != dy) {
                c = dx ? 1 : -1;
            } else {
                c = x.compareToIgnoreCase(y);
            }
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    @Override
    public String toString() {
        return text;
    }

    private int[] numbers() {
        Matcher m = matcher();
        return Arrays.stream(m.group(1).split("\\."))
                .mapToInt(Integer::parseInt)
                .toArray();
    }

    private Matcher matcher() {
        Matcher m = SHAPE.matcher(text);
        if (!m.matches()) {
            throw new IllegalStateException(text); // the constructor already checked
        }
        return m;
    }
}
