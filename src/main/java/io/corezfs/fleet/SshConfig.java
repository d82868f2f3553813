package io.corezfs.fleet;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The part of an OpenSSH client configuration ({@code ~/.ssh/config}) fleet honours, read by OpenSSH's rules:
 * {@code HostName}, {@code User}, {@code Port}, {@code IdentityFile} and {@code ProxyJump} in {@code Host} blocks,
 * the first value obtained wins, the host name is matched in lower case, and {@code Include} reads other files in
 * place (globs, in lexical order; relative names under {@code ~/.ssh}; inside a block, only for that block's hosts).
 * Other keywords are the operator's other tools' business and are passed over. {@code Match all} applies to every
 * host; other {@code Match} blocks are passed over whole, since their conditions (exec, user, canonical) cannot be
 * judged here.
 */
public final class SshConfig {
    /** A value and the {@code file:line} that set it. */
    public record Setting(String value, String source) {}

    /** What the file says for one host. */
    public record Entry(
            Optional<Setting> hostName,
            Optional<String> user,
            Optional<Integer> port,
            List<Setting> identityFiles,
            Optional<String> proxyJump,
            String source) {}

    /** Where {@code Include} finds its files; the seam keeps parsing apart from the file system. */
    public interface Includes {
        /** The files {@code pattern} (absolute, with glob wildcards) names, in lexical order; none is not an error. */
        List<Path> expand(Path pattern);

        /** The text of one of those files. */
        String read(Path file);

        /** No file is ever found: an {@code Include} adds nothing. */
        Includes NONE = new Includes() {
            @Override
            public List<Path> expand(Path pattern) {
                return List.of();
            }

            @Override
            public String read(Path file) {
                throw new IllegalStateException(file.toString());
            }
        };
    }

    /** As OpenSSH: an {@code Include} nested deeper than this is refused (a file that includes itself, say). */
    static final int MAX_DEPTH = 16;

    private record Block(List<List<String>> conditions, boolean never, Map<String, List<Setting>> values) {
        Block(List<List<String>> conditions, boolean never) {
            this(conditions, never, new LinkedHashMap<>());
        }
    }

    public static final SshConfig EMPTY = new SshConfig(List.of(), "");

    private final List<Block> blocks;
    private final String file;

    private SshConfig(List<Block> blocks, String file) {
        this.blocks = blocks;
        this.file = file;
    }

    /** Parses {@code text} (from {@code file}) with no {@code Include} followed. */
    public static SshConfig parse(Path file, String text) {
        return parse(file, text, Path.of("/"), Includes.NONE);
    }

    /**
     * Parses {@code text} (from {@code file}); {@code Include} names relative to {@code sshDir} are read through
     * {@code includes}. A malformed {@code Port} or a too deep {@code Include} is exit 2 naming file:line.
     */
    public static SshConfig parse(Path file, String text, Path sshDir, Includes includes) {
        List<Block> blocks = new ArrayList<>();
        read(file, text, new Block(List.of(), false), blocks, sshDir, includes, 0);
        return new SshConfig(blocks, file.toString());
    }

    private static void read(
            Path file, String text, Block outer, List<Block> blocks, Path sshDir, Includes includes, int depth) {
        Block current = new Block(outer.conditions(), outer.never());
        blocks.add(current);
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
            switch (key) {
                case "host" -> {
                    List<List<String>> c = new ArrayList<>(outer.conditions());
                    c.add(List.of(value.split("\\s+")));
                    current = new Block(c, outer.never());
                    blocks.add(current);
                }
                case "match" -> {
                    current = new Block(outer.conditions(), outer.never() || !value.equalsIgnoreCase("all"));
                    blocks.add(current);
                }
                case "include" -> {
                    if (depth + 1 > MAX_DEPTH) {
                        throw new CorezfsException(
                                ExitCode.USAGE,
                                where + ": Include nested more than " + MAX_DEPTH
                                        + " deep (does a file include itself?)");
                    }
                    for (String name : value.split("\\s+")) {
                        Path home = sshDir.getParent() == null ? sshDir : sshDir.getParent();
                        Path pattern = name.startsWith("~/") ? home.resolve(name.substring(2)) : sshDir.resolve(name);
                        for (Path f : includes.expand(pattern)) {
                            read(f, includes.read(f), current, blocks, sshDir, includes, depth + 1);
                        }
                    }
                    // What follows the Include still belongs to this block, after what the included files set.
                    current = new Block(current.conditions(), current.never());
                    blocks.add(current);
                }
                case "hostname", "user", "identityfile", "proxyjump" -> add(current, key, value, where);
                case "port" -> {
                    if (!value.matches("[0-9]{1,5}")
                            || Integer.parseInt(value) < 1
                            || Integer.parseInt(value) > 65535) {
                        throw new CorezfsException(
                                ExitCode.USAGE,
                                where + ": Port is not 1-65535: '" + io.corezfs.Text.printable(value, 80) + "'");
                    }
                    add(current, key, value, where);
                }
                default -> {
                    // not fleet's concern
                }
            }
        }
    }

    private static void add(Block b, String key, String value, String where) {
        b.values().computeIfAbsent(key, k -> new ArrayList<>()).add(new Setting(value, where));
    }

    /** What applies to {@code host} (the name the operator used), blocks in file order, first value wins. */
    public Entry lookup(String host) {
        String name = host.toLowerCase(Locale.ROOT);
        Map<String, Setting> first = new LinkedHashMap<>();
        List<Setting> identities = new ArrayList<>();
        for (Block b : blocks) {
            if (b.never() || !b.conditions().stream().allMatch(c -> matches(c, name))) {
                continue;
            }
            for (Map.Entry<String, List<Setting>> e : b.values().entrySet()) {
                if (e.getKey().equals("identityfile")) {
                    identities.addAll(e.getValue());
                } else {
                    first.putIfAbsent(e.getKey(), e.getValue().get(0));
                }
            }
        }
        return new Entry(
                Optional.ofNullable(first.get("hostname")),
                Optional.ofNullable(first.get("user")).map(Setting::value),
                Optional.ofNullable(first.get("port")).map(v -> Integer.parseInt(v.value())),
                identities,
                Optional.ofNullable(first.get("proxyjump"))
                        .map(Setting::value)
                        .filter(v -> !v.equalsIgnoreCase("none")),
                first.values().stream().findFirst().map(Setting::source).orElse(file));
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

    /**
     * {@code Include} on the admin machine's files: each name's components may hold glob wildcards; the matches are
     * regular files, in lexical order. A name that matches nothing adds nothing, as in OpenSSH.
     */
    public static Includes files() {
        return new Includes() {
            @Override
            public List<Path> expand(Path pattern) {
                List<Path> found =
                        new ArrayList<>(List.of(pattern.getRoot() == null ? Path.of("") : pattern.getRoot()));
                for (Path part : pattern.normalize()) {
                    String p = part.toString();
                    List<Path> next = new ArrayList<>();
                    for (Path dir : found) {
                        if (p.chars().noneMatch(ch -> ch == '*' || ch == '?' || ch == '[')) {
                            Path f = dir.resolve(p);
                            if (Files.exists(f)) {
                                next.add(f);
                            }
                            continue;
                        }
                        PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + p);
                        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                            List<Path> hits = new ArrayList<>();
                            for (Path f : ds) {
                                if (m.matches(f.getFileName())
                                        && !f.getFileName().toString().startsWith(".")) {
                                    hits.add(f);
                                }
                            }
                            hits.sort(null);
                            next.addAll(hits);
                        } catch (IOException | SecurityException e) {
                            // not a directory, or unreadable: no match, as glob(3) reports it
                        }
                    }
                    found = next;
                }
                return found.stream().filter(Files::isRegularFile).toList();
            }

            @Override
            public String read(Path file) {
                return io.corezfs.host.RootFs.readText(file, file.toString());
            }
        };
    }
}
