package io.corezfs;

/** How corezfs shows text it did not write (a path from an archive, a value from a host file, an option) in a message. */
public final class Text {
    private Text() {}

    /**
     * {@code s} as it may go into a one-line message: control characters (a newline could forge a second line in a
     * log, an escape could drive the terminal) become {@code ?}, and anything past {@code max} characters becomes
     * {@code …}.
     */
    public static String printable(String s, int max) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), max + 1));
        for (int i = 0; i < s.length(); i++) {
            if (b.length() >= max) {
                return b.append('…').toString();
            }
            char c = s.charAt(i);
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        return b.toString();
    }
}
