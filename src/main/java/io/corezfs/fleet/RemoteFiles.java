package io.corezfs.fleet;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.host.HostFiles;
import io.corezfs.host.RootFs;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A node's host files, read over SSH in one command and then served to {@link io.corezfs.host.HostDetector} as any
 * root is. The node's answer is untrusted input: it is parsed by exact byte counts, and any deviation from the
 * format is refused (exit 3) rather than guessed at.
 */
public final class RemoteFiles implements HostFiles {
    /** Everything the detector may read, and the directory an image root's kernel is told by. */
    static final List<String> FILES = List.of(
            "/usr/share/flatcar/release",
            "/usr/share/flatcar/update.conf",
            "/usr/share/coreos/release",
            "/usr/share/coreos/update.conf",
            "/etc/flatcar/update.conf",
            "/etc/coreos/update.conf",
            "/etc/os-release",
            "/usr/lib/os-release",
            "/proc/sys/kernel/osrelease",
            "/usr/lib/modules");

    /**
     * {@code sh -c SCRIPT sh ROOT TOOL PATH...} (paths relative to ROOT): the machine's architecture, then per path one record, then whether
     * {@code TOOL} is executable. {@code F path size} + exactly size bytes + a newline; {@code D path count} + count
     * names, one a line; {@code O path} for anything else that exists.
     */
    static final String SCRIPT = String.join(
            "\n",
            "r=${1%/}; t=$2; shift 2",
            "uname -m",
            "for f in \"$@\"; do",
            "  p=\"$r/$f\"",
            "  if [ -f \"$p\" ] && [ -r \"$p\" ]; then",
            "    n=$(wc -c < \"$p\") || exit 3",
            "    printf 'F /%s %s\\n' \"$f\" $n; head -c $n \"$p\"; printf '\\n'",
            "  elif [ -d \"$p\" ]; then",
            "    c=0; l=''",
            "    for d in \"$p\"/*/; do [ -d \"$d\" ] || continue; c=$((c+1)); b=${d%/}; l=\"$l${b##*/}",
            "\"; done",
            "    printf 'D /%s %s\\n%s' \"$f\" $c \"$l\"",
            "  elif [ -e \"$p\" ]; then",
            "    printf 'O /%s\\n' \"$f\"",
            "  fi",
            "done",
            "if [ -x \"$t\" ]; then echo 'T yes'; else echo 'T no'; fi");

    private static final Pattern ARCH = Pattern.compile("[A-Za-z0-9_]{1,32}");
    private static final Pattern RECORD = Pattern.compile("([FDO]) (/[A-Za-z0-9_./-]*)(?: ([0-9]{1,9}))?");

    private final String node;
    private final String root;
    private final String arch;
    private final Map<String, byte[]> files;
    private final Map<String, List<String>> dirs;
    private final Map<String, Boolean> other;
    private final boolean toolPresent;

    private RemoteFiles(
            String node,
            String root,
            String arch,
            Map<String, byte[]> files,
            Map<String, List<String>> dirs,
            Map<String, Boolean> other,
            boolean toolPresent) {
        this.node = node;
        this.root = root;
        this.arch = arch;
        this.files = files;
        this.dirs = dirs;
        this.other = other;
        this.toolPresent = toolPresent;
    }

    /** The argv that makes a node print its files; {@code root} is {@code /} or an image root's directory. */
    static List<String> command(String root, String tool) {
        // Paths go relative, joined to the root by the script: only the root and the tool name a place on the node.
        List<String> argv = new ArrayList<>(List.of("sh", "-c", SCRIPT, "sh", root, tool));
        FILES.forEach(f -> argv.add(f.substring(1)));
        return argv;
    }

    private static String prefix(String root) {
        return root.equals("/") ? "" : root.replaceAll("/+$", "");
    }

    /** Parses what {@link #command} printed on {@code node}. */
    static RemoteFiles parse(String node, String root, byte[] out) {
        int[] pos = {0};
        String arch = line(out, pos, node);
        if (!ARCH.matcher(arch).matches()) {
            throw bad(node, "architecture '" + io.corezfs.Text.printable(arch, 40) + "'");
        }
        Map<String, byte[]> files = new HashMap<>();
        Map<String, List<String>> dirs = new HashMap<>();
        Map<String, Boolean> other = new HashMap<>();
        while (true) {
            String l = line(out, pos, node);
            if (l.equals("T yes") || l.equals("T no")) {
                if (pos[0] != out.length) {
                    throw bad(node, "output after the end");
                }
                return new RemoteFiles(node, root, arch, files, dirs, other, l.equals("T yes"));
            }
            Matcher m = RECORD.matcher(l);
            if (!m.matches() || !FILES.contains(m.group(2))) {
                throw bad(node, "line '" + io.corezfs.Text.printable(l, 80) + "'");
            }
            String path = m.group(2);
            switch (m.group(1)) {
                case "F" -> {
                    long n = Long.parseLong(require(m.group(3), node, l));
                    if (n > RootFs.MAX_FILE_BYTES) {
                        throw new CorezfsException(
                                ExitCode.PRECONDITION,
                                node + ":" + path + " is larger than " + RootFs.MAX_FILE_BYTES
                                        + " bytes, which no host file corezfs reads is; refusing to read it");
                    }
                    if (pos[0] + n + 1 > out.length || out[(int) (pos[0] + n)] != '\n') {
                        throw bad(node, "content of " + path);
                    }
                    files.put(path, java.util.Arrays.copyOfRange(out, pos[0], (int) (pos[0] + n)));
                    pos[0] += (int) n + 1;
                }
                case "D" -> {
                    int c = Integer.parseInt(require(m.group(3), node, l));
                    List<String> names = new ArrayList<>();
                    for (int i = 0; i < c; i++) {
                        names.add(line(out, pos, node));
                    }
                    dirs.put(path, names.stream().sorted().toList());
                }
                default -> other.put(path, true);
            }
        }
    }

    private static String require(String v, String node, String l) {
        if (v == null) {
            throw bad(node, "line '" + io.corezfs.Text.printable(l, 80) + "'");
        }
        return v;
    }

    private static String line(byte[] out, int[] pos, String node) {
        int start = pos[0];
        while (pos[0] < out.length && out[pos[0]] != '\n') {
            pos[0]++;
        }
        if (pos[0] >= out.length) {
            throw bad(node, "truncated output");
        }
        String s = new String(out, start, pos[0] - start, StandardCharsets.UTF_8);
        pos[0]++;
        return s;
    }

    private static CorezfsException bad(String node, String what) {
        return new CorezfsException(
                ExitCode.PRECONDITION, node + ": unexpected answer while reading its host files: " + what);
    }

    /** Whether the node has the corezfs launcher the command asked about. */
    public boolean toolPresent() {
        return toolPresent;
    }

    @Override
    public Optional<String> readIfExists(String hostPath) {
        if (other.containsKey(hostPath) || dirs.containsKey(hostPath)) {
            throw new CorezfsException(
                    ExitCode.PRECONDITION, describe(hostPath) + " is not a regular file; refusing to read it");
        }
        byte[] b = files.get(hostPath);
        if (b == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b))
                    .toString());
        } catch (CharacterCodingException e) {
            throw new CorezfsException(ExitCode.PRECONDITION, describe(hostPath) + " is not UTF-8 text", e);
        }
    }

    @Override
    public boolean exists(String hostPath) {
        return files.containsKey(hostPath) || dirs.containsKey(hostPath) || other.containsKey(hostPath);
    }

    @Override
    public String describe(String hostPath) {
        return node + ":" + prefix(root) + hostPath;
    }

    @Override
    public boolean isMachineRoot() {
        return root.equals("/");
    }

    @Override
    public List<String> directories(String hostPath) {
        return dirs.getOrDefault(hostPath, List.of());
    }

    @Override
    public Optional<String> machineArch() {
        return Optional.of(io.corezfs.host.Arch.fromJvm(arch));
    }
}
