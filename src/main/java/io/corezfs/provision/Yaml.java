package io.corezfs.provision;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.util.List;
import java.util.Map;

/**
 * Writes the small YAML documents the Butane and cloud-config outputs are: maps, lists, strings, numbers and booleans,
 * in block style. Multi-line text that a literal block keeps byte for byte is written as one (readable units and
 * files); every other string is double-quoted with JSON's escapes, which YAML reads the same way.
 */
final class Yaml {
    private Yaml() {}

    /** A number written as octal (a file mode), as Butane and cloud-config examples write them. */
    record Octal(int value) {}

    static String write(Map<String, ?> doc) {
        StringBuilder b = new StringBuilder();
        map(b, doc, 0);
        return b.toString();
    }

    private static void map(StringBuilder b, Map<String, ?> m, int indent) {
        boolean first = true;
        for (Map.Entry<String, ?> e : m.entrySet()) {
            if (!first || b.length() > 0 && b.charAt(b.length() - 1) == '\n') {
                b.append(" ".repeat(indent));
            }
            first = false;
            b.append(e.getKey()).append(':');
            value(b, e.getValue(), indent);
        }
    }

    private static void value(StringBuilder b, Object v, int indent) {
        if (v instanceof Map<?, ?> m) {
            b.append('\n');
            @SuppressWarnings("unchecked")
            Map<String, ?> sm = (Map<String, ?>) m;
            map(b, sm, indent + 2);
        } else if (v instanceof List<?> l) {
            b.append('\n');
            for (Object item : l) {
                b.append(" ".repeat(indent + 2)).append("- ");
                if (item instanceof Map<?, ?> im) {
                    @SuppressWarnings("unchecked")
                    Map<String, ?> sm = (Map<String, ?>) im;
                    // The first key sits on the dash's line; the rest line up under it.
                    StringBuilder inner = new StringBuilder();
                    map(inner, sm, indent + 4);
                    b.append(inner);
                } else {
                    scalar(b, item, indent + 4);
                }
            }
        } else {
            b.append(' ');
            scalar(b, v, indent + 2);
        }
    }

    private static void scalar(StringBuilder b, Object v, int indent) {
        if (v instanceof Octal o) {
            b.append(String.format("0%o", o.value())).append('\n');
        } else if (v instanceof Number || v instanceof Boolean) {
            b.append(v).append('\n');
        } else {
            String s = v.toString();
            if (literal(s)) {
                b.append("|\n");
                for (String line : s.substring(0, s.length() - 1).split("\n", -1)) {
                    b.append(line.isEmpty() ? "" : " ".repeat(indent) + line).append('\n');
                }
            } else {
                b.append('"')
                        .append(JsonStringEncoder.getInstance().quoteAsString(s))
                        .append('"')
                        .append('\n');
            }
        }
    }

    /**
     * Whether a literal block keeps {@code s} exactly: it ends in one newline (the block's default chomping), its first
     * line does not start with a space (which would change the indentation), and it has only printable ASCII.
     */
    private static boolean literal(String s) {
        if (!s.contains("\n") || !s.endsWith("\n") || s.endsWith("\n\n") || s.startsWith(" ")) {
            return false;
        }
        for (char c : s.toCharArray()) {
            if (c != '\n' && (c < 0x20 || c > 0x7e)) {
                return false;
            }
        }
        for (String line : s.split("\n")) {
            if (line.endsWith(" ")) {
                return false;
            }
        }
        return true;
    }
}
