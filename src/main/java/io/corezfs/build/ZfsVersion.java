package io.corezfs.build;

import io.corezfs.CorezfsException;

import java.util.Arrays;
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

    /** Numerically, part by part; a release candidate sorts before its release. */
    @Override
    public int compareTo(ZfsVersion o) {
        int c = Arrays.compare(numbers(), o.numbers());
        return c != 0 ? c : Integer.compare(rc(), o.rc());
    }

    @Override
    public String toString() {
        return text;
    }

    private int[] numbers() {
        Matcher m = matcher();
        return Arrays.stream(m.group(1).split("\\.")).mapToInt(Integer::parseInt).toArray();
    }

    private int rc() {
        Matcher m = matcher();
        return m.group(2) == null ? Integer.MAX_VALUE : Integer.parseInt(m.group(2));
    }

    private Matcher matcher() {
        Matcher m = SHAPE.matcher(text);
        if (!m.matches()) {
            throw new IllegalStateException(text); // the constructor already checked
        }
        return m;
    }
}
