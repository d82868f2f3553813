package io.corezfs.fleet;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The part of an OpenSSH client configuration ({@code ~/.ssh/config}) fleet honours: {@code HostName}, {@code User},
 * {@code Port}, {@code IdentityFile} and {@code ProxyJump} in {@code Host} blocks, first value wins as in OpenSSH.
 * Other keywords are the operator's other tools' business and are passed over; {@code Match} blocks are passed over
 * whole, since their conditions (exec, user, canonical) cannot be judged here.
 */
public final class SshConfig {
    /** What the file says for one host. */
    public record Entry(
            Optional<String> hostName,
            Optional<String> user,
            Optional<Integer> port,
            List<String> identityFiles,
            Optional<String> proxyJump,
            String source) {}

    private record Block(List<String> patterns, Map<String, List<Value>> values) {}

    private record Value(String value, String source) {}

    public static final SshConfig EMPTY = new SshConfig(List.of(), "");

    private final List<Block> blocks;
    private final String file;

    private SshConfig(List<Block> blocks, String file) {
        this.blocks = blocks;
        this.file = file;
    }

    /** Parses {@code text} (from {@code file}); a malformed {@code Port} is exit 2 naming file:line. */
    public static SshConfig parse(Path file, String text) {
        List<Block> blocks = new ArrayList<>();
        Block current = new Block(List.of("*"), new LinkedHashMap<>());
        blocks.add(current);
        boolean skipping = false;
        int n = 0;
        for (String raw : text.split("\n", -1)) {
            n++;
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] kv = line.split("[\\s=]+", 2);
            String key = kv[0].toLowerCase(Locale.ROOT);
            String value = kv.length > 1 ? unquote(kv[1].strip()) : "";
            String where = file + ":" + n;
            if (key.equals("host")) {
                current = new Block(List.of(value.split("\\s+")), new LinkedHashMap<>());
                blocks.add(current);
                skipping = false;
                continue;
            }
            if (key.equals("match")) {
                skipping = true;
                continue;
            }
            if (skipping) {
                continue;
            }
            switch (key) {
                case "hostname", "user", "identityfile", "proxyjump" ->
                    current.values()
                            .computeIfAbsent(key, k -> new ArrayList<>())
                            .add(new Value(value, where));
                case "port" -> {
                    if (!value.matches("[0-9]{1,5}")
                            || Integer.parseInt(value) < 1
                            || Integer.parseInt(value) > 65535) {
                        throw new CorezfsException(ExitCode.USAGE, where + ": Port is not 1-65535: '" + value + "'");
                    }
                    current.values()
                            .computeIfAbsent(key, k -> new ArrayList<>())
                            .add(new Value(value, where));
                }
                default -> {
                    // not fleet's concern
                }
            }
        }
        return new SshConfig(blocks, file.toString());
    }

    /** What applies to {@code host} (the name the operator used), blocks in file order, first value wins. */
    public Entry lookup(String host) {
        Map<String, Value> first = new LinkedHashMap<>();
        List<String> identities = new ArrayList<>();
        for (Block b : blocks) {
            if (!matches(b.patterns(), host)) {
                continue;
            }
            for (Map.Entry<String, List<Value>> e : b.values().entrySet()) {
                if (e.getKey().equals("identityfile")) {
                    e.getValue().forEach(v -> identities.add(v.value()));
                } else {
                    first.putIfAbsent(e.getKey(), e.getValue().get(0));
                }
            }
        }
        return new Entry(
                Optional.ofNullable(first.get("hostname")).map(Value::value),
                Optional.ofNullable(first.get("user")).map(Value::value),
                Optional.ofNullable(first.get("port")).map(v -> Integer.parseInt(v.value())),
                identities,
                Optional.ofNullable(first.get("proxyjump")).map(Value::value).filter(v -> !v.equalsIgnoreCase("none")),
                first.values().stream().findFirst().map(Value::source).orElse(file));
    }

    static boolean matches(List<String> patterns, String host) {
        boolean any = false;
        for (String p : patterns) {
            boolean negate = p.startsWith("!");
            String glob = negate ? p.substring(1) : p;
            if (glob(glob, host)) {
                if (negate) {
                    return false;
                }
                any = true;
            }
        }
        return any;
    }

    private static boolean glob(String glob, String s) {
        StringBuilder re = new StringBuilder();
        for (char c : glob.toCharArray()) {
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                default -> re.append(java.util.regex.Pattern.quote(String.valueOf(c)));
            }
        }
        return s.matches(re.toString());
    }

    private static String unquote(String v) {
        return v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"") ? v.substring(1, v.length() - 1) : v;
    }
}
