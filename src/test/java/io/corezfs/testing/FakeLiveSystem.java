package io.corezfs.testing;

import io.corezfs.system.LiveSystem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A running host in miniature, on a temporary root: systemd, the overlay, systemd-sysext, the module and zpool behave
 * the way the live installer relies on, by writing what the real ones would show in {@code /proc}, {@code /sys} and
 * {@code /usr}. Every command is recorded, so tests can also say what must never be called.
 */
public final class FakeLiveSystem implements LiveSystem {
    private final Path root;
    private String kmodVersion;
    private final List<String> calls = new ArrayList<>();
    private final Set<String> active = new HashSet<>();
    private final Map<String, String> pools = new LinkedHashMap<>();
    private final Map<String, Result> overrides = new LinkedHashMap<>();
    private int uid = 0;

    public FakeLiveSystem(Path root, String kmodVersion) {
        this.root = root;
        this.kmodVersion = kmodVersion;
        mkdirs("run/systemd/system");
        mkdirs("proc/self");
        write("proc/self/mounts", "/dev/vda / ext4 rw 0 0\n");
        mkdirs("usr/bin");
        write("usr/lib/modules/" + HostRoots.KERNEL + "/modules.dep", "kernel/drivers/block/loop.ko:\n");
    }

    /** The ZFS version the module and tools report from now on, as after a swap to another archive. */
    public FakeLiveSystem kmod(String version) {
        this.kmodVersion = version;
        return this;
    }

    public FakeLiveSystem uid(int u) {
        this.uid = u;
        return this;
    }

    /** The host has systemd-sysext, so {@code --mode auto} picks sysext. */
    public FakeLiveSystem withSysext() {
        write("usr/bin/systemd-sysext", "#!/bin/sh\n");
        try {
            Files.setPosixFilePermissions(
                    root.resolve("usr/bin/systemd-sysext"),
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    public FakeLiveSystem pool(String name, String health) {
        pools.put(name, health);
        return this;
    }

    /** Makes one command (its words joined by spaces) end with this result instead. */
    public FakeLiveSystem override(String command, int code, String output) {
        overrides.put(command, new Result(code, output));
        return this;
    }

    public List<String> calls() {
        return List.copyOf(calls);
    }

    public boolean moduleLoaded() {
        return Files.isDirectory(root.resolve("sys/module/zfs"));
    }

    public boolean overlayMounted() {
        return read("proc/self/mounts").contains(" /usr overlay ");
    }

    public boolean extensionMerged() {
        return Files.exists(root.resolve("usr/lib/extension-release.d/extension-release.corezfs"));
    }

    public boolean isActive(String unit) {
        return active.contains(unit);
    }

    /** A reboot: nothing of the runtime state survives (units, module, mounts, pools). */
    public void crashAndReboot() {
        active.clear();
        pools.clear();
        deleteQuietly("sys");
        write("proc/self/mounts", "/dev/vda / ext4 rw 0 0\n");
        deleteQuietly("usr/lib/extension-release.d");
    }

    @Override
    public int effectiveUid() {
        return uid;
    }

    @Override
    public Result run(List<String> command) {
        String line = String.join(" ", command);
        calls.add(line);
        if (overrides.containsKey(line)) {
            return overrides.get(line);
        }
        return switch (command.get(0)) {
            case "systemctl" -> systemctl(command);
            case "modprobe" -> modprobe(command);
            case "zfs" ->
                moduleLoaded() && (overlayMounted() || extensionMerged())
                        ? new Result(0, "zfs-" + kmodVersion + "-1\nzfs-kmod-" + kmodVersion + "-1\n")
                        : new Result(127, "zfs: command not found");
            case "zpool" -> zpool(command);
            case "umount" -> {
                write("proc/self/mounts", "/dev/vda / ext4 rw 0 0\n");
                yield new Result(0, "");
            }
            case "systemd-sysext" -> {
                sysextRefresh();
                yield new Result(0, "");
            }
            case "journalctl" -> new Result(0, "");
            default -> new Result(127, command.get(0) + ": not faked");
        };
    }

    private Result systemctl(List<String> c) {
        List<String> words = c.stream().skip(1).filter(w -> !w.startsWith("--")).toList();
        String verb = words.get(0);
        String unit = words.size() > 1 ? words.get(1) : "";
        switch (verb) {
            case "is-active":
                return active.contains(unit) ? new Result(0, "active\n") : new Result(3, "inactive\n");
            case "start":
                if (unit.equals("zfs-overlay.service")) {
                    write(
                            "proc/self/mounts",
                            read("proc/self/mounts")
                                    + "overlay /usr overlay ro,relatime,lowerdir=/opt/corezfs/usr:/usr 0 0\n");
                    loadModule();
                } else if (unit.equals("corezfs-sysext.service")) {
                    try {
                        Files.createDirectories(root.resolve("var/lib/extensions"));
                        Files.deleteIfExists(root.resolve("var/lib/extensions/corezfs"));
                        Files.createSymbolicLink(root.resolve("var/lib/extensions/corezfs"), Path.of("/opt/corezfs"));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    sysextRefresh();
                    loadModule();
                }
                active.add(unit);
                return new Result(0, "");
            case "stop":
                for (String u : c.subList(2, c.size())) {
                    active.remove(u);
                    if (u.equals("zfs-overlay.service")) {
                        write("proc/self/mounts", "/dev/vda / ext4 rw 0 0\n");
                    }
                }
                return new Result(0, "");
            default:
                return new Result(0, "");
        }
    }

    private void sysextRefresh() {
        Path link = root.resolve("var/lib/extensions/corezfs");
        Path release = root.resolve("opt/corezfs/usr/lib/extension-release.d/extension-release.corezfs");
        if (Files.isSymbolicLink(link) && Files.exists(release)) {
            write(
                    "usr/lib/extension-release.d/extension-release.corezfs",
                    read("opt/corezfs/usr/lib/extension-release.d/extension-release.corezfs"));
        } else {
            deleteQuietly("usr/lib/extension-release.d");
        }
    }

    private void loadModule() {
        write("sys/module/zfs/version", kmodVersion + "-1\n");
    }

    private Result modprobe(List<String> c) {
        if (c.get(1).equals("-r")) {
            if (!pools.isEmpty()) {
                return new Result(1, "modprobe: FATAL: Module zfs is in use.");
            }
            deleteQuietly("sys");
            return new Result(0, "");
        }
        if (c.get(1).equals("zfs")) {
            loadModule();
        }
        return new Result(0, "");
    }

    private Result zpool(List<String> c) {
        if (!moduleLoaded()) {
            return new Result(1, "The ZFS modules are not loaded.");
        }
        if (c.get(1).equals("list")) {
            StringBuilder b = new StringBuilder();
            pools.forEach((n, h) -> b.append(n).append('\t').append(h).append('\n'));
            return new Result(0, b.toString());
        }
        if (c.get(1).equals("export")) {
            pools.remove(c.get(2));
            return new Result(0, "");
        }
        return new Result(0, "");
    }

    private void mkdirs(String p) {
        try {
            Files.createDirectories(root.resolve(p));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void write(String p, String content) {
        try {
            Files.createDirectories(root.resolve(p).getParent());
            Files.writeString(root.resolve(p), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String read(String p) {
        try {
            return Files.exists(root.resolve(p)) ? Files.readString(root.resolve(p)) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void deleteQuietly(String p) {
        Path x = root.resolve(p);
        try {
            if (Files.isDirectory(x, LinkOption.NOFOLLOW_LINKS)) {
                try (var s = Files.walk(x)) {
                    for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.delete(q);
                    }
                }
            } else {
                Files.deleteIfExists(x);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
