package io.corezfs.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One run of the lab VM (lab/vm-run.sh): fresh disks on {@link #start}, the same disks again on {@link #reboot}
 * (state kept, as after a reboot of a real node), deleted on {@link #close}. Each boot runs {@code run.sh} from the
 * inject directory as root in the guest and yields a {@link VmBoot}: vm-run.sh's exit code (run.sh's own, or 124/125
 * for a timeout or a boot that ended without a result) and what the script printed on the serial console.
 *
 * <p>Run names are unique per JVM and start ({@code it-<label>-<time>-<n>}), so tests never share disks. Before the
 * run is deleted, each boot's console log and output are copied to {@code target/vm-it/<name>/} for diagnosis.
 */
public final class VmLab implements AutoCloseable {
    private static final Path REPO = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    private static final AtomicInteger SEQ = new AtomicInteger();
    /** Extra time the Java side waits beyond vm-run.sh's own --timeout: run set-up, inject disk, poweroff. */
    private static final Duration SLACK = Duration.ofMinutes(4);

    private final String name;
    private final Path work;
    private final List<VmBoot> boots = new ArrayList<>();
    private boolean started;
    /** The kernel (uname -r) the next boots start; null: vm-run.sh's default, the lab kernel. */
    private String kernel;

    private VmLab(String name) {
        this.name = name;
        this.work = REPO.resolve("target/vm-it").resolve(name);
    }

    /** A new, not yet booted run; {@code label} names it in logs (letters, digits, dashes). */
    public static VmLab create(String label) {
        String time = LocalDateTime.now().format(DateTimeFormatter.ofPattern("HHmmss"));
        VmLab vm = new VmLab(
                "it-" + label + "-" + time + "-" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet());
        try {
            Files.createDirectories(vm.inject());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return vm;
    }

    /** Fails (CI) or skips (a developer's machine) without qemu and the VM image (sudo lab/vm-image.sh). */
    public static void requireVm() {
        Requirements.need(onPath("qemu-system-x86_64") && onPath("qemu-img"), "qemu (run: sudo lab/vm-image.sh)");
        Requirements.need(
                Files.isRegularFile(imageDir().resolve("root.img")),
                "the lab VM image under " + imageDir() + " (run: sudo lab/vm-image.sh)");
    }

    public static Path imageDir() {
        return Lab.dir().resolve("vm/image/" + Lab.flatcarVersion() + "-" + Lab.kernel());
    }

    public static Path repo() {
        return REPO;
    }

    public String name() {
        return name;
    }

    /** The directory whose content the first boot injects (the guest's /root/inject). Fill it before {@link #start}. */
    public Path inject() {
        return work.resolve("inject");
    }

    /** Copies a scenario script or helper from src/test/resources/io/corezfs/vm into the inject directory. */
    public VmLab script(String resource, String as) {
        try (InputStream in = VmLab.class.getResourceAsStream("/io/corezfs/vm/" + resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no resource io/corezfs/vm/" + resource);
            }
            Path to = inject().resolve(as);
            Files.createDirectories(to.getParent());
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
            to.toFile().setExecutable(true, false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Puts {@code file} into the inject directory as {@code as}: a hard link when possible (no copy), else a copy. */
    public VmLab file(Path file, String as) {
        try {
            Path to = inject().resolve(as);
            Files.createDirectories(to.getParent());
            Files.deleteIfExists(to);
            try {
                Files.createLink(to, file.toRealPath());
            } catch (IOException | UnsupportedOperationException e) {
                Files.copy(file, to, StandardCopyOption.COPY_ATTRIBUTES);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Adds to {@code scenario.env} (sourced by vmlib.sh): KEY=value lines, values single-quoted. */
    public VmLab env(String... keyValues) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            b.append(keyValues[i])
                    .append("='")
                    .append(keyValues[i + 1].replace("'", "'\\''"))
                    .append("'\n");
        }
        try {
            Files.writeString(
                    inject().resolve("scenario.env"),
                    b.toString(),
                    StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /**
     * Boots {@code kv} from now on: the image carries the lab kernel and the next target's (lab/vm-image.sh), as a node
     * has the running and the updated OS on its two /usr partitions. Booting the other one is the update, or the
     * rollback, as the node sees it.
     */
    public VmLab kernel(String kv) {
        this.kernel = kv;
        return this;
    }

    /** vm-run.sh options for the boots from now on (another initrd, a fw_cfg file); none by default. */
    private List<String> bootOptions = List.of();

    /** Passes {@code options} to vm-run.sh for every boot from now on; call with none to stop. */
    public VmLab bootOptions(String... options) {
        this.bootOptions = List.of(options);
        return this;
    }

    /** Where vm-run.sh keeps this run's disks and console logs (until {@link #close}). */
    public Path runDir() {
        return Lab.dir().resolve("vm/runs").resolve(name);
    }

    /** Runs a lab script with arguments (root, in the repo), its output appended to lab.log; its exit code. */
    public int lab(Duration timeout, String... command) {
        return run(List.of(command), timeout);
    }

    /** Port on 127.0.0.1 the guest reaches as 10.0.2.100:8080 (qemu user networking, restrict=on); 0: no NIC. */
    private int guestfwd;

    /** Gives every boot from now on one NIC whose only way out is 10.0.2.100:8080, forwarded to 127.0.0.1:port. */
    public VmLab guestfwd(int port) {
        this.guestfwd = port;
        return this;
    }

    /** Makes the run's fresh disks without booting them (lab/vm-ignition-initrd.sh --run then swaps their base). */
    public void prepare() {
        run(List.of("bash", REPO.resolve("lab/vm-run.sh").toString(), "prepare", name), Duration.ofMinutes(10));
    }

    /** The first boot of a run made by {@link #prepare}: its disks as Ignition left them, with the inject directory. */
    public VmBoot firstBoot(Duration timeout, String... append) {
        VmBoot b = boot("continue", List.of("--inject", inject().toString()), timeout, append);
        started = true;
        return b;
    }

    private int run(List<String> cmd, Duration timeout) {
        try {
            Process p = new ProcessBuilder(cmd)
                    .directory(REPO.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(
                            work.resolve("lab.log").toFile()))
                    .start();
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                p.destroy();
                p.waitFor(30, TimeUnit.SECONDS);
                throw new AssertionError(cmd + " did not return within " + timeout);
            }
            return p.exitValue();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Makes the run (fresh disks) and boots it with the inject directory. */
    public VmBoot start(Duration timeout, String... append) {
        VmBoot b = boot("start", List.of("--inject", inject().toString()), timeout, append);
        started = true;
        return b;
    }

    /** Boots the same disks again; the guest runs the run.sh the first boot copied to /root/inject, with LAB_BOOT+1. */
    public VmBoot reboot(Duration timeout, String... append) {
        if (!started) {
            throw new IllegalStateException("reboot before start");
        }
        return boot("continue", List.of(), timeout, append);
    }

    private VmBoot boot(String command, List<String> extra, Duration timeout, String... append) {
        List<String> cmd = new ArrayList<>(List.of(
                "bash",
                REPO.resolve("lab/vm-run.sh").toString(),
                command,
                name,
                "--timeout",
                Long.toString(timeout.toSeconds())));
        cmd.addAll(extra);
        if (kernel != null) {
            cmd.add("--kernel");
            cmd.add(kernel);
        }
        cmd.addAll(bootOptions);
        if (guestfwd > 0) {
            cmd.add("--guestfwd");
            cmd.add(Integer.toString(guestfwd));
        }
        if (append.length > 0) {
            cmd.add("--append");
            cmd.add(String.join(" ", append));
        }
        int n = boots.size() + 1;
        Path out = work.resolve("boot-" + n + ".stdout");
        Path err = work.resolve("boot-" + n + ".stderr");
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(REPO.toFile())
                .redirectOutput(out.toFile())
                .redirectError(err.toFile());
        long t0 = System.nanoTime();
        try {
            Process p = pb.start();
            if (!p.waitFor(timeout.plus(SLACK).toSeconds(), TimeUnit.SECONDS)) {
                // vm-run.sh stops its own qemu (by PID) on TERM; only our direct child is signalled here.
                p.destroy();
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor();
                }
                throw new AssertionError("vm-run.sh " + command + " " + name + " did not return within "
                        + timeout.plus(SLACK) + "\n" + tail(err));
            }
            VmBoot b = new VmBoot(
                    n,
                    p.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8),
                    Duration.ofNanos(System.nanoTime() - t0));
            boots.add(b);
            keepCrashReports(b);
            System.out.printf(
                    "[vm %s] boot %d: rc=%d in %.1f s%n%s%n",
                    name,
                    n,
                    b.exitCode(),
                    b.elapsed().toMillis() / 1000.0,
                    b.output().indent(2));
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /**
     * The guest prints every JVM crash report between HS-ERR-BEGIN/HS-ERR-END (vmlib.sh's jvm_check, which also fails
     * a check, so the report is in the failure's text too); each is kept as a file beside the boot's output.
     */
    private void keepCrashReports(VmBoot b) throws IOException {
        List<String> lines = b.output().lines().map(String::strip).toList();
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).startsWith("HS-ERR-BEGIN ")) {
                continue;
            }
            String guestPath = lines.get(i).substring("HS-ERR-BEGIN ".length());
            int end = lines.subList(i, lines.size()).indexOf("HS-ERR-END");
            List<String> report = lines.subList(i + 1, end < 0 ? lines.size() : i + end);
            Path f =
                    work.resolve("boot-" + b.number() + "-" + Path.of(guestPath).getFileName());
            Files.write(f, report, StandardCharsets.UTF_8);
            System.out.println("[vm " + name + "] boot " + b.number() + ": the JVM crashed in the guest; report: " + f);
        }
    }

    public List<VmBoot> boots() {
        return List.copyOf(boots);
    }

    /**
     * Deletes the run (vm-run.sh rm), after copying its console logs next to the boots' output under
     * target/vm-it/NAME/. COREZFS_VM_KEEP=1 keeps the run's disks for a look with {@code lab/vm-run.sh shell NAME}.
     */
    @Override
    public void close() {
        Path runDir = Lab.dir().resolve("vm/runs").resolve(name);
        try {
            if (Files.isDirectory(runDir)) {
                try (var s = Files.list(runDir)) {
                    for (Path f : s.filter(f ->
                                    f.getFileName().toString().matches("boot-\\d+\\.(console\\.log|out|rc|qemu\\.log)"))
                            .toList()) {
                        Files.copy(f, work.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            // The payload links are not needed any more; the scripts and logs stay.
            try (var s = Files.walk(inject())) {
                for (Path f : s.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS))
                        .filter(f -> f.getFileName().toString().endsWith(".tar.gz"))
                        .toList()) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            System.err.println("[vm " + name + "] could not keep the logs: " + e);
        }
        if ("1".equals(System.getenv("COREZFS_VM_KEEP"))) {
            System.out.println("[vm " + name + "] kept (COREZFS_VM_KEEP=1): lab/vm-run.sh shell " + name);
            return;
        }
        try {
            Process p = new ProcessBuilder("bash", REPO.resolve("lab/vm-run.sh").toString(), "rm", name)
                    .directory(REPO.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            p.waitFor(2, TimeUnit.MINUTES);
        } catch (IOException e) {
            System.err.println("[vm " + name + "] rm failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String tail(Path f) {
        try {
            List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/bin", tool));
    }
}
