package io.corezfs.activation;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Reporter;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.archive.EntryType;
import io.corezfs.archive.Manifest;
import io.corezfs.host.HostFacts;
import io.corezfs.host.NodeConfig;
import io.corezfs.host.RootFs;
import io.corezfs.install.InstallCheck;
import io.corezfs.install.InstallState;
import io.corezfs.install.RootInstaller;
import io.corezfs.install.RootPaths;
import io.corezfs.system.FileTrees;
import io.corezfs.system.LiveSystem;
import io.corezfs.system.Systemctl;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Installs, activates, verifies and removes ZFS on the running host: the order of the steps, and what is undone
 * when one fails. Files go in through {@link RootInstaller} (staged, verified, atomic), the tree is presented on
 * {@code /usr} by {@link Presenter} and checked by {@link ActivationCheck}; this class adds the decisions only a live
 * host needs: the mode, pools that force an upgrade to wait for the next boot, rollback.
 *
 * <p>Order matters for crash safety: units are enabled only once the tree they start is complete, and a host that
 * reboots at any step either activates a complete tree (the unit checks the kernel first) or none.
 */
public final class LiveInstaller {
    static final String PENDING_DIR = "var/lib/corezfs/pending";
    static final String PENDING_UNIT = "corezfs-pending.service";
    /** Reconciles ZFS with the running kernel at every boot; enabled by every live install. */
    public static final String BOOT_UNIT = "corezfs-boot.service";
    /** Started by the boot unit only, when it builds (BUILD=boot). */
    public static final String BOOT_LATE_UNIT = "corezfs-boot-late.service";

    /** Prepares the next OS version's archive; started by corezfs-prepare.timer, which the archive's preset enables. */
    public static final String PREPARE_UNIT = "corezfs-prepare.service";

    /** The units that run this tool, written with its launcher's path by every live install, outside any archive. */
    static final List<String> TOOL_UNITS = List.of(BOOT_UNIT, BOOT_LATE_UNIT, PREPARE_UNIT);
    /** Room beyond BOOT_FETCH_TIMEOUT for the boot unit: one archive's download (bounded at 10 minutes) and apply. */
    public static final long BOOT_HEADROOM_SECONDS = 900;

    private final Path root;
    private final LiveSystem sys;
    private final RootInstaller files;
    private final ArchiveReader reader;
    private final Reporter reporter;
    private final Optional<Path> launcher;
    private final Systemctl systemctl;
    private final Presenter presenter;
    private final ActivationCheck check;

    /**
     * @param root     the host's root: {@code /} in production, a temporary tree in tests
     * @param launcher this tool's launcher script, which a staged upgrade runs at the next boot; empty when unknown
     */
    public LiveInstaller(
            Path root,
            LiveSystem sys,
            RootInstaller files,
            ArchiveReader reader,
            Reporter reporter,
            Optional<Path> launcher) {
        this.root = root;
        this.sys = sys;
        this.files = files;
        this.reader = reader;
        this.reporter = reporter;
        this.launcher = launcher;
        this.systemctl = new Systemctl(sys);
        this.presenter = new Presenter(root, sys, systemctl, reporter);
        this.check = new ActivationCheck(root, sys);
    }

    public enum Outcome {
        /** Installed, activated and verified now. */
        ACTIVATED,
        /** The same archive was already installed and active: nothing was done. */
        UNCHANGED,
        /** Pools are imported, so the new archive applies at the next boot. */
        STAGED
    }

    public record Result(Outcome outcome, String archive, Activation mode, String detail) {}

    /** Root, systemd: without them nothing live can be done, and nothing has been changed yet. */
    public void checkPreconditions() {
        if (sys.effectiveUid() != 0) {
            throw CorezfsException.precondition("live install needs root (run it with sudo); nothing was changed");
        }
        if (!Files.isDirectory(root.resolve("run/systemd/system"))) {
            throw CorezfsException.precondition("systemd is not running on this host (no /run/systemd/system);"
                    + " use --root DIR to install into an image instead");
        }
    }

    /**
     * The mode a request resolves to: an explicit one as asked; {@code auto} keeps the mode of an existing install,
     * else picks sysext where the host has systemd-sysext.
     */
    public Activation resolveMode(Optional<Activation> requested) {
        if (requested.isPresent()) {
            if (requested.get() == Activation.SYSEXT && !presenter.hasSysext()) {
                throw CorezfsException.precondition(
                        "--mode sysext: this host has no systemd-sysext; use --mode overlay");
            }
            return requested.get();
        }
        Optional<Activation> current = LiveState.readMode(root);
        if (current.isPresent()) {
            return current.get();
        }
        return presenter.hasSysext() ? Activation.SYSEXT : Activation.OVERLAY;
    }

    /** What {@code install} is going to do, for {@code --dry-run} and for the log. */
    public List<String> plan(Path archive, HostFacts host, Activation mode) {
        ArchiveReader.Loaded head = reader.readManifest(archive);
        Manifest m = head.manifest();
        Optional<InstallState> installed = InstallState.read(root);
        List<String> plan = new ArrayList<>();
        boolean same = installed.isPresent()
                && installed.get().manifestSha256().equals(head.sha256())
                && InstallCheck.damage(root, installed.get()).isEmpty();
        if (same && LiveState.serving(root, sys, mode)) {
            plan.add("nothing to do: " + archive.getFileName() + " is installed and active (" + mode.label() + ")");
            return plan;
        }
        LiveState now = LiveState.probe(root, sys);
        if (!same && now.moduleLoaded() && !now.pools().isEmpty()) {
            plan.add("stage " + archive.getFileName() + " in /" + PENDING_DIR + " and enable " + PENDING_UNIT
                    + ": pools are imported (" + poolNames(now) + "), so the new ZFS applies at the next boot");
            return plan;
        }
        if (now.moduleLoaded() || now.usrPresented()) {
            plan.add("deactivate the running ZFS: stop its units, unload the module, withdraw /usr");
        }
        plan.add("install " + archive.getFileName() + " (ZFS " + m.zfsVersion() + ", kernel " + m.kernel()
                + ") into /opt/corezfs and /etc" + (same ? " (already in place)" : ""));
        long units = m.entries().stream()
                .filter(e -> e.type() == EntryType.FILE && e.path().startsWith("etc/systemd/system/"))
                .count();
        plan.add("enable from presets: the " + units + " units it ships in /etc/systemd/system");
        plan.add("activate in " + mode.label() + " mode: enable and start " + mode.unit() + " (disable "
                + mode.other().unit() + ")"
                + (mode == Activation.SYSEXT
                        ? "; /" + Activation.EXTENSION_LINK + " -> /opt/corezfs, systemd-sysext refresh"
                        : "; overlay lowerdir=/opt/corezfs/usr:/usr on /usr"));
        plan.add("queue zfs.target (pool import, mount, zed), as at every boot");
        plan.add("verify: /sys/module/zfs, `zfs version` reports " + m.zfsVersion()
                + " for tools and module, a stock module still loads");
        return plan;
    }

    /** Installs {@code archive} and activates it, or stages it when pools are imported. */
    public Result install(Path archive, HostFacts host, Activation mode) {
        ArchiveReader.Loaded head = reader.readManifest(archive);
        Manifest m = head.manifest();
        if (!m.kernel().equals(host.kernel())) {
            // Caught here as well as in RootInstaller so a live host never gets a --force path: a module built
            // for another kernel cannot load.
            throw CorezfsException.verification("archive " + archive.getFileName() + " was built for kernel "
                    + m.kernel() + " but this host runs " + host.kernel() + "; nothing was changed");
        }
        // Leftovers of an install cut short (kill, power loss) go first, also when this one turns out to be a no-op.
        files.recover(root);
        Optional<InstallState> before = InstallState.read(root);
        // A damaged install of the same archive is repaired like an upgrade: stopped, swapped, started, verified.
        boolean same = before.isPresent()
                && before.get().manifestSha256().equals(head.sha256())
                && InstallCheck.damage(root, before.get()).isEmpty();
        if (same && LiveState.serving(root, sys, mode)) {
            return new Result(
                    Outcome.UNCHANGED, archive.getFileName().toString(), mode, "already installed and active");
        }
        LiveState now = LiveState.probe(root, sys);
        boolean modeChange = now.mode().isPresent() && now.mode().get() != mode;
        boolean running = now.moduleLoaded() || now.usrPresented();
        if ((!same || modeChange) && running && !now.pools().isEmpty()) {
            if (modeChange) {
                throw CorezfsException.precondition(
                        "switching from " + now.mode().get().label() + " to " + mode.label()
                                + " needs ZFS stopped, but pools are imported (" + poolNames(now)
                                + "); export them first. Nothing was changed");
            }
            return stage(archive, mode, now);
        }
        // The old tree is withdrawn only once the new one is verified in staging, so a bad archive changes nothing.
        Runnable stopOld = (!same || modeChange) && running
                ? () -> presenter.deactivate(now.mode().orElse(mode), before)
                : () -> {};
        RootInstaller.Result placed = files.install(archive, root, host, false, stopOld, mode.presetRules());
        try {
            prepareMode(mode, m, host);
            presenter.activate(mode);
            check.verify(m, host.kernel());
        } catch (CorezfsException e) {
            rollback(mode, before.isEmpty());
            throw new CorezfsException(
                    ExitCode.ACTIVATION_FAILED,
                    "activation failed and was rolled back: " + e.getMessage()
                            + (before.isEmpty()
                                    ? "; the host is as before the install"
                                    : "; the files stay installed but inactive"),
                    e);
        }
        clearPending();
        String repaired = placed.repaired().isEmpty()
                ? ""
                : "repaired " + placed.repaired().size() + (placed.repaired().size() == 1 ? " file: " : " files: ")
                        + String.join(", ", placed.repaired()) + "; ";
        return new Result(
                Outcome.ACTIVATED,
                archive.getFileName().toString(),
                mode,
                repaired + "ZFS " + m.zfsVersion() + " loaded for kernel " + m.kernel());
    }

    /**
     * The boot-time half of a staged upgrade ({@code corezfs-pending.service}): swap the files in before the
     * activation unit runs; that unit then presents them as on any boot.
     */
    public void applyAtBoot(Path archive, HostFacts host) {
        Activation mode = LiveState.readMode(root).orElse(Activation.OVERLAY);
        files.install(archive, root, host, false, () -> {}, mode.presetRules());
        prepareFiles(mode, reader.readManifest(archive).manifest(), host);
    }

    /**
     * Stops and removes everything corezfs installed; pools are exported first only when asked.
     *
     * @return the locally changed files kept, or empty when corezfs was not installed here (nothing is touched then)
     */
    public Optional<List<String>> uninstall(boolean export) {
        LiveState now = LiveState.probe(root, sys);
        Optional<InstallState> before = InstallState.read(root);
        if (before.isEmpty() && now.mode().isEmpty() && !now.usrPresented()) {
            return Optional.empty();
        }
        // Everything that will be removed is checked before the first unit stops (no symlinked directories).
        files.checkRemoval(root);
        List<String> marks = new ArrayList<>(List.of(
                "etc/systemd/system/" + PENDING_UNIT,
                "etc/systemd/system/" + BOOT_UNIT,
                "etc/systemd/system/" + BOOT_LATE_UNIT,
                "etc/systemd/system/" + PREPARE_UNIT,
                Activation.EXTENSION_LINK,
                PENDING_DIR,
                Activation.MODE_FILE));
        for (Activation a : Activation.values()) {
            marks.add("etc/systemd/system/" + a.unit());
        }
        for (String m : marks) {
            RootPaths.inRoot(root, m, "remove");
        }
        if (!now.pools().isEmpty()) {
            if (!export) {
                throw CorezfsException.precondition("pools are imported (" + poolNames(now) + "); export them first"
                        + " or pass --export. Nothing was changed; pools and data are never removed");
            }
            for (LiveState.Pool p : now.pools()) {
                LiveSystem.Result r = sys.run(List.of("zpool", "export", p.name()));
                if (!r.ok()) {
                    throw CorezfsException.precondition(
                            "cannot export pool " + p.name() + ": " + r.lastLine() + "; nothing else was changed");
                }
                reporter.info("exported pool " + p.name());
            }
        }
        presenter.deactivate(now.mode().orElse(Activation.OVERLAY), before);
        for (Activation a : Activation.values()) {
            systemctl.disable(a.unit());
        }
        systemctl.disable(PENDING_UNIT);
        systemctl.disable(BOOT_UNIT);
        removeToolUnits();
        try {
            // Before the archive's files: their removal takes the directories the install created once empty.
            for (String unit : TOOL_UNITS) {
                Files.deleteIfExists(root.resolve("etc/systemd/system").resolve(unit));
            }
        } catch (IOException e) {
            throw new CorezfsException(ExitCode.UNEXPECTED, "cannot remove " + BOOT_UNIT + ": " + e, e);
        }
        List<String> kept = files.remove(root);
        try {
            Files.deleteIfExists(root.resolve("etc/systemd/system").resolve(PENDING_UNIT));
            Files.deleteIfExists(root.resolve(Activation.EXTENSION_LINK));
            FileTrees.deleteTree(root.resolve(PENDING_DIR));
            removeModeFile();
        } catch (IOException e) {
            throw new CorezfsException(ExitCode.UNEXPECTED, "removed ZFS, but not all of corezfs's marks: " + e, e);
        }
        systemctl.daemonReload();
        return Optional.of(kept);
    }

    /** The activation mode's record, and its directory once empty. */
    private void removeModeFile() throws IOException {
        Files.deleteIfExists(root.resolve(Activation.MODE_FILE));
        Path dir = root.resolve(Activation.MODE_FILE).getParent();
        if (Files.isDirectory(dir) && FileTrees.isEmpty(dir)) {
            Files.delete(dir);
        }
    }

    private Result stage(Path archive, Activation mode, LiveState now) {
        Path self = launcher.orElseThrow(() -> CorezfsException.precondition("pools are imported (" + poolNames(now)
                + "), so ZFS cannot be swapped now, and this corezfs was not started from its launcher, so it cannot"
                + " stage the upgrade for the next boot. Export the pools, or run the bundle's bin/corezfs"));
        try {
            Path dir = Files.createDirectories(root.resolve(PENDING_DIR));
            FileTrees.deleteTree(dir);
            Files.createDirectories(dir);
            Path target = dir.resolve(archive.getFileName());
            Path part = dir.resolve(archive.getFileName() + ".part");
            Files.copy(archive, part, StandardCopyOption.REPLACE_EXISTING);
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
            String unit = resource("corezfs-pending.service.in")
                    .replace("@LAUNCHER@", self.toString())
                    .replace("@ARCHIVE@", "/" + PENDING_DIR + "/" + archive.getFileName());
            Path unitFile = root.resolve("etc/systemd/system").resolve(PENDING_UNIT);
            Files.createDirectories(unitFile.getParent());
            Files.writeString(unitFile, unit);
        } catch (IOException e) {
            throw new CorezfsException(ExitCode.UNEXPECTED, "cannot stage " + archive.getFileName() + ": " + e, e);
        }
        systemctl.enableChecked(PENDING_UNIT);
        systemctl.daemonReload();
        return new Result(
                Outcome.STAGED,
                archive.getFileName().toString(),
                mode,
                "pools are imported (" + poolNames(now) + "); the new ZFS applies at the next boot");
    }

    private void clearPending() {
        if (Files.exists(root.resolve("etc/systemd/system").resolve(PENDING_UNIT), LinkOption.NOFOLLOW_LINKS)) {
            systemctl.disable(PENDING_UNIT);
            try {
                Files.deleteIfExists(root.resolve("etc/systemd/system").resolve(PENDING_UNIT));
                FileTrees.deleteTree(root.resolve(PENDING_DIR));
            } catch (IOException e) {
                reporter.warn("could not remove the staged upgrade: " + e.getMessage());
            }
            systemctl.daemonReload();
        }
    }

    /**
     * Writes the mode marks and enables the right unit; both modes' files are written before any unit starts. One
     * reload after the links are made, not one per enable and disable: each costs the manager a full reread of
     * every unit, which is seconds on a slow node (BENCHMARKS.md).
     */
    private void prepareMode(Activation mode, Manifest m, HostFacts host) {
        prepareFiles(mode, m, host);
        boolean boot = writeBootUnits();
        systemctl.disable(mode.other().unit());
        systemctl.enableChecked(mode.unit());
        if (boot) {
            systemctl.enableChecked(BOOT_UNIT);
        }
        systemctl.daemonReload();
    }

    /**
     * The boot units run this tool, so they carry its launcher's path and live outside any archive: the next archive
     * swap (at boot, by the boot unit itself) must not take them away. Without a launcher there is no path to give
     * them; the install still works, the node just does not reconcile at boot.
     */
    private boolean writeBootUnits() {
        if (launcher.isEmpty()) {
            reporter.warn("this corezfs was not started from its launcher, so " + BOOT_UNIT + " is not installed:"
                    + " after an OS update ZFS stays off until `corezfs install` is run again");
            return false;
        }
        long timeout;
        try {
            timeout =
                    NodeConfig.load(new RootFs(root)).bootFetchTimeout().value().toSeconds() + BOOT_HEADROOM_SECONDS;
        } catch (CorezfsException e) {
            // A broken corezfs.conf is reported by every command that reads it; the unit gets the longest wait.
            reporter.warn(e.getMessage());
            timeout = 3600 + BOOT_HEADROOM_SECONDS;
        }
        try {
            for (String unit : TOOL_UNITS) {
                String text = resource("/io/corezfs/units/" + unit)
                        .replace("@LAUNCHER@", launcher.get().toString())
                        .replace("@TIMEOUT@", Long.toString(timeout));
                Path file = RootPaths.inRoot(root, "etc/systemd/system/" + unit, "write");
                Files.createDirectories(file.getParent());
                Path tmp = file.resolveSibling("." + unit + ".tmp");
                Files.writeString(tmp, text);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new CorezfsException(ExitCode.UNEXPECTED, "cannot write " + BOOT_UNIT + ": " + e, e);
        }
        return true;
    }

    private void prepareFiles(Activation mode, Manifest m, HostFacts host) {
        try {
            Path unit = root.resolve("etc/systemd/system").resolve(mode.unit());
            if (!Files.exists(unit)) {
                // Archives built before this mode existed do not ship its unit; this tool's copy is the same file.
                Files.createDirectories(unit.getParent());
                Files.writeString(unit, resource("/io/corezfs/units/" + mode.unit()));
            }
            Path release = root.resolve(Activation.EXTENSION_RELEASE);
            if (mode == Activation.SYSEXT) {
                Files.createDirectories(release.getParent());
                Files.writeString(release, extensionRelease(m, host));
            } else {
                Files.deleteIfExists(release);
            }
            Path modeFile = root.resolve(Activation.MODE_FILE);
            Files.createDirectories(modeFile.getParent());
            Path tmp = modeFile.resolveSibling(".activation.tmp");
            Files.writeString(tmp, mode.label() + "\n");
            Files.move(tmp, modeFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            files.flush(root);
        } catch (IOException e) {
            throw new CorezfsException(ExitCode.UNEXPECTED, "cannot prepare " + mode.label() + " activation: " + e, e);
        }
    }

    /** Activation units this tool wrote because an older archive lacked them; a changed copy is the operator's. */
    private void removeToolUnits() {
        for (Activation a : Activation.values()) {
            Path unit = root.resolve("etc/systemd/system").resolve(a.unit());
            try {
                if (Files.isRegularFile(unit, LinkOption.NOFOLLOW_LINKS)
                        && Files.readString(unit).equals(resource("/io/corezfs/units/" + a.unit()))) {
                    Files.delete(unit);
                }
            } catch (IOException e) {
                reporter.warn("could not remove " + unit + ": " + e.getMessage());
            }
        }
    }

    /** ID, VERSION_ID and ARCHITECTURE as systemd-sysext compares them with the host's os-release. */
    static String extensionRelease(Manifest m, HostFacts host) {
        String arch = switch (m.arch()) {
            case "x86_64", "amd64" -> "x86-64";
            case "aarch64", "arm64" -> "arm64";
            default -> m.arch();
        };
        return "# corezfs: ZFS " + m.zfsVersion() + " for kernel " + m.kernel() + "\n" + "ID=" + host.os()
                + "\nVERSION_ID=" + m.osVersion() + "\nARCHITECTURE=" + arch + "\n";
    }

    /** Undoes activation; after a first install also the files, so the host is as it was. */
    private void rollback(Activation mode, boolean wasFresh) {
        try {
            presenter.deactivate(mode, InstallState.read(root));
            systemctl.disable(mode.unit());
            if (wasFresh) {
                systemctl.disable(BOOT_UNIT);
                for (String unit : TOOL_UNITS) {
                    Files.deleteIfExists(root.resolve("etc/systemd/system").resolve(unit));
                }
                removeToolUnits();
                files.remove(root);
                removeModeFile();
            }
            systemctl.daemonReload();
        } catch (RuntimeException | IOException e) {
            reporter.warn("rollback was incomplete: " + e.getMessage() + "; run `corezfs uninstall` to finish it");
        }
    }

    private static String poolNames(LiveState s) {
        return String.join(", ", s.pools().stream().map(LiveState.Pool::name).toList());
    }

    private static String resource(String name) throws IOException {
        String path = name.startsWith("/") ? name : "/io/corezfs/activation/" + name;
        try (InputStream in = LiveInstaller.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IOException("missing resource " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
