package io.corezfs.host;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Parses the shell-style {@code KEY=value} files the OS ships (os-release, Flatcar release, update.conf).
 * Anything that is not a comment, blank or an assignment is an error naming the file and line, because a
 * half-read release file would make us build or install for the wrong OS.
 */
public final class KeyValueFile {
    private static final Pattern KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private KeyValueFile() {}

    public static Map<String, String> parse(String text, String fileName) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Entry e : entries(text, fileName)) {
            out.put(e.key(), e.value());
        }
        return out;
    }

    /** One assignment and its 1-based line number, for files whose messages must point at a line. */
    public record Entry(String key, String value, int line) {}

    /** Every assignment in file order, duplicates included (a caller that must refuse them can). */
    public static List<Entry> entries(String text, String fileName) {
        List<Entry> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.indexOf('\0') >= 0) {
                throw garbled(fileName, i, "contains a NUL byte");
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw garbled(fileName, i, "expected KEY=value");
            }
            String key = line.substring(0, eq).strip();
            if (key.startsWith("export ")) {
                key = key.substring("export ".length()).strip();
            }
            if (!KEY.matcher(key).matches()) {
                throw garbled(fileName, i, "bad key '" + key + "'");
            }
            out.add(new Entry(key, unquote(line.substring(eq + 1).strip(), fileName, i), i + 1));
        }
        return out;
    }

    private static String unquote(String v, String fileName, int line) {
        if (v.length() >= 1 && (v.charAt(0) == '"' || v.charAt(0) == '\'')) {
            char q = v.charAt(0);
            if (v.length() < 2 || v.charAt(v.length() - 1) != q) {
                throw garbled(fileName, line, "unterminated quote");
            }
            String inner = v.substring(1, v.length() - 1);
            if (q == '"') {
                inner = inner.replaceAll("\\\\([\"\\\\$`])", "$1");
            }
            return inner;
        }
        return v;
    }

    private static CorezfsException garbled(String fileName, int line, String why) {
        return new CorezfsException(
                ExitCode.PRECONDITION, fileName + ":" + (line + 1) + ": garbled line (" + why + ")");
    }
}
