package io.corezfs.activation;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Reporter;
import io.corezfs.archive.ManifestEntry;
import io.corezfs.install.InstallState;
import io.corezfs.system.LiveSystem;
import io.corezfs.system.Systemctl;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Presents an installed tree on the live host's {@code /usr} in one mode, and withdraws it. */
final class Presenter {
    private final Path root;
    private final LiveSystem sys;
    private final Systemctl systemctl;
    private final Reporter reporter;

    Presenter(Path root, LiveSystem sys, Systemctl systemctl, Reporter reporter) {
        this.root = root;
        this.sys = sys;
        this.systemctl = systemctl;
        this.reporter = reporter;
    }

    boolean hasSysext() {
        return Files.isExecutable(root.resolve("usr/bin/systemd-sysext"))
                || Files.isExecutable(root.resolve("usr/lib/systemd/systemd-sysext"));
    }

    void activate(Activation mode) {
        systemctl.startChecked(mode.unit());
        if (!LiveState.isActive(sys, mode.unit())) {
            throw new CorezfsException(
                    ExitCode.ACTIVATION_FAILED,
                    mode.unit() + " did not become active" + systemctl.journalHint(mode.unit()));
        }
        // Pools already on the host's disks import now, as at every boot. A boot that ran without ZFS (its module did
        // not fit the kernel) has reached zfs.target already, with the import and mount units skipped by their
        // conditions, and starting an active target does not run them again: so the units its targets want are
        // started by name. The import first, awaited: in the lab VM, one start job for the import units, the import
        // target and zfs-mount.service together still ran the mount before the import (the mount is ordered only
        // after zfs-import.target), and found nothing to mount. Awaiting the import takes that ordering out of
        // systemd's hands; the import units still choose cache or scan by their conditions.
        List<String> wanted = wantedByZfsTargets();
        List<String> imports =
                wanted.stream().filter(u -> u.startsWith("zfs-import-")).toList();
        if (!imports.isEmpty()) {
            List<String> start = new ArrayList<>(List.of("systemctl", "start"));
            start.addAll(imports);
            LiveSystem.Result i = sys.run(start);
            if (!i.ok()) {
                reporter.warn("the pools could not be imported (" + i.lastLine()
                        + "); see journalctl -u zfs-import-cache.service -u zfs-import-scan.service");
            }
        }
        // The rest queued, not awaited (mounts, shares, zed, zvol links): zfs.target's units report in the journal.
        List<String> start = new ArrayList<>(List.of("systemctl", "start", "--no-block"));
        wanted.stream().filter(u -> !imports.contains(u)).forEach(start::add);
        start.add("zfs-import.target");
        start.add("zfs.target");
        LiveSystem.Result r = sys.run(start);
        if (!r.ok()) {
            reporter.warn("ZFS's mount units could not be queued (" + r.lastLine()
                    + "); see journalctl -u zfs-mount.service");
        }
    }

    /** The units zfs.target and its import and volume targets want (enabled ones), as systemd reports them. */
    private List<String> wantedByZfsTargets() {
        LiveSystem.Result r = sys.run(List.of(
                "systemctl",
                "show",
                "-p",
                "Wants",
                "--value",
                "zfs.target",
                "zfs-import.target",
                "zfs-volumes.target"));
        List<String> out = new ArrayList<>();
        if (!r.ok()) {
            return out;
        }
        for (String name : r.output().trim().split("\\s+")) {
            // Only ZFS's own units: whatever else a target wants is not this install's to start.
            if (name.matches("zfs-[a-z0-9-]+\\.service") && !out.contains(name)) {
                out.add(name);
            }
        }
        return out;
    }

    /**
     * Stops ZFS's units, unloads the module while the index that knows it is still presented, then withdraws
     * {@code /usr}. Fails when something still holds the module.
     */
    void deactivate(Activation mode, Optional<InstallState> installed) {
        List<String> zfsUnits = new ArrayList<>();
        installed.ifPresent(s -> {
            for (ManifestEntry e : s.manifest().entries()) {
                String p = e.path();
                if (p.startsWith("etc/systemd/system/zfs")
                        && p.indexOf('/', "etc/systemd/system/".length()) < 0
                        && !p.endsWith("/" + Activation.OVERLAY.unit())
                        && !p.contains("@.")) {
                    zfsUnits.add(p.substring(p.lastIndexOf('/') + 1));
                }
            }
        });
        if (!zfsUnits.isEmpty()) {
            List<String> cmd = new ArrayList<>(List.of("systemctl", "stop"));
            cmd.addAll(zfsUnits);
            sys.run(cmd);
        }
        if (Files.isDirectory(root.resolve("sys/module/zfs"))) {
            LiveSystem.Result r = sys.run(List.of("modprobe", "-r", "zfs"));
            if (!r.ok() && Files.isDirectory(root.resolve("sys/module/zfs"))) {
                throw CorezfsException.precondition("cannot unload the zfs module: " + r.lastLine()
                        + " (is a pool still imported or a zvol open?)");
            }
        }
        List<String> stop = new ArrayList<>(List.of("systemctl", "stop"));
        for (Activation a : Activation.values()) {
            stop.add(a.unit());
        }
        sys.run(stop);
        // Lazily, as the unit does: a process started while the overlay was up (a shell, a daemon) keeps its
        // mapped files until it exits, and must not block the withdrawal. Loops for overlays stacked by hand.
        for (int i = 0; i < 4 && LiveState.overlayMounted(root); i++) {
            LiveSystem.Result r = sys.run(List.of("umount", "-l", "/usr"));
            if (!r.ok()) {
                throw CorezfsException.precondition("cannot unmount the /usr overlay: " + r.lastLine());
            }
        }
        try {
            if (Files.deleteIfExists(root.resolve(Activation.EXTENSION_LINK)) || mode == Activation.SYSEXT) {
                if (hasSysext()) {
                    sys.run(List.of("systemd-sysext", "refresh"));
                }
            }
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot withdraw the system extension: " + e.getMessage());
        }
    }
}
