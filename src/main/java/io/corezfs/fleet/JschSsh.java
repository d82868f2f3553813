package io.corezfs.fleet;

import com.jcraft.jsch.AgentIdentityRepository;
import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.HostKey;
import com.jcraft.jsch.HostKeyRepository;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchChangedHostKeyException;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.JSchUnknownHostKeyException;
import com.jcraft.jsch.SSHAgentConnector;
import com.jcraft.jsch.UnixDomainSocketFactory;
import com.jcraft.jsch.UserInfo;
import io.corezfs.system.ProcessRequest;
import io.corezfs.system.ProcessResult;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@link Ssh} through JSch (the maintained fork). Host keys are checked strictly against one known_hosts file;
 * {@code acceptNewHostKeys} adds unknown keys to it, as OpenSSH's {@code accept-new} does, and never a changed one.
 */
public final class JschSsh implements Ssh {
    /**
     * The key exchanges offered: JSch's, less ML-KEM. JSch 2.28.8 takes ML-KEM from a newer Bouncy Castle than the
     * 1.83 here (it wants {@code org.bouncycastle.crypto.params.MLKEM*}), so its own check always dropped it; now it is
     * not offered at all. {@code JschSshAlgorithmsTest} fails once it works, to offer it again.
     */
    static final String KEXES = java.util.Arrays.stream(JSch.getConfig("kex").split(","))
            .filter(k -> !k.startsWith("mlkem"))
            .collect(java.util.stream.Collectors.joining(","));

    /**
     * The key exchanges JSch tries out before it offers them: the JDK's own. Its default list also tries ML-KEM and
     * sntrup761, as its cipher check tries ChaCha20, and those come from Bouncy Castle, whose signed jars cost a
     * command 0.1 s of CPU to load (BENCHMARKS.md, "Fleet rollout over SSH"): loaded now only if a node picks
     * ChaCha20, which {@code JschSshAlgorithmsTest} holds to work.
     */
    static final String CHECKED_KEXES = "curve25519-sha256,curve25519-sha256@libssh.org,curve448-sha512";

    private static final String PREFERRED_CIPHERS =
            "aes128-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes192-ctr,aes256-ctr,chacha20-poly1305@openssh.com";

    private final SshSettings settings;
    /** Sessions connect in parallel; appends to known_hosts must not interleave. */
    private final Object knownHostsLock = new Object();

    public JschSsh(SshSettings settings) {
        this.settings = settings;
    }

    @Override
    public Ssh.Session connect(SshTarget t) {
        Optional<com.jcraft.jsch.Session> jump = t.jump().map(j -> open(j, Optional.empty()));
        try {
            return new JschSession(t, open(t, jump), jump, settings.connectTimeout());
        } catch (RuntimeException e) {
            jump.ifPresent(com.jcraft.jsch.Session::disconnect);
            throw e;
        }
    }

    /**
     * An authenticated session to {@code t}, directly or through a direct-tcpip channel of {@code via} (ProxyJump):
     * either way the host key is checked against the same file, under the name the node is known by.
     */
    private com.jcraft.jsch.Session open(SshTarget t, Optional<com.jcraft.jsch.Session> via) {
        JSch jsch = new JSch();
        Recorder keys;
        try {
            synchronized (knownHostsLock) {
                if (Files.isRegularFile(settings.knownHosts())) {
                    jsch.setKnownHosts(settings.knownHosts().toString());
                }
            }
            keys = new Recorder(jsch.getHostKeyRepository(), t);
            jsch.setHostKeyRepository(keys);
            identities(jsch, t);
        } catch (JSchException e) {
            throw new SshException(SshException.Kind.AUTH, t.name() + ": " + e.getMessage(), e);
        }
        com.jcraft.jsch.Session s;
        try {
            s = jsch.getSession(t.user(), t.host(), t.port());
            s.setConfig("StrictHostKeyChecking", "yes");
            s.setConfig("PreferredAuthentications", "publickey");
            s.setConfig("HashKnownHosts", "no");
            // AES-CTR first (with JSch's default MAC, hmac-sha2-256-etm), as OpenSSH orders them: a push is bound by
            // the cipher, and in a JVM that has just started, CTR with the MAC costs about a third less CPU than
            // AES-GCM until the JIT has compiled GCM's intrinsic path (BENCHMARKS.md, "Fleet rollout over SSH").
            s.setConfig("cipher.c2s", PREFERRED_CIPHERS);
            s.setConfig("cipher.s2c", PREFERRED_CIPHERS);
            s.setConfig("kex", KEXES);
            s.setConfig("CheckKexes", CHECKED_KEXES);
            s.setConfig("CheckCiphers", "");
            int ms = (int) Math.min(Integer.MAX_VALUE, settings.connectTimeout().toMillis());
            // A node that stops answering mid-run is noticed within about three connect timeouts.
            s.setServerAliveInterval(ms);
            s.setServerAliveCountMax(3);
            if (via.isPresent()) {
                s.setProxy(new JumpProxy(via.get()));
            }
            s.connect(ms);
        } catch (JSchException e) {
            throw classify(t, e, keys);
        }
        if (keys.accepted.get() != null) {
            keys.recordAccepted();
        }
        return s;
    }

    /**
     * The node's TCP stream as a direct-tcpip channel of the jump host's session, as OpenSSH's ProxyJump makes it: the
     * jump host opens the connection to the node, and the node's SSH runs end to end inside it (the jump host sees
     * only ciphertext).
     */
    private static final class JumpProxy implements com.jcraft.jsch.Proxy {
        private final com.jcraft.jsch.Session jump;
        private com.jcraft.jsch.Channel channel;
        private InputStream in;
        private OutputStream out;

        JumpProxy(com.jcraft.jsch.Session jump) {
            this.jump = jump;
        }

        @Override
        public void connect(com.jcraft.jsch.SocketFactory unused, String host, int port, int timeout) throws Exception {
            channel = jump.getStreamForwarder(host, port);
            in = channel.getInputStream();
            out = channel.getOutputStream();
            try {
                channel.connect(timeout);
            } catch (JSchException e) {
                // Refused, unresolvable or unreachable from the jump host: SSH tells no more than that.
                throw new ConnectException("the jump host could not open a connection to " + host + ":" + port);
            }
        }

        @Override
        public InputStream getInputStream() {
            return in;
        }

        @Override
        public OutputStream getOutputStream() {
            return out;
        }

        @Override
        public java.net.Socket getSocket() {
            return null;
        }

        @Override
        public void close() {
            if (channel != null) {
                channel.disconnect();
            }
        }
    }

    private void identities(JSch jsch, SshTarget t) throws JSchException {
        List<Path> files = t.identities();
        if (files.isEmpty() && settings.agentSocket().isPresent()) {
            try {
                jsch.setIdentityRepository(new AgentIdentityRepository(new SSHAgentConnector(
                        new UnixDomainSocketFactory(), settings.agentSocket().get())));
            } catch (com.jcraft.jsch.AgentProxyException e) {
                throw new JSchException(
                        "cannot use ssh-agent at " + settings.agentSocket().get() + ": " + e.getMessage());
            }
            return;
        }
        if (files.isEmpty()) {
            files = settings.defaultIdentities().stream()
                    .filter(Files::isRegularFile)
                    .toList();
        }
        for (Path f : files) {
            if (!Files.isRegularFile(f)) {
                throw new JSchException("identity file " + f + " does not exist");
            }
            jsch.addIdentity(f.toString());
        }
    }

    private SshException classify(SshTarget t, JSchException e, Recorder keys) {
        String where = t.name() + " (" + t.address() + ")";
        if (keys.revoked.get() != null) {
            return new SshException(
                    SshException.Kind.HOST_KEY,
                    where + ": host key REVOKED: it offered " + keys.offered() + ", which " + settings.knownHosts()
                            + " marks @revoked; nothing was run. Something may be impersonating the node",
                    e);
        }
        if (e instanceof JSchChangedHostKeyException || keys.changed.get() != null) {
            return new SshException(
                    SshException.Kind.HOST_KEY,
                    where + ": host key CHANGED: it offered " + keys.offered() + ", which differs from the key "
                            + settings.knownHosts() + " has for it; nothing was run. If the node was reinstalled,"
                            + " remove the old key (ssh-keygen -R) and check the new one",
                    e);
        }
        if (e instanceof JSchUnknownHostKeyException || keys.unknown.get() != null) {
            return new SshException(
                    SshException.Kind.HOST_KEY,
                    where + ": host key unknown: " + keys.offered() + " is not in " + settings.knownHosts()
                            + "; nothing was run. Check the fingerprint and add it, or pass --accept-new-host-keys",
                    e);
        }
        Throwable c = e.getCause();
        if (c instanceof ConnectException
                || c instanceof SocketTimeoutException
                || c instanceof NoRouteToHostException
                || c instanceof UnknownHostException
                || String.valueOf(e.getMessage()).startsWith("timeout")) {
            // "within N s" only where the time ran out: a refused port or an unknown name answered at once.
            boolean timedOut = c instanceof SocketTimeoutException
                    || String.valueOf(e.getMessage()).startsWith("timeout");
            return new SshException(
                    SshException.Kind.UNREACHABLE,
                    where + ": cannot connect"
                            + (timedOut ? " within " + settings.connectTimeout().toSeconds() + " s" : "") + ": "
                            + (c != null ? c.getMessage() : e.getMessage()),
                    e);
        }
        if (String.valueOf(e.getMessage()).startsWith("Auth")) {
            return new SshException(
                    SshException.Kind.AUTH,
                    where + ": authentication failed: the node accepted none of the keys offered ("
                            + (t.identities().isEmpty() ? "agent or default key files" : t.identities()) + ")",
                    e);
        }
        return new SshException(SshException.Kind.CONNECTION, where + ": " + e.getMessage(), e);
    }

    /** SHA256:base64 of a key blob, as {@code ssh-keygen -l} prints it. */
    static String fingerprint(byte[] blob) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(blob);
            return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The key type named at the start of an SSH key blob. */
    static String keyType(byte[] blob) {
        if (blob.length < 4) {
            return "unknown";
        }
        int n = ((blob[0] & 0xff) << 24) | ((blob[1] & 0xff) << 16) | ((blob[2] & 0xff) << 8) | (blob[3] & 0xff);
        if (n <= 0 || n > 64 || 4 + n > blob.length) {
            return "unknown";
        }
        return new String(blob, 4, n, StandardCharsets.US_ASCII);
    }

    /** Checks against the file, remembers what the node offered, and accepts a new key when allowed. */
    private final class Recorder implements HostKeyRepository {
        private final HostKeyRepository base;
        private final SshTarget target;
        final AtomicReference<String> unknown = new AtomicReference<>();
        final AtomicReference<String> changed = new AtomicReference<>();
        final AtomicReference<String> revoked = new AtomicReference<>();
        final AtomicReference<String> accepted = new AtomicReference<>();
        private final AtomicReference<byte[]> offeredKey = new AtomicReference<>();
        private String offeredHost;

        Recorder(HostKeyRepository base, SshTarget target) {
            this.base = base;
            this.target = target;
        }

        String offered() {
            byte[] k = offeredKey.get();
            return k == null ? "a key" : keyType(k) + " " + fingerprint(k);
        }

        @Override
        public int check(String host, byte[] key) {
            offeredKey.set(key);
            offeredHost = host;
            // Before anything else, so neither a plain line for the same key nor --accept-new-host-keys lets it in.
            String offered = Base64.getEncoder().encodeToString(key);
            HostKey[] known = base.getHostKey(host, null);
            for (HostKey k : known == null ? new HostKey[0] : known) {
                if ("@revoked".equals(k.getMarker()) && offered.equals(k.getKey())) {
                    revoked.set(host);
                    return CHANGED;
                }
            }
            int r = base.check(host, key);
            if (r == CHANGED) {
                changed.set(host);
                return CHANGED;
            }
            if (r == NOT_INCLUDED) {
                if (settings.acceptNewHostKeys()) {
                    accepted.set(host);
                    return OK;
                }
                unknown.set(host);
            }
            return r;
        }

        /** Written only once the session is up: a key for a handshake that failed later is not recorded. */
        void recordAccepted() {
            byte[] k = offeredKey.get();
            String line =
                    offeredHost + " " + keyType(k) + " " + Base64.getEncoder().encodeToString(k) + "\n";
            synchronized (knownHostsLock) {
                try {
                    Path f = settings.knownHosts();
                    if (f.getParent() != null) {
                        Files.createDirectories(f.getParent());
                    }
                    Files.writeString(
                            f,
                            line,
                            StandardCharsets.US_ASCII,
                            StandardOpenOption.CREATE,
                            StandardOpenOption.APPEND,
                            StandardOpenOption.WRITE);
                } catch (IOException e) {
                    throw new SshException(
                            SshException.Kind.HOST_KEY,
                            target.name() + ": cannot record its new host key in " + settings.knownHosts() + ": "
                                    + e.getMessage(),
                            e);
                }
            }
        }

        @Override
        public void add(HostKey hostkey, UserInfo ui) {
            // Never through JSch's own prompt path: accept-new is decided in check().
        }

        @Override
        public void remove(String host, String type) {}

        @Override
        public void remove(String host, String type, byte[] key) {}

        @Override
        public String getKnownHostsRepositoryID() {
            return base.getKnownHostsRepositoryID();
        }

        @Override
        public HostKey[] getHostKey() {
            return base.getHostKey();
        }

        @Override
        public HostKey[] getHostKey(String host, String type) {
            return base.getHostKey(host, type);
        }
    }

    private static final class JschSession implements Ssh.Session {
        private final SshTarget target;
        private final com.jcraft.jsch.Session session;
        private final Optional<com.jcraft.jsch.Session> jump;
        private final Duration connectTimeout;
        private final AtomicLong sent = new AtomicLong();

        JschSession(
                SshTarget target,
                com.jcraft.jsch.Session session,
                Optional<com.jcraft.jsch.Session> jump,
                Duration connectTimeout) {
            this.target = target;
            this.session = session;
            this.jump = jump;
            this.connectTimeout = connectTimeout;
        }

        @Override
        public long bytesSent() {
            return sent.get();
        }

        @Override
        public ProcessResult run(ProcessRequest r, Optional<InputStream> stdin) {
            List<String> argv = r.argv();
            String command = RemoteShell.command(r);
            long start = System.nanoTime();
            long deadline = start + r.timeout().toNanos();
            ChannelExec ch;
            try {
                ch = (ChannelExec) session.openChannel("exec");
                ch.setCommand(command);
                ch.setInputStream(null);
            } catch (JSchException e) {
                throw lost(e);
            }
            Capture out = new Capture(r.maxStdoutBytes(), false);
            Capture err = new Capture(r.stderrTailBytes(), true);
            Thread outT;
            Thread errT;
            OutputStream toRemote;
            try {
                InputStream o = ch.getInputStream();
                InputStream e = ch.getErrStream();
                toRemote = ch.getOutputStream();
                ch.connect((int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
                outT = out.drain(o, "ssh-out-" + target.name());
                errT = err.drain(e, "ssh-err-" + target.name());
            } catch (JSchException | IOException e) {
                ch.disconnect();
                throw lost(e);
            }
            InputStream input = stdin.orElseGet(() -> input(r.stdin()));
            AtomicReference<IOException> sendFailure = new AtomicReference<>();
            Thread inT = new Thread(
                    () -> {
                        byte[] buf = new byte[64 << 10];
                        try (InputStream in = input;
                                OutputStream os = toRemote) {
                            int n;
                            while ((n = in.read(buf)) > 0) {
                                os.write(buf, 0, n);
                                sent.addAndGet(n);
                            }
                            os.flush();
                        } catch (IOException e) {
                            sendFailure.set(e);
                        }
                    },
                    "ssh-in-" + target.name());
            inT.setDaemon(true);
            inT.start();
            try {
                while (!ch.isClosed()) {
                    if (System.nanoTime() > deadline) {
                        ch.disconnect();
                        join(outT, errT);
                        return ProcessResult.timedOut(argv, out.text(), err.text(), r.timeout());
                    }
                    if (!session.isConnected()) {
                        break;
                    }
                    Thread.sleep(5);
                }
                join(outT, errT);
            } catch (InterruptedException e) {
                ch.disconnect();
                Thread.currentThread().interrupt();
                return ProcessResult.interrupted(
                        argv, out.text(), err.text(), Duration.ofNanos(System.nanoTime() - start));
            }
            int code = ch.getExitStatus();
            ch.disconnect();
            if (code < 0) {
                IOException f = sendFailure.get();
                throw new SshException(
                        SshException.Kind.CONNECTION,
                        target.name() + ": connection lost while running " + argv.get(0)
                                + (f == null ? "" : " (" + f.getMessage() + ")"),
                        f);
            }
            return ProcessResult.exited(
                    argv, code, out.text(), err.text(), Duration.ofNanos(System.nanoTime() - start));
        }

        static InputStream input(ProcessRequest.Input in) {
            if (in instanceof ProcessRequest.Input.Bytes b) {
                return new ByteArrayInputStream(b.data());
            }
            if (in instanceof ProcessRequest.Input.FromFile f) {
                return open(f.file());
            }
            return InputStream.nullInputStream();
        }

        private static InputStream open(Path f) {
            try {
                return Files.newInputStream(f);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private static void join(Thread a, Thread b) throws InterruptedException {
            a.join(5000);
            b.join(5000);
        }

        private SshException lost(Exception e) {
            return new SshException(
                    SshException.Kind.CONNECTION, target.name() + ": connection lost: " + e.getMessage(), e);
        }

        @Override
        public void close() {
            session.disconnect();
            jump.ifPresent(com.jcraft.jsch.Session::disconnect);
        }
    }

    /** Reads a stream to its end, keeping its head (stdout) or its tail (stderr) up to a cap. */
    private static final class Capture {
        private final int cap;
        private final boolean tail;
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private byte[] ring;

        Capture(int cap, boolean tail) {
            this.cap = cap;
            this.tail = tail;
        }

        Thread drain(InputStream in, String name) {
            Thread t = new Thread(
                    () -> {
                        byte[] buf = new byte[16 << 10];
                        try (in) {
                            int n;
                            while ((n = in.read(buf)) > 0) {
                                keep(buf, n);
                            }
                        } catch (IOException e) {
                            // The channel closed under the reader: what was read is what there is.
                        }
                    },
                    name);
            t.setDaemon(true);
            t.start();
            return t;
        }

        private synchronized void keep(byte[] buf, int n) {
            if (!tail) {
                int room = cap - kept.size();
                if (room > 0) {
                    kept.write(buf, 0, Math.min(room, n));
                }
                return;
            }
            kept.write(buf, 0, n);
            if (kept.size() > 2 * Math.max(cap, 1)) {
                byte[] all = kept.toByteArray();
                kept.reset();
                kept.write(all, all.length - cap, cap);
            }
        }

        synchronized String text() {
            byte[] all = kept.toByteArray();
            if (tail && all.length > cap) {
                all = java.util.Arrays.copyOfRange(all, all.length - cap, all.length);
            }
            return new String(all, StandardCharsets.UTF_8);
        }
    }

    /** Default key files, in OpenSSH's order. */
    public static List<Path> defaultIdentities(Path home) {
        List<Path> out = new ArrayList<>();
        for (String n : List.of("id_ed25519", "id_ecdsa", "id_rsa")) {
            out.add(home.resolve(".ssh").resolve(n));
        }
        return out;
    }
}
