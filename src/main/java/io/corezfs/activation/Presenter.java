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
        // Pools already on the host's disks import now, as at every boot; queued, not awaited, so a slow disk
        // scan does not hold the install (zfs.target's units report in the journal as usual). A boot that ran
        // without ZFS (its module did not fit the kernel) has reached zfs.target already, with the import and mount
        // units skipped by their conditions, and starting an active target does not run them again: so the units
        // its targets want are queued by name too. The import units still choose cache or scan by their conditions.
        List<String> wanted = wantedByZfsTargets();
        if (!wanted.isEmpty()) {
            // zfs-mount.service is ordered only after zfs-import.target. An active target gets no job, so the mount
            // would race the import (and find nothing to mount); a stopped one gets a real start job that waits for
            // the import units and holds the mount until they are done. Stopping a target stops nothing else.
            sys.run(List.of("systemctl", "stop", "zfs-import.target"));
            List<String> start = new ArrayList<>(List.of("systemctl", "start", "--no-block"));
            start.addAll(wanted);
            start.add("zfs-import.target");
            LiveSystem.Result w = sys.run(start);
            if (!w.ok()) {
                reporter.warn("ZFS's import and mount units could not be queued (" + w.lastLine()
                        + "); see journalctl -u zfs-import-cache.service");
            }
        }
        LiveSystem.Result r = sys.run(List.of("systemctl", "start", "--no-block", "zfs.target"));
        if (!r.ok()) {
            reporter.warn("zfs.target could not be queued (" + r.lastLine()
                    + "); see journalctl -u zfs-import-cache.service");
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
