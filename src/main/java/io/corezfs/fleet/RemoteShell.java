package io.corezfs.fleet;

import io.corezfs.system.ProcessRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Turns a {@link ProcessRequest} into the one string an SSH exec request carries. The node's login shell parses it,
 * so every argument is single-quoted unless it is made only of characters no POSIX shell treats specially.
 */
public final class RemoteShell {
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./=:@%+,-]+");

    private RemoteShell() {}

    public static String quote(String s) {
        if (PLAIN.matcher(s).matches()) {
            return s;
        }
        return "'" + s.replace("'", "'\\''") + "'";
    }

    public static String command(ProcessRequest r) {
        List<String> words = new ArrayList<>();
        if (!r.env().isEmpty()) {
            words.add("env");
            for (Map.Entry<String, String> e : new TreeMap<>(r.env()).entrySet()) {
                words.add(e.getKey() + "=" + e.getValue());
            }
        }
        words.addAll(r.argv());
        StringBuilder b = new StringBuilder();
        r.workDir().ifPresent(d -> b.append("cd ").append(quote(d.toString())).append(" && "));
        for (int i = 0; i < words.size(); i++) {
            if (i > 0) {
                b.append(' ');
            }
            b.append(quote(words.get(i)));
        }
        return b.toString();
    }
}
