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
import java.util.Comparator;
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
 * plain lines of {@code [user@]host[:port]}; an Ansible INI inventory ({@code [group]} sections, {@code alias[:port]
 * ansible_host=… ansible_user=… ansible_port=…}, {@code :vars} and {@code :children}); an Ansible YAML inventory
 * ({@code all: hosts/vars/children}). An Ansible inventory gives each host the values Ansible would: {@code all}'s
 * variables reach every host, a host listed in several groups is one host with all their variables merged by
 * Ansible's precedence, and {@code --group} picks hosts without changing their values. Anything the rules do not
 * allow is exit 2 with one line naming file:line; nothing is guessed.
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

    /** Hosts one inventory may expand to: far past a rollout's size, and what stops {@code h[0:999999999]}. */
    static final int MAX_HOSTS = 10_000;

    private Inventory() {}

    /**
     * The admin machine as key paths are read on it: {@code home} for {@code ~} and {@code %d}, {@code workDir} for a
     * relative path (where OpenSSH's {@code ssh -i} and {@code IdentityFile} read one), {@code env} for
     * {@code IdentityFile}'s {@code ${VAR}}.
     */
    public record Local(Path home, Path workDir, java.util.function.Function<String, Optional<String>> env) {}

    /**
     * The node to connect to: what the inventory says, then {@code ~/.ssh/config} for what it left out (looked up by
     * the inventory's name), then the defaults (user {@value SshTarget#DEFAULT_USER}, port 22). {@code identity}
     * ({@code --identity}) comes before any key file either names. A {@code ProxyJump} of one hop is followed: the
     * jump host is resolved the same way (its own {@code Host} block for its name, user and port, the user's key
     * files); a chain of jumps is refused.
     */
    public static SshTarget resolve(Declared d, SshConfig config, Optional<Path> identity, Local local) {
        SshConfig.Entry c = config.lookup(d.alias());
        Optional<SshTarget> jump = c.proxyJump().map(j -> jump(d.name(), j, c.source(), config, identity, local));
        return connection(d, c, identity, local, d.name(), d.source(), jump);
    }

    /**
     * Where {@code d} connects: what it names, else what the config says for its alias, else the defaults; keys
     * from {@code --identity}, its own, then the config's {@code IdentityFile}s.
     */
    private static SshTarget connection(
            Declared d,
            SshConfig.Entry c,
            Optional<Path> identity,
            Local local,
            String name,
            String source,
            Optional<SshTarget> jump) {
        String host =
                d.host().or(() -> c.hostName().map(h -> hostName(h, d.alias()))).orElse(d.alias());
        int port = d.port().or(c::port).orElse(22);
        String user = d.user().or(c::user).orElse(SshTarget.DEFAULT_USER);
        List<Path> keys = new ArrayList<>();
        identity.ifPresent(keys::add);
        d.identity().map(f -> path(f, local, d.source())).ifPresent(keys::add);
        for (SshConfig.Setting f : c.identityFiles()) {
            identityFile(f, local, d.alias(), host, port, user).ifPresent(keys::add);
        }
        return new SshTarget(name, host, port, user, keys, source, jump);
    }

    /** The host a {@code ProxyJump [ssh://][user@]host[:port]} names, resolved like a node but without a jump itself. */
    private static SshTarget jump(
            String node, String spec, String source, SshConfig config, Optional<Path> identity, Local local) {
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
        return connection(j, c, identity, local, node + " via jump host " + j.name(), source, Optional.empty());
    }

    /** {@code HostName} with its tokens, which OpenSSH limits to {@code %h} (the name as given) and {@code %%}. */
    private static String hostName(SshConfig.Setting s, String alias) {
        String h = tokens(s, "HostName", Map.of('h', alias));
        if (h.isEmpty() || h.chars().anyMatch(ch -> Character.isWhitespace(ch) || ch == '@' || ch == '/')) {
            throw usage(s.source() + ": HostName is not a host name or address: '" + printable(h) + "'");
        }
        return h;
    }

    /**
     * An {@code IdentityFile} as OpenSSH reads it: {@code none} names no file; {@code ~}, then the tokens that need
     * nothing but the connection: {@code %d} (home), {@code %h} (the address), {@code %n} (the name as given),
     * {@code %p}, {@code %r} (remote user), {@code %%}; then {@code ${VAR}} from the environment. Any other token, or
     * a variable that is not set, is refused naming its line rather than looked for under a name with a {@code %} or
     * {@code $} in it. What is left relative is relative to the working directory, as for {@code ssh}.
     */
    private static Optional<Path> identityFile(
            SshConfig.Setting s, Local local, String alias, String host, int port, String user) {
        if (s.value().equalsIgnoreCase("none")) {
            return Optional.empty();
        }
        String f = tokens(
                s,
                "IdentityFile",
                Map.of('d', local.home().toString(), 'h', host, 'n', alias, 'p', String.valueOf(port), 'r', user));
        return Optional.of(path(variables(s, f, local), local, s.source()));
    }

    /** OpenSSH's {@code ${VAR}}: every one must be set, and a {@code $} outside one is refused as a typo. */
    private static String variables(SshConfig.Setting s, String v, Local local) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < v.length()) {
            int dollar = v.indexOf('$', i);
            if (dollar < 0) {
                out.append(v, i, v.length());
                break;
            }
            out.append(v, i, dollar);
            int close = v.indexOf('}', dollar);
            String name = dollar + 1 < v.length() && v.charAt(dollar + 1) == '{' && close > dollar + 2
                    ? v.substring(dollar + 2, close)
                    : "";
            if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw usage(
                        s.source() + ": IdentityFile has a '$' that is not ${NAME}: '" + printable(s.value()) + "'");
            }
            String value = local.env()
                    .apply(name)
                    .orElseThrow(() -> usage(s.source() + ": IdentityFile uses ${" + name
                            + "}, which is not set in this environment: '" + printable(s.value()) + "'"));
            out.append(value);
            i = close + 1;
        }
        return out.toString();
    }

    private static String tokens(SshConfig.Setting s, String keyword, Map<Character, String> values) {
        StringBuilder out = new StringBuilder();
        String v = s.value();
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c != '%') {
                out.append(c);
                continue;
            }
            if (i + 1 == v.length()) {
                throw usage(s.source() + ": " + keyword + " ends in a lone '%': '" + printable(v) + "'");
            }
            char t = v.charAt(++i);
            if (t == '%') {
                out.append('%');
            } else if (values.containsKey(t)) {
                out.append(values.get(t));
            } else {
                throw usage(
                        s.source() + ": " + keyword + " token %" + t + " is not supported by corezfs fleet (it knows "
                                + values.keySet().stream()
                                        .sorted()
                                        .map(k -> "%" + k)
                                        .reduce((a, b) -> a + " " + b)
                                        .orElse("")
                                + " %%): '" + printable(v) + "'");
            }
        }
        return out.toString();
    }

    /** {@code ~} and {@code ~/…} under home; any other relative path under the working directory, as ssh reads it. */
    private static Path path(String file, Local local, String where) {
        if (file.startsWith("~") && !file.equals("~") && !file.startsWith("~/")) {
            throw usage(where + ": a key file under another user's home ('" + printable(file)
                    + "') is not supported; write its absolute path");
        }
        if (file.equals("~")) {
            return local.home();
        }
        if (file.startsWith("~/")) {
            return local.home().resolve(file.substring(2));
        }
        return local.workDir().resolve(file);
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

    /** Connection plugins that reach a host over SSH, as Ansible names them. */
    private static final Set<String> SSH_CONNECTIONS =
            Set.of("ssh", "smart", "paramiko", "paramiko_ssh", "ansible.builtin.ssh", "ansible.builtin.paramiko_ssh");

    /** An ssh option in Ansible's extra arguments that sends the connection somewhere else: a bastion or a proxy. */
    private static final Pattern ELSEWHERE =
            Pattern.compile("(?:^|[\\s'\"])(?:-J|(?i:-o\\s*['\"]?(?:ProxyJump|ProxyCommand)))");

    /** The variables {@link #withVar} reads; a template in any of them is refused, in the others passed over. */
    private static final Set<String> READ = Set.of(
            "ansible_host",
            "ansible_ssh_host",
            "ansible_user",
            "ansible_ssh_user",
            "ansible_port",
            "ansible_ssh_port",
            "ansible_ssh_private_key_file",
            "ansible_private_key_file",
            "ansible_connection",
            "ansible_ssh_common_args",
            "ansible_ssh_extra_args",
            "ansible_ssh_args");

    /**
     * Host variables fleet uses; Ansible's many others are passed over, except those that say the host is not reached
     * the way fleet reaches it (another connection plugin, a bastion in the ssh arguments), which are refused rather
     * than silently connected around.
     */
    private static Declared withVar(Declared d, String key, String value, String where) {
        if (READ.contains(key) && (value.contains("{{") || value.contains("{%"))) {
            throw usage(where + ": " + key + " of " + d.name() + " is a Jinja template ('" + printable(value)
                    + "'), which corezfs fleet does not evaluate; write the value itself");
        }
        return switch (key) {
            case "ansible_connection" -> {
                if (!SSH_CONNECTIONS.contains(value)) {
                    throw usage(where + ": " + d.name() + " has ansible_connection=" + printable(value)
                            + "; corezfs fleet reaches nodes over SSH only: leave it out with --group");
                }
                yield d;
            }
            case "ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_ssh_args" -> {
                if (ELSEWHERE.matcher(value).find()) {
                    throw usage(where + ": " + d.name() + " is reached through a jump host or proxy in " + key + " ('"
                            + printable(value) + "'), which corezfs fleet does not read; put ProxyJump in "
                            + "~/.ssh/config for it instead");
                }
                yield d;
            }
            case "ansible_host", "ansible_ssh_host" ->
                new Declared(
                        d.name(),
                        d.alias(),
                        Optional.of(connectAddress(value, where)),
                        d.user(),
                        d.port(),
                        d.identity(),
                        d.source());
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
            case "ansible_ssh_private_key_file", "ansible_private_key_file" ->
                new Declared(d.name(), d.alias(), d.host(), d.user(), d.port(), Optional.of(value), d.source());
            default -> d;
        };
    }

    /**
     * An {@code ansible_host}: a host name, an IPv4 address, or an IPv6 address bare (as Ansible writes it) or in
     * brackets; never with a user or a port, which have their own variables.
     */
    private static String connectAddress(String value, String where) {
        boolean bracketed = value.startsWith("[") && value.endsWith("]");
        String v = bracketed ? unbracket(value) : value;
        if (bracketed || v.indexOf(':') >= 0) {
            if (v.indexOf(':') >= 0 && v.matches("[0-9A-Fa-f:.]+") && isIpv6Literal(v)) {
                return v;
            }
        } else if (ADDRESS.matcher(v).matches() && !v.contains("@") && !v.startsWith("[")) {
            return v;
        }
        throw usage(where + ": ansible_host is not a host name or address: '" + printable(value) + "'");
    }

    private static boolean isIpv6Literal(String v) {
        try {
            // Only hex digits, colons and dots with at least one colon reach here: the JDK parses that as an IPv6
            // literal and never looks it up. Without the colon, a bracketed "[cafe]" would have been a DNS query.
            return java.net.InetAddress.getByName(v) instanceof java.net.Inet6Address;
        } catch (java.net.UnknownHostException e) {
            return false;
        }
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

    /** A variable's value and where it was set, so an error names the line that set it. */
    private record Var(String value, String where) {}

    /**
     * An Ansible inventory as Ansible reads it, shared by both formats. Every group is below {@code all}; a host may
     * be listed in several groups, and its variables are merged the way Ansible merges them: the groups it is in,
     * with their parents, from the shallowest to the deepest (then by {@code ansible_group_priority}, then by name),
     * each overriding the one before, and the host's own variables over all of them. {@code --group} picks hosts,
     * never variables: a host gets the same values whichever group selects it.
     */
    private static final class Groups {
        private static final class Group {
            final String where;
            final Map<String, Var> vars = new LinkedHashMap<>();
            final List<String> children = new ArrayList<>();
            final Set<String> hosts = new LinkedHashSet<>();
            final Set<String> parents = new LinkedHashSet<>();

            Group(String where) {
                this.where = where;
            }
        }

        private static final class Host {
            final String source;
            final Map<String, Var> vars = new LinkedHashMap<>();
            final Set<String> groups = new LinkedHashSet<>();

            Host(String source) {
                this.source = source;
            }
        }

        /** Deeper than any inventory a person writes; what stops a hostile one before the stack does. */
        static final int MAX_NESTING = 500;

        final Map<String, Group> groups = new LinkedHashMap<>();
        final Map<String, Host> hosts = new LinkedHashMap<>();

        void group(String g, String source) {
            groups.computeIfAbsent(g, k -> new Group(source));
        }

        void var(String g, String key, String value, String where) {
            groups.get(g).vars.put(key, new Var(value, where));
        }

        void child(String parent, String child) {
            groups.get(parent).children.add(child);
        }

        /**
         * {@code name} is a host of group {@code g}: its {@code host[:port]} form, then the line's variables, which
         * override what an earlier line set for the same host (a port in the name is its {@code ansible_port}).
         */
        void host(String g, String name, String where, Map<String, String> vars) {
            if (name.indexOf('[') > 0) {
                for (String one : HostRange.expand(name, where)) {
                    one(g, one, where, vars);
                }
            } else {
                one(g, name, where, vars);
            }
        }

        private void one(String g, String name, String where, Map<String, String> vars) {
            Matcher m = ADDRESS.matcher(name);
            if (!m.matches() || m.group(1) != null) {
                throw usage(where + ": not a host name: '" + printable(name) + "'");
            }
            String key = unbracket(m.group(2));
            if (!hosts.containsKey(key) && hosts.size() >= MAX_HOSTS) {
                throw usage(where + ": more than " + MAX_HOSTS + " hosts in one inventory; split it");
            }
            Host h = hosts.computeIfAbsent(key, k -> new Host(where));
            if (m.group(3) != null) {
                h.vars.put("ansible_port", new Var(m.group(3), where));
            }
            vars.forEach((k, v) -> h.vars.put(k, new Var(v, where)));
            h.groups.add(g);
            groups.get(g).hosts.add(key);
        }

        List<Declared> select(Path file, Optional<String> group) {
            group("all", file + ":1");
            group("ungrouped", file + ":1");
            for (Map.Entry<String, Group> e : groups.entrySet()) {
                for (String c : e.getValue().children) {
                    if (!groups.containsKey(c)) {
                        throw usage(file + ": a child group '" + printable(c) + "' is never defined");
                    }
                    groups.get(c).parents.add(e.getKey());
                }
            }
            for (Map.Entry<String, Group> e : groups.entrySet()) {
                if (!e.getKey().equals("all") && e.getValue().parents.isEmpty()) {
                    e.getValue().parents.add("all");
                    groups.get("all").children.add(e.getKey());
                }
            }
            Map<String, Integer> depth = new LinkedHashMap<>();
            for (String g : groups.keySet()) {
                depth(g, depth, new LinkedHashSet<>());
            }
            Set<String> chosen = new LinkedHashSet<>();
            if (group.isPresent()) {
                if (!groups.containsKey(group.get())) {
                    throw usage(file + ": no group '" + printable(group.get()) + "' (groups: "
                            + String.join(", ", groups.keySet()) + ")");
                }
                below(group.get(), chosen);
            } else {
                chosen.addAll(groups.keySet());
            }
            List<Declared> out = new ArrayList<>();
            for (Map.Entry<String, Host> e : hosts.entrySet()) {
                Host h = e.getValue();
                if (h.groups.stream().noneMatch(chosen::contains)) {
                    continue;
                }
                Set<String> all = new LinkedHashSet<>();
                h.groups.forEach(g -> above(g, all));
                List<String> order = new ArrayList<>(all);
                order.sort(Comparator.comparing((String g) -> depth.get(g))
                        .thenComparing(g -> priority(g))
                        .thenComparing(Comparator.naturalOrder()));
                Map<String, Var> vars = new LinkedHashMap<>();
                order.forEach(g -> vars.putAll(groups.get(g).vars));
                vars.putAll(h.vars);
                Declared d = new Declared(
                        e.getKey(),
                        e.getKey(),
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty(),
                        h.source);
                for (Map.Entry<String, Var> v : vars.entrySet()) {
                    d = withVar(
                            d, v.getKey(), v.getValue().value(), v.getValue().where());
                }
                out.add(d);
            }
            if (out.isEmpty()) {
                throw usage(file
                        + (group.isPresent() ? ": no hosts in group '" + printable(group.get()) + "'" : ": no hosts"));
            }
            return List.copyOf(out);
        }

        /**
         * Ansible's depth: the longest path down from {@code all}, each group's worked out once (a lattice of groups
         * has exponentially many paths). A group that is its own ancestor, or nesting past {@link #MAX_NESTING}, is
         * refused.
         */
        private int depth(String g, Map<String, Integer> memo, Set<String> visiting) {
            Integer known = memo.get(g);
            if (known != null) {
                return known;
            }
            if (g.equals("all")) {
                memo.put(g, 0);
                return 0;
            }
            if (!visiting.add(g)) {
                throw usage(groups.get(g).where + ": group '" + g + "' contains itself through its children");
            }
            if (visiting.size() > MAX_NESTING) {
                throw usage(groups.get(g).where + ": groups nested more than " + MAX_NESTING + " deep");
            }
            int d = 0;
            for (String p : groups.get(g).parents) {
                d = Math.max(d, depth(p, memo, visiting) + 1);
            }
            visiting.remove(g);
            memo.put(g, d);
            return d;
        }

        private void below(String g, Set<String> out) {
            if (out.add(g)) {
                groups.get(g).children.forEach(c -> below(c, out));
            }
        }

        private void above(String g, Set<String> out) {
            if (out.add(g)) {
                groups.get(g).parents.forEach(p -> above(p, out));
            }
        }

        private int priority(String g) {
            Var p = groups.get(g).vars.get("ansible_group_priority");
            if (p == null) {
                return 1;
            }
            if (!p.value().matches("-?[0-9]{1,9}")) {
                throw usage(
                        p.where() + ": ansible_group_priority is not a whole number: '" + printable(p.value()) + "'");
            }
            return Integer.parseInt(p.value());
        }
    }

    /**
     * Ansible's host ranges: {@code web[01:20].example.com}, {@code db-[a:f]}, {@code 10.0.0.[1:9:2]}, several in one
     * name multiplied out with the leftmost varying slowest. A number with a leading zero sets the width, and then
     * both ends must have it; letters run within one case. The count is worked out before any name is made, so a
     * hostile {@code [0:999999999]} is refused without being expanded.
     */
    static final class HostRange {
        private static final Pattern RANGE =
                Pattern.compile("\\[(?:([0-9]+):([0-9]+)|([a-z]):([a-z])|([A-Z]):([A-Z]))(?::([0-9]+))?\\]");

        private HostRange() {}

        static List<String> expand(String pattern, String where) {
            List<List<String>> parts = new ArrayList<>();
            long count = 1;
            int at = 0;
            while (at < pattern.length()) {
                int open = pattern.indexOf('[', at);
                if (open < 0) {
                    parts.add(List.of(pattern.substring(at)));
                    break;
                }
                int close = pattern.indexOf(']', open);
                Matcher m = close < 0 ? null : RANGE.matcher(pattern.substring(open, close + 1));
                if (m == null || !m.matches()) {
                    throw usage(where + ": '" + printable(pattern)
                            + "' has a '[' that is not a host range [begin:end] or [begin:end:step]"
                            + " (numbers, or single letters of one case)");
                }
                parts.add(List.of(pattern.substring(at, open)));
                List<String> values = values(m, pattern, where);
                count *= values.size();
                if (count > MAX_HOSTS) {
                    throw tooMany(pattern, where);
                }
                parts.add(values);
                at = close + 1;
            }
            List<String> out = List.of("");
            for (List<String> part : parts) {
                List<String> next = new ArrayList<>(out.size() * part.size());
                for (String head : out) {
                    for (String p : part) {
                        next.add(head + p);
                    }
                }
                out = next;
            }
            return out;
        }

        private static List<String> values(Matcher m, String pattern, String where) {
            long step = 1;
            if (m.group(7) != null) {
                String digits = m.group(7).replaceFirst("^0+(?=.)", "");
                step = digits.length() > 9 ? Long.MAX_VALUE : Long.parseLong(digits);
                if (step < 1) {
                    throw usage(where + ": '" + printable(pattern) + "' has a range step of 0");
                }
            }
            List<String> out = new ArrayList<>();
            if (m.group(1) != null) {
                String b = m.group(1);
                String e = m.group(2);
                boolean padded = b.length() > 1 && b.charAt(0) == '0';
                if (padded && b.length() != e.length()) {
                    throw usage(where + ": '" + printable(pattern) + "': a range that starts with a leading zero (" + b
                            + ") sets the width, and its end (" + e + ") must have the same number of digits");
                }
                if (b.length() > 9 || e.length() > 9) {
                    throw usage(where + ": '" + printable(pattern) + "': range bounds past 999999999");
                }
                long lo = Long.parseLong(b);
                long hi = Long.parseLong(e);
                checkOrder(lo, hi, pattern, where);
                long n = (hi - lo) / step + 1;
                if (n > MAX_HOSTS) {
                    throw tooMany(pattern, where);
                }
                for (long i = 0; i < n; i++) {
                    String s = Long.toString(lo + i * step);
                    out.add(padded ? "0".repeat(b.length() - s.length()) + s : s);
                }
            } else {
                int g = m.group(3) != null ? 3 : 5;
                char lo = m.group(g).charAt(0);
                char hi = m.group(g + 1).charAt(0);
                checkOrder(lo, hi, pattern, where);
                for (long i = 0; i <= (hi - lo) / step; i++) {
                    out.add(String.valueOf((char) (lo + i * step)));
                }
            }
            return out;
        }

        private static CorezfsException tooMany(String pattern, String where) {
            return usage(where + ": '" + printable(pattern) + "' expands to more than " + MAX_HOSTS
                    + " hosts in one inventory; split it");
        }

        private static void checkOrder(long lo, long hi, String pattern, String where) {
            if (lo > hi) {
                throw usage(where + ": '" + printable(pattern) + "': a range's begin is after its end");
            }
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
                        gs.var(section, kv[0], unquote(kv[1]), where);
                    }
                    case "children" -> {
                        if (!GROUP.matcher(line).matches()) {
                            throw usage(where + ": not a group name: '" + printable(line) + "'");
                        }
                        gs.child(section, line);
                    }
                    default -> hostLine(gs, section, line, where);
                }
            }
            return gs.select(file, group);
        }

        /** {@code name key=value...}, split as Ansible splits it (shell-like quotes), into the name and its vars. */
        private static void hostLine(Groups gs, String section, String line, String where) {
            List<String> words = words(line, where);
            Map<String, String> vars = new LinkedHashMap<>();
            for (String w : words.subList(1, words.size())) {
                String[] kv = w.split("=", 2);
                if (kv.length != 2 || !kv[0].matches("[A-Za-z_][A-Za-z0-9_]*")) {
                    throw usage(where + ": not key=value: '" + printable(w) + "'");
                }
                vars.put(kv[0], kv[1]);
            }
            gs.host(section, words.get(0), where, vars);
        }

        /** Words of a host line: blanks separate, single or double quotes group and are removed. */
        private static List<String> words(String line, String where) {
            List<String> out = new ArrayList<>();
            StringBuilder w = new StringBuilder();
            boolean inWord = false;
            char quote = 0;
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (quote != 0) {
                    if (c == quote) {
                        quote = 0;
                    } else if (c == '\\' && quote == '"' && i + 1 < line.length()) {
                        w.append(line.charAt(++i));
                    } else {
                        w.append(c);
                    }
                } else if (c == '"' || c == '\'') {
                    quote = c;
                    inWord = true;
                } else if (Character.isWhitespace(c)) {
                    if (inWord) {
                        out.add(w.toString());
                        w.setLength(0);
                        inWord = false;
                    }
                } else {
                    w.append(c);
                    inWord = true;
                }
            }
            if (quote != 0) {
                throw usage(where + ": a quote is not closed: '" + printable(line) + "'");
            }
            if (inWord) {
                out.add(w.toString());
            }
            return out;
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
                            gs.host(g, name, hat, scalars(p, file));
                        }
                    }
                    case "vars" -> scalars(p, file).forEach((k, v) -> gs.var(g, k, v, at));
                    case "children" -> {
                        if (p.currentToken() == JsonToken.VALUE_NULL) {
                            continue;
                        }
                        expect(p, JsonToken.START_OBJECT, file, "a mapping of groups");
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String c = p.currentName();
                            String cat = file + ":" + line(p);
                            p.nextToken();
                            group(p, c, cat, gs, file);
                            gs.child(g, c);
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
                if (v == JsonToken.VALUE_NULL) {
                    // "ansible_user:" with no value, or ~, sets nothing (Ansible's None), not the user "null".
                    continue;
                }
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
