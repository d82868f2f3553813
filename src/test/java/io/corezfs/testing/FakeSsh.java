package io.corezfs.testing;

import io.corezfs.fleet.Ssh;
import io.corezfs.fleet.SshException;
import io.corezfs.fleet.SshSettings;
import io.corezfs.fleet.SshTarget;
import io.corezfs.system.LocalProcessRunner;
import io.corezfs.system.ProcessRequest;
import io.corezfs.system.ProcessResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.regex.Pattern;

/**
 * SSH to nodes that are directories on this machine. Each node's {@code /} is its own directory: every absolute path
 * in a command's arguments is taken under it, and the command runs here, through the real shell and tools, so the
 * push protocol and the host-file reading are the real ones. corezfs itself on a node ({@code /opt/corezfs-V/bin/corezfs},
 * once its bundle is unpacked there) runs in-process through {@link Cli} against the node's directory as {@code --root}.
 *
 * <p>Host keys are names ({@code key-A}); the known_hosts file of the settings holds {@code host key} lines and is
 * checked and extended the way {@code JschSsh} does. Faults: a node that is down, refuses the login, has a sudo that
 * wants a password, or whose connection breaks after some bytes of a push.
 */
public final class FakeSsh implements Ssh.Factory {
    private static final Pattern TOOL = Pattern.compile("/opt/corezfs-[^/]+/bin/corezfs");

    /** One node. Public fields: tests set the faults directly. */
    public static final class Node {
        public final Path root;
        public volatile String hostKey = "key-A";
        public volatile boolean down;
        public volatile boolean refusesLogin;
        public volatile boolean sudoWantsPassword;
        /** Break the connection once this many stdin bytes went through in one session (-1: never). */
        public volatile long cutAfter = -1;
        /** Changes the byte at this offset of what one command reads from the admin, as a bad link would (-1: none). */
        public volatile long flipByteAt = -1;
        /** Fails corezfs commands on the node with this message (null: they run). */
        public volatile String toolFails;

        public final List<List<String>> commands = Collections.synchronizedList(new ArrayList<>());

        Node(Path root) {
            this.root = root;
        }

        /** Commands run on the node other than reading its facts. */
        public List<List<String>> changes() {
            synchronized (commands) {
                return commands.stream()
                        .filter(c -> !(c.size() > 2 && c.get(2).startsWith("r=${1%/}")))
                        .toList();
            }
        }
    }

    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final Path workDir;
    private final AtomicLong connects = new AtomicLong();
    private final AtomicLong open = new AtomicLong();
    /** What the node's corezfs does: argv after the launcher, already under the node's root; default: the real CLI. */
    private BiFunction<Node, List<String>, ProcessResult> tool = this::realTool;

    public FakeSsh(Path workDir) {
        this.workDir = workDir;
    }

    /** A node reachable as {@code host:port}, its {@code /} at {@code root}. */
    public Node node(String host, int port, Path root) {
        Node n = new Node(root);
        nodes.put(host + ":" + port, n);
        return n;
    }

    public FakeSsh tool(BiFunction<Node, List<String>, ProcessResult> t) {
        this.tool = t;
        return this;
    }

    public long connects() {
        return connects.get();
    }

    /** Sessions connected and not yet closed. */
    public long openSessions() {
        return open.get();
    }

    @Override
    public Ssh open(SshSettings settings) {
        return target -> connect(settings, target);
    }

    private synchronized void checkKey(SshSettings s, SshTarget t, Node n) {
        String host = t.port() == 22 ? t.host() : "[" + t.host() + "]:" + t.port();
        List<String> lines = new ArrayList<>();
        try {
            if (Files.exists(s.knownHosts())) {
                lines = Files.readAllLines(s.knownHosts());
            }
            Optional<String> known = lines.stream()
                    .map(l -> l.split(" "))
                    .filter(p -> p.length == 2 && p[0].equals(host))
                    .map(p -> p[1])
                    .findFirst();
            if (known.isPresent() && !known.get().equals(n.hostKey)) {
                throw new SshException(
                        SshException.Kind.HOST_KEY,
                        t.name() + " (" + t.address() + "): host key CHANGED: it offered " + n.hostKey
                                + "; nothing was run",
                        null);
            }
            if (known.isEmpty()) {
                if (!s.acceptNewHostKeys()) {
                    throw new SshException(
                            SshException.Kind.HOST_KEY,
                            t.name() + " (" + t.address() + "): host key unknown: " + n.hostKey + " is not in "
                                    + s.knownHosts() + "; nothing was run",
                            null);
                }
                Files.writeString(
                        s.knownHosts(),
                        host + " " + n.hostKey + "\n",
                        StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Ssh.Session connect(SshSettings s, SshTarget t) {
        connects.incrementAndGet();
        Node n = nodes.get(t.host() + ":" + t.port());
        if (n == null || n.down) {
            throw new SshException(
                    SshException.Kind.UNREACHABLE,
                    t.name() + " (" + t.address() + "): cannot connect: Connection refused",
                    null);
        }
        checkKey(s, t, n);
        if (n.refusesLogin) {
            throw new SshException(
                    SshException.Kind.AUTH,
                    t.name() + " (" + t.address()
                            + "): authentication failed: the node accepted none of the keys offered",
                    null);
        }
        open.incrementAndGet();
        return new Session(n, t);
    }

    private final class Session implements Ssh.Session {
        private final Node node;
        private final SshTarget target;
        private final AtomicLong sent = new AtomicLong();

        Session(Node node, SshTarget target) {
            this.node = node;
            this.target = target;
        }

        @Override
        public long bytesSent() {
            return sent.get();
        }

        @Override
        public ProcessResult run(ProcessRequest r, Optional<InputStream> stdin) {
            List<String> argv = new ArrayList<>(r.argv());
            node.commands.add(List.copyOf(argv));
            if (argv.size() >= 2 && argv.get(0).equals("sudo") && argv.get(1).equals("-n")) {
                if (node.sudoWantsPassword) {
                    return ProcessResult.exited(argv, 1, "", "sudo: a password is required\n", Duration.ZERO);
                }
                argv = new ArrayList<>(argv.subList(2, argv.size()));
            }
            boolean script =
                    argv.size() > 2 && argv.get(0).equals("sh") && argv.get(1).equals("-c");
            List<String> local = new ArrayList<>();
            for (int i = 0; i < argv.size(); i++) {
                String a = argv.get(i);
                local.add(script && i == 2 || !a.startsWith("/") ? a : under(a));
            }
            if (TOOL.matcher(argv.get(0)).matches()) {
                if (!Files.isRegularFile(Path.of(local.get(0)))) {
                    return ProcessResult.exited(
                            argv, 127, "", "sudo: " + argv.get(0) + ": command not found\n", Duration.ZERO);
                }
                if (node.toolFails != null) {
                    return ProcessResult.exited(argv, 1, "", node.toolFails + "\n", Duration.ZERO);
                }
                return tool.apply(node, local.subList(1, local.size()));
            }
            ProcessRequest req =
                    ProcessRequest.of(local).timeout(r.timeout()).caps(r.maxStdoutBytes(), r.stderrTailBytes());
            boolean cut = false;
            if (stdin.isPresent()) {
                try {
                    Path in = Files.createTempFile(workDir, "stdin", ".bin");
                    long limit = node.cutAfter < 0 ? Long.MAX_VALUE : Math.max(0, node.cutAfter - sent.get());
                    long n;
                    try (InputStream src = stdin.get();
                            OutputStream out = Files.newOutputStream(in)) {
                        n = copy(src, out, limit);
                        cut = n == limit && src.read() >= 0;
                    }
                    if (node.flipByteAt >= 0 && node.flipByteAt < n) {
                        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(
                                in, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
                            ch.read(b, node.flipByteAt);
                            b.put(0, (byte) ~b.get(0)).rewind();
                            ch.write(b, node.flipByteAt);
                        }
                    }
                    sent.addAndGet(n);
                    req = req.stdin(ProcessRequest.Input.file(in));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            } else if (r.stdin() instanceof ProcessRequest.Input.Bytes b) {
                req = req.stdin(ProcessRequest.Input.bytes(b.data()));
            }
            ProcessResult res = new LocalProcessRunner().run(req);
            if (cut) {
                throw new SshException(
                        SshException.Kind.CONNECTION, target.name() + ": connection lost while running sh", null);
            }
            // The node's own argv, not the directory it stands in.
            return new ProcessResult(
                    r.argv(), res.outcome(), res.exitCode(), res.stdout(), res.stderrTail(), res.duration());
        }

        private String under(String abs) {
            return node.root.toString() + abs;
        }

        private final java.util.concurrent.atomic.AtomicBoolean closed =
                new java.util.concurrent.atomic.AtomicBoolean();

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                open.decrementAndGet();
            }
        }
    }

    private static long copy(InputStream in, OutputStream out, long limit) throws IOException {
        byte[] buf = new byte[8192];
        long total = 0;
        while (total < limit) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, limit - total));
            if (n < 0) {
                break;
            }
            out.write(buf, 0, n);
            total += n;
        }
        return total;
    }

    /** The node's corezfs: this build's CLI, in-process, on the node's directory as its root. */
    /** What the node's corezfs would do: the real command line, run on the node's root. */
    public ProcessResult realTool(Node n, List<String> args) {
        List<String> a = new ArrayList<>(args);
        if (!a.contains("--root")
                && !a.isEmpty()
                && List.of("install", "status", "uninstall").contains(a.get(0))) {
            a.add("--root");
            a.add(n.root.toString());
        }
        Cli.Run run = new Cli(workDir).run(a.toArray(String[]::new));
        return ProcessResult.exited(a, run.exitCode(), run.out(), run.err(), Duration.ZERO);
    }

    /** A bundle whose launcher the fake recognises: {@code corezfs-VERSION/bin/corezfs} in a tar.gz. */
    public static Path bundle(Path dir, String version) {
        try {
            Path tree = Files.createTempDirectory(dir, "bundle");
            Path bin = tree.resolve("corezfs-" + version + "/bin");
            Files.createDirectories(bin);
            Files.writeString(bin.resolve("corezfs"), "#!/bin/sh\necho stand-in\n", StandardCharsets.UTF_8);
            bin.resolve("corezfs").toFile().setExecutable(true);
            Path out = dir.resolve("corezfs-" + version + "-linux-x86_64.tar.gz");
            ProcessResult r = new LocalProcessRunner()
                    .run(ProcessRequest.of("tar", "-czf", out.toString(), "-C", tree.toString(), "corezfs-" + version));
            if (!r.ok()) {
                throw new IllegalStateException(r.describe());
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
