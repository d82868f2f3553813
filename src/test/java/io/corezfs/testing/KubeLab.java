package io.corezfs.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The lab's real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager on 127.0.0.1), built by
 * lab/k8s.sh from Debian's source package and started by lab/k8s-up.sh. One instance per test class: {@link #up}
 * starts a fresh cluster, {@link #down} stops exactly the processes it started. There is one control plane per
 * instance (fixed ports, one state directory), so one test class uses an instance at a time: {@link #up} first stops
 * whatever an earlier, aborted run left running in it. Classes that may run at the same time (CI's two lanes) take
 * different instances (lab/k8s-lib.sh: {@code LAB_K8S_INSTANCE}, ports raised by 10 per instance).
 */
public final class KubeLab {
    /** A cold build of Kubernetes takes 10-15 minutes on two shared cores; a cached one is a stamp check. */
    private static final Duration BUILD = Duration.ofMinutes(45);

    private static final Duration START = Duration.ofMinutes(4);

    /**
     * lab/k8s.sh (and setup-host.sh, which it runs) take their locks without waiting, and k8s-up.sh runs k8s.sh: two
     * classes starting control planes at once must not both be in these scripts. Held while one starts (seconds when
     * the build is cached), not while it runs.
     */
    private static final Object START_LOCK = new Object();

    private final int instance;
    private final Path kubeconfig;
    private final Path bin;

    private KubeLab(int instance, Path kubeconfig, Path bin) {
        this.instance = instance;
        this.kubeconfig = kubeconfig;
        this.bin = bin;
    }

    /** The outcome of a command: exit code, stdout, stderr. */
    public record Result(int code, String out, String err) {
        public String describe() {
            return "exit " + code + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    /**
     * Fails (CI) or skips (a developer's machine) without what the lab scripts need: root (they install Debian's Go,
     * rsync and etcd-server with apt) on a Debian host.
     */
    public static void require() {
        Requirements.need(isRoot(), "root, for lab/k8s.sh's apt-get install and build");
        Requirements.need(
                Files.isExecutable(Path.of("/usr/bin/apt-get")) && Files.isExecutable(Path.of("/usr/bin/dpkg-query")),
                "a Debian host with apt (lab/k8s.sh builds from Debian's kubernetes source package)");
    }

    /** Builds (or finds cached) and starts a fresh control plane: instance 0. */
    public static KubeLab up() throws IOException, InterruptedException {
        return up(0);
    }

    /** Builds (or finds cached) and starts a fresh control plane as instance {@code instance} (0-9). */
    public static KubeLab up(int instance) throws IOException, InterruptedException {
        require();
        if (instance < 0 || instance > 9) {
            throw new IllegalArgumentException("instance " + instance);
        }
        synchronized (START_LOCK) {
            Result build =
                    run(BUILD, null, "bash", VmLab.repo().resolve("lab/k8s.sh").toString());
            if (build.code() != 0) {
                throw new AssertionError("lab/k8s.sh failed\n" + build.describe());
            }
            Path bin = Path.of(lastLine(build.out())).resolve("bin");
            // A fresh cluster: whatever an earlier, aborted run left is stopped first (by its recorded PIDs).
            script(instance, "lab/k8s-down.sh");
            Result up = script(instance, "lab/k8s-up.sh");
            return new KubeLab(instance, Path.of(lastLine(up.out())), bin);
        }
    }

    /** Stops the control plane: lab/k8s-down.sh, by the recorded PIDs. */
    public void down() throws IOException, InterruptedException {
        script(instance, "lab/k8s-down.sh");
    }

    private static Result script(int instance, String script) throws IOException, InterruptedException {
        Result r = run(
                START,
                null,
                "env",
                "LAB_K8S_INSTANCE=" + instance,
                "bash",
                VmLab.repo().resolve(script).toString());
        if (r.code() != 0) {
            throw new AssertionError(script + " failed\n" + r.describe());
        }
        return r;
    }

    /** The apiserver's URL on 127.0.0.1, as the admin kubeconfig names it. */
    public String server() throws IOException {
        return Files.readAllLines(kubeconfig).stream()
                .map(String::strip)
                .filter(l -> l.startsWith("server: "))
                .map(l -> l.substring("server: ".length()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no server in " + kubeconfig));
    }

    /** The cluster's CA certificate (PEM). */
    public Path caCertificate() {
        return stateDir().resolve("pki/ca.crt");
    }

    /** This instance's state directory: pid files, logs, certificates. */
    public Path stateDir() {
        return state(instance);
    }

    /** The admin kubeconfig (a client certificate in group system:masters). */
    public Path kubeconfig() {
        return kubeconfig;
    }

    /** The directory of the built binaries: kube-apiserver, kube-controller-manager, kubelet, kubectl. */
    public Path bin() {
        return bin;
    }

    /** $LAB_CACHE/run/k8s: instance 0's pid files, logs, certificates. */
    public static Path state() {
        return state(0);
    }

    static Path state(int instance) {
        return Lab.dir().resolve(instance == 0 ? "run/k8s" : "run/k8s-" + instance);
    }

    /** The PIDs lab/k8s-up.sh recorded, by process name. */
    public static Map<String, Long> pids() throws IOException {
        return pids(0);
    }

    static Map<String, Long> pids(int instance) throws IOException {
        Map<String, Long> pids = new TreeMap<>();
        for (String name : List.of("etcd", "kube-apiserver", "kube-controller-manager")) {
            Path f = state(instance).resolve(name + ".pid");
            if (Files.isRegularFile(f)) {
                pids.put(name, Long.parseLong(Files.readString(f).strip()));
            }
        }
        return pids;
    }

    /** The TCP and UDP sockets of the control plane's processes ({@code ss -Htuanp} lines), and those off loopback. */
    public record Sockets(List<String> ours, List<String> offLoopback) {}

    /**
     * Every socket of the three processes, listening or connected, with the ones whose local or peer address is not
     * loopback: the apiserver must never dial (nor listen on) the machine's own address.
     */
    public Sockets sockets() throws IOException, InterruptedException {
        Map<String, Long> pids = pids(instance);
        Result ss = run(Duration.ofSeconds(30), null, "ss", "-Htuanp");
        if (ss.code() != 0) {
            throw new AssertionError("ss failed\n" + ss.describe());
        }
        List<String> ours = new ArrayList<>();
        List<String> offLoopback = new ArrayList<>();
        for (String line : ss.out().lines().toList()) {
            if (pids.values().stream().noneMatch(p -> line.contains("pid=" + p + ","))) {
                continue;
            }
            ours.add(line);
            String[] f = line.trim().split("\\s+");
            // Netid State Recv-Q Send-Q Local:Port Peer:Port Process
            if (!loopback(f[4], false) || !loopback(f[5], true)) {
                offLoopback.add(line);
            }
        }
        return new Sockets(ours, offLoopback);
    }

    private static boolean loopback(String address, boolean peer) {
        String host = address.substring(0, address.lastIndexOf(':'));
        if (peer && (host.equals("0.0.0.0") || host.equals("*") || host.equals("[::]"))) {
            return true; // a listener's peer column
        }
        return host.startsWith("127.") || host.equals("[::1]") || host.startsWith("[::ffff:127.");
    }

    /** kubectl with the admin kubeconfig. */
    public Result kubectl(String... args) throws IOException, InterruptedException {
        return kubectlWithInput(null, args);
    }

    /** kubectl with the admin kubeconfig, {@code stdin} on its standard input (e.g. {@code apply -f -}). */
    public Result kubectlWithInput(String stdin, String... args) throws IOException, InterruptedException {
        List<String> cmd =
                new ArrayList<>(List.of(bin.resolve("kubectl").toString(), "--kubeconfig", kubeconfig.toString()));
        cmd.addAll(List.of(args));
        return run(Duration.ofMinutes(1), stdin, cmd.toArray(String[]::new));
    }

    /** kubectl that must succeed: its stdout. */
    public String kubectlOk(String... args) throws IOException, InterruptedException {
        Result r = kubectl(args);
        if (r.code() != 0) {
            throw new AssertionError("kubectl " + String.join(" ", args) + " failed\n" + r.describe());
        }
        return r.out();
    }

    public static Result run(Duration timeout, String stdin, String... command)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("kube-lab", ".out");
        Path err = Files.createTempFile("kube-lab", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(command)
                    .directory(VmLab.repo().toFile())
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            if (stdin == null) {
                pb.redirectInput(
                        ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            }
            Process p = pb.start();
            if (stdin != null) {
                try (var in = p.getOutputStream()) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                p.destroy();
                p.waitFor(30, TimeUnit.SECONDS);
                throw new AssertionError("timed out after " + timeout + ": " + String.join(" ", command));
            }
            return new Result(
                    p.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static String lastLine(String out) {
        List<String> lines = out.strip().lines().toList();
        if (lines.isEmpty()) {
            throw new AssertionError("a lab script printed no path");
        }
        return lines.get(lines.size() - 1).strip();
    }

    private static boolean isRoot() {
        try {
            return "0"
                    .equals(Files.readAllLines(Path.of("/proc/self/status")).stream()
                            .filter(l -> l.startsWith("Uid:"))
                            .map(l -> l.split("\\s+")[1])
                            .findFirst()
                            .orElse(""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
