package io.corezfs.fleet;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The nodes of a rollout, from the command line or an inventory file. Three formats, told apart by their content:
 * plain lines of {@code [user@]host[:port]}; an Ansible INI inventory ({@code [group]} sections, {@code alias
 * ansible_host=… ansible_user=… ansible_port=…}, {@code :vars} and {@code :children}); an Ansible YAML inventory
 * ({@code all: hosts/vars/children}). Anything the rules do not allow is exit 2 with one line naming file:line;
 * nothing is guessed.
 */
public final class Inventory {
    /** A node as declared, before {@code ~/.ssh/config} and the defaults fill in what it leaves out. */
    public record Declared(
            String name,
            String alias,
            Optional<String> host,
            Optional<String> user,
            Optional<Integer> port,
            Optional<String> identity,
            String source) {}

    private static final String HOST = "(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?|\\[[0-9A-Fa-f:.]+\\])";
    private static final Pattern ADDRESS =
            Pattern.compile("(?:([a-z_][a-z0-9_.-]{0,31})@)?(" + HOST + ")(?::([0-9]{1,5}))?");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.:\\[\\]-]*");
    private static final Pattern USER = Pattern.compile("[a-z_][a-z0-9_.-]{0,31}");
    private static final Pattern GROUP = Pattern.compile("[A-Za-z_][A-Za-z0-9_-]*");

    private Inventory() {}

    /**
     * The node to connect to: what the inventory says, then {@code ~/.ssh/config} for what it left out (looked up by
     * the inventory's name), then the defaults (user {@value SshTarget#DEFAULT_USER}, port 22). {@code identity}
     * ({@code --identity}) comes before any key file either names. A {@code ProxyJump} of one hop is followed: the
     * jump host is resolved the same way (its own {@code Host} block for its name, user and port, the user's key
     * files); a chain of jumps is refused.
     */
    public static SshTarget resolve(Declared d, SshConfig config, Optional<Path> identity, Path home) {
        SshConfig.Entry c = config.lookup(d.alias());
        String host = d.host().or(c::hostName).orElse(d.alias());
        List<Path> keys = new ArrayList<>();
        identity.ifPresent(keys::add);
        d.identity().map(f -> expand(f, home)).ifPresent(keys::add);
        c.identityFiles().stream().map(f -> expand(f, home)).forEach(keys::add);
        Optional<SshTarget> jump = c.proxyJump().map(j -> jump(d.name(), j, c.source(), config, identity, home));
        return new SshTarget(
                d.name(),
                host,
                d.port().or(c::port).orElse(22),
                d.user().or(c::user).orElse(SshTarget.DEFAULT_USER),
                keys,
                d.source(),
                jump);
    }

    /** The host a {@code ProxyJump [ssh://][user@]host[:port]} names, resolved like a node but without a jump itself. */
    private static SshTarget jump(
            String node, String spec, String source, SshConfig config, Optional<Path> identity, Path home) {
        String plain = spec.startsWith("ssh://") ? spec.substring("ssh://".length()) : spec;
        if (plain.contains(",")) {
            throw usage(source + ": " + node + " is reached through ProxyJump " + printable(spec)
                    + ", a chain of jump hosts; corezfs fleet follows one. Name the last hop's address instead");
        }
        Declared j = address(plain, source + " (ProxyJump)");
        SshConfig.Entry c = config.lookup(j.alias());
        if (c.proxyJump().isPresent()) {
            throw usage(
                    source + ": " + node + " is reached through " + j.alias() + ", which is itself behind ProxyJump "
                            + c.proxyJump().get() + " (" + c.source() + "); corezfs fleet follows one jump host");
        }
        List<Path> keys = new ArrayList<>();
        identity.ifPresent(keys::add);
        c.identityFiles().stream().map(f -> expand(f, home)).forEach(keys::add);
        return new SshTarget(
                node + " via jump host " + j.name(),
                j.host().or(c::hostName).orElse(j.alias()),
                j.port().or(c::port).orElse(22),
                j.user().or(c::user).orElse(SshTarget.DEFAULT_USER),
                keys,
                source);
    }

    private static Path expand(String file, Path home) {
        String f = file.replace("%d", home.toString()).replace("%%", "%");
        if (f.equals("~")) {
            return home;
        }
        if (f.startsWith("~/")) {
            return home.resolve(f.substring(2));
        }
        return home.resolve(f);
    }

    /** One {@code [user@]host[:port]} from the command line. */
    public static Declared address(String text, String source) {
        Matcher m = ADDRESS.matcher(text);
        if (!m.matches()) {
            throw usage(source + ": not [user@]host[:port]: '" + printable(text) + "'");
        }
        return new Declared(
                text,
                unbracket(m.group(2)),
                Optional.empty(),
                Optional.ofNullable(m.group(1)),
                Optional.ofNullable(m.group(3)).map(p -> port(p, source)),
                Optional.empty(),
                source);
    }

    /** The hosts of {@code file} ({@code group}: only that group's, with its children's), in file order. */
    public static List<Declared> parse(Path file, String text, Optional<String> group) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString();
        if (name.endsWith(".yml") || name.endsWith(".yaml") || looksLikeYaml(text)) {
            return Yaml.parse(file, text, group);
        }
        if (looksLikeIni(text)) {
            return Ini.parse(file, text, group);
        }
        if (group.isPresent()) {
            throw usage(file + ": --group needs an Ansible inventory; this is a plain list of hosts");
        }
        List<Declared> out = new ArrayList<>();
        int n = 0;
        for (String raw : text.split("\n", -1)) {
            n++;
            String line = stripComment(raw);
            if (line.isEmpty()) {
                continue;
            }
            out.add(address(line, file + ":" + n));
        }
        return unique(out, file);
    }

    private static boolean looksLikeYaml(String text) {
        for (String raw : text.split("\n")) {
            String l = stripComment(raw);
            if (l.isEmpty()) {
                continue;
            }
            return l.equals("---") || l.matches("[A-Za-z_][A-Za-z0-9_-]*:\\s*(\\{\\s*\\})?");
        }
        return false;
    }

    private static boolean looksLikeIni(String text) {
        for (String raw : text.split("\n")) {
            String l = stripComment(raw);
            if (l.startsWith("[") && l.endsWith("]") && !l.contains("@")) {
                return true;
            }
            if (l.matches("\\S+\\s+\\S+=.*")) {
                return true;
            }
        }
        return false;
    }

    static String stripComment(String raw) {
        String l = raw.strip();
        if (l.startsWith("#") || l.startsWith(";")) {
            return "";
        }
        int hash = l.indexOf(" #");
        return (hash >= 0 ? l.substring(0, hash) : l).strip();
    }

    private static List<Declared> unique(List<Declared> hosts, Path file) {
        Set<String> seen = new LinkedHashSet<>();
        for (Declared d : hosts) {
            if (!seen.add(d.name())) {
                throw usage(d.source() + ": " + d.name() + " is listed twice");
            }
        }
        if (hosts.isEmpty()) {
            throw usage(file + ": no hosts");
        }
        return List.copyOf(hosts);
    }

    /** Host variables fleet uses; Ansible's many others are passed over. */
    private static Declared withVar(Declared d, String key, String value, String where) {
        return switch (key) {
            case "ansible_host", "ansible_ssh_host" -> {
                if (!ADDRESS.matcher(value).matches() || value.contains("@") || value.matches(".*:[0-9]+")) {
                    throw usage(where + ": ansible_host is not a host name or address: '" + printable(value) + "'");
                }
                yield new Declared(
                        d.name(),
                        d.alias(),
                        Optional.of(unbracket(value)),
                        d.user(),
                        d.port(),
                        d.identity(),
                        d.source());
            }
            case "ansible_user", "ansible_ssh_user" -> {
                if (!USER.matcher(value).matches()) {
                    throw usage(where + ": ansible_user is not a user name: '" + printable(value) + "'");
                }
                yield new Declared(
                        d.name(), d.alias(), d.host(), Optional.of(value), d.port(), d.identity(), d.source());
            }
            case "ansible_port", "ansible_ssh_port" ->
                new Declared(
                        d.name(),
                        d.alias(),
                        d.host(),
                        d.user(),
                        Optional.of(port(value, where)),
                        d.identity(),
                        d.source());
            case "ansible_ssh_private_key_file" ->
                new Declared(d.name(), d.alias(), d.host(), d.user(), d.port(), Optional.of(value), d.source());
            default -> d;
        };
    }

    /** Group variables fill what the host left unset. */
    private static Declared inherit(Declared d, Map<String, String> vars, String where) {
        Declared out = d;
        for (Map.Entry<String, String> v : vars.entrySet()) {
            boolean unset = switch (v.getKey()) {
                case "ansible_host", "ansible_ssh_host" -> d.host().isEmpty();
                case "ansible_user", "ansible_ssh_user" -> d.user().isEmpty();
                case "ansible_port", "ansible_ssh_port" -> d.port().isEmpty();
                case "ansible_ssh_private_key_file" -> d.identity().isEmpty();
                default -> false;
            };
            if (unset) {
                out = withVar(out, v.getKey(), v.getValue(), where);
            }
        }
        return out;
    }

    private static int port(String p, String where) {
        if (!p.matches("[0-9]{1,5}") || Integer.parseInt(p) < 1 || Integer.parseInt(p) > 65535) {
            throw usage(where + ": port is not 1-65535: '" + printable(p) + "'");
        }
        return Integer.parseInt(p);
    }

    private static String unbracket(String h) {
        return h.startsWith("[") ? h.substring(1, h.length() - 1) : h;
    }

    static CorezfsException usage(String message) {
        return new CorezfsException(ExitCode.USAGE, message);
    }

    private static String printable(String s) {
        return io.corezfs.Text.printable(s, 80);
    }

    /** Groups, their hosts, vars and children, in the order declared; shared by both Ansible formats. */
    private static final class Groups {
        final Map<String, List<Declared>> hosts = new LinkedHashMap<>();
        final Map<String, Map<String, String>> vars = new LinkedHashMap<>();
        final Map<String, List<String>> children = new LinkedHashMap<>();
        final Map<String, String> where = new LinkedHashMap<>();

        void group(String g, String source) {
            hosts.computeIfAbsent(g, k -> new ArrayList<>());
            vars.computeIfAbsent(g, k -> new LinkedHashMap<>());
            children.computeIfAbsent(g, k -> new ArrayList<>());
            where.putIfAbsent(g, source);
        }

        List<Declared> select(Path file, Optional<String> group) {
            List<String> roots;
            if (group.isPresent()) {
                if (!hosts.containsKey(group.get())) {
                    throw usage(file + ": no group '" + printable(group.get()) + "' (groups: "
                            + String.join(", ", hosts.keySet()) + ")");
                }
                roots = List.of(group.get());
            } else {
                roots = List.copyOf(hosts.keySet());
            }
            Map<String, Declared> out = new LinkedHashMap<>();
            for (String g : roots) {
                collect(g, new LinkedHashMap<>(), out, new LinkedHashSet<>(), file);
            }
            return unique(List.copyOf(out.values()), file);
        }

        /** Depth first; a group's vars apply to the hosts below it unless a nearer group or the host set them. */
        private void collect(
                String g, Map<String, String> inherited, Map<String, Declared> out, Set<String> path, Path file) {
            if (!path.add(g)) {
                throw usage(where.get(g) + ": group '" + g + "' contains itself through its children");
            }
            if (!hosts.containsKey(g)) {
                throw usage(file + ": a child group '" + g + "' is never defined");
            }
            Map<String, String> v = new LinkedHashMap<>(inherited);
            v.putAll(vars.get(g));
            for (Declared d : hosts.get(g)) {
                Declared full = inherit(d, v, where.get(g));
                Declared before = out.get(d.name());
                if (before == null) {
                    out.put(d.name(), full);
                }
            }
            for (String c : children.get(g)) {
                collect(c, v, out, path, file);
            }
            path.remove(g);
        }
    }

    private static final class Ini {
        private static final Pattern SECTION = Pattern.compile("\\[([A-Za-z_][A-Za-z0-9_-]*)(?::(vars|children))?\\]");

        static List<Declared> parse(Path file, String text, Optional<String> group) {
            Groups gs = new Groups();
            String section = "ungrouped";
            String kind = "hosts";
            gs.group(section, file + ":1");
            int n = 0;
            for (String raw : text.split("\n", -1)) {
                n++;
                String where = file + ":" + n;
                String line = stripComment(raw);
                if (line.isEmpty()) {
                    continue;
                }
                if (line.startsWith("[")) {
                    Matcher m = SECTION.matcher(line);
                    if (!m.matches()) {
                        throw usage(where + ": not a section header [group], [group:vars] or [group:children]: '"
                                + printable(line) + "'");
                    }
                    section = m.group(1);
                    kind = m.group(2) == null ? "hosts" : m.group(2);
                    gs.group(section, where);
                    continue;
                }
                switch (kind) {
                    case "vars" -> {
                        String[] kv = line.split("\\s*=\\s*", 2);
                        if (kv.length != 2 || !kv[0].matches("[A-Za-z_][A-Za-z0-9_]*")) {
                            throw usage(where + ": not key=value: '" + printable(line) + "'");
                        }
                        gs.vars.get(section).put(kv[0], unquote(kv[1]));
                    }
                    case "children" -> {
                        if (!GROUP.matcher(line).matches()) {
                            throw usage(where + ": not a group name: '" + printable(line) + "'");
                        }
                        gs.children.get(section).add(line);
                    }
                    default -> gs.hosts.get(section).add(hostLine(line, where));
                }
            }
            return gs.select(file, group);
        }

        private static Declared hostLine(String line, String where) {
            String[] words = line.split("\\s+");
            String name = words[0];
            if (name.matches(".*\\[[^\\]]*:[^\\]]*\\].*") && !name.startsWith("[")) {
                throw usage(where + ": host ranges like '" + printable(name) + "' are not supported; list each host");
            }
            Declared d;
            Matcher m = ADDRESS.matcher(name);
            if (!m.matches() || m.group(1) != null) {
                throw usage(where + ": not a host name: '" + printable(name) + "'");
            }
            d = new Declared(
                    name,
                    name,
                    Optional.empty(),
                    Optional.empty(),
                    Optional.ofNullable(m.group(3)).map(p -> port(p, where)),
                    Optional.empty(),
                    where);
            if (m.group(3) != null) {
                d = new Declared(
                        name,
                        unbracket(m.group(2)),
                        Optional.of(unbracket(m.group(2))),
                        d.user(),
                        d.port(),
                        d.identity(),
                        where);
            }
            for (int i = 1; i < words.length; i++) {
                String[] kv = words[i].split("=", 2);
                if (kv.length != 2 || !kv[0].matches("[A-Za-z_][A-Za-z0-9_]*")) {
                    throw usage(where + ": not key=value: '" + printable(words[i]) + "'");
                }
                d = withVar(d, kv[0], unquote(kv[1]), where);
            }
            return d;
        }

        private static String unquote(String v) {
            return v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))
                    ? v.substring(1, v.length() - 1)
                    : v;
        }
    }

    /** Ansible's YAML inventory, read token by token so every error names its line. */
    private static final class Yaml {
        static List<Declared> parse(Path file, String text, Optional<String> group) {
            Groups gs = new Groups();
            try (JsonParser p = new YAMLFactory().createParser(text)) {
                JsonToken t = p.nextToken();
                if (t == null) {
                    throw usage(file + ": no hosts");
                }
                expect(p, JsonToken.START_OBJECT, file, "a mapping of groups (all:)");
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String g = p.currentName();
                    String where = file + ":" + line(p);
                    p.nextToken();
                    group(p, g, where, gs, file);
                }
            } catch (IOException e) {
                throw usage(file + ": not valid YAML: " + firstLine(e.getMessage()));
            }
            return gs.select(file, group);
        }

        private static void group(JsonParser p, String g, String where, Groups gs, Path file) throws IOException {
            if (!GROUP.matcher(g).matches()) {
                throw usage(where + ": not a group name: '" + printable(g) + "'");
            }
            gs.group(g, where);
            if (p.currentToken() == JsonToken.VALUE_NULL) {
                return;
            }
            expect(p, JsonToken.START_OBJECT, file, "a mapping of hosts, vars and children");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                String at = file + ":" + line(p);
                p.nextToken();
                switch (key) {
                    case "hosts" -> {
                        if (p.currentToken() == JsonToken.VALUE_NULL) {
                            continue;
                        }
                        expect(p, JsonToken.START_OBJECT, file, "a mapping of host names");
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String name = p.currentName();
                            String hat = file + ":" + line(p);
                            p.nextToken();
                            Matcher m = ADDRESS.matcher(name);
                            if (!m.matches() || m.group(1) != null) {
                                throw usage(hat + ": not a host name: '" + printable(name) + "'");
                            }
                            Declared d = new Declared(
                                    name,
                                    name,
                                    Optional.empty(),
                                    Optional.empty(),
                                    Optional.empty(),
                                    Optional.empty(),
                                    hat);
                            for (Map.Entry<String, String> v : scalars(p, file).entrySet()) {
                                d = withVar(d, v.getKey(), v.getValue(), hat);
                            }
                            gs.hosts.get(g).add(d);
                        }
                    }
                    case "vars" -> gs.vars.get(g).putAll(scalars(p, file));
                    case "children" -> {
                        if (p.currentToken() == JsonToken.VALUE_NULL) {
                            continue;
                        }
                        expect(p, JsonToken.START_OBJECT, file, "a mapping of groups");
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String c = p.currentName();
                            String cat = file + ":" + line(p);
                            p.nextToken();
                            gs.children.get(g).add(c);
                            group(p, c, cat, gs, file);
                        }
                    }
                    default ->
                        throw usage(
                                at + ": '" + printable(key) + "' is not hosts, vars or children (group '" + g + "')");
                }
            }
        }

        /** A mapping of scalar variables; nested values (Ansible allows them) are passed over. */
        private static Map<String, String> scalars(JsonParser p, Path file) throws IOException {
            Map<String, String> out = new LinkedHashMap<>();
            if (p.currentToken() == JsonToken.VALUE_NULL) {
                return out;
            }
            expect(p, JsonToken.START_OBJECT, file, "a mapping of variables");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String k = p.currentName();
                JsonToken v = p.nextToken();
                if (v.isScalarValue()) {
                    out.put(k, p.getText());
                } else {
                    p.skipChildren();
                }
            }
            return out;
        }

        private static void expect(JsonParser p, JsonToken t, Path file, String what) {
            if (p.currentToken() != t) {
                throw usage(file + ":" + line(p) + ": expected " + what);
            }
        }

        private static int line(JsonParser p) {
            JsonLocation l = p.currentTokenLocation();
            return l == null ? 0 : l.getLineNr();
        }

        private static String firstLine(String s) {
            return s == null ? "" : s.lines().findFirst().orElse("");
        }
    }
}
