package io.corezfs.activation;

import io.corezfs.system.LiveSystem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What ZFS looks like on the running host right now, read from {@code /proc}, {@code /sys}, systemd and zpool.
 *
 * @param mode          the activation mode corezfs recorded, if it activated anything here
 * @param active        whether that mode's unit is active
 * @param moduleLoaded  {@code /sys/module/zfs} exists
 * @param kmodVersion   the loaded module's version, if loaded
 * @param zfsVersion    the userland's version ({@code zfs version}), if the tools are reachable
 * @param pools         imported pools and their health
 */
public record LiveState(
        Optional<Activation> mode,
        boolean active,
        boolean usrPresented,
        boolean moduleLoaded,
        Optional<String> kmodVersion,
        Optional<String> zfsVersion,
        List<Pool> pools) {

    public record Pool(String name, String health) {}

    /** Reads the state of the host whose root is {@code root} (the machine's {@code /} when live). */
    public static LiveState probe(Path root, LiveSystem sys) {
        Optional<Activation> mode = readMode(root);
        boolean active = mode.map(m -> isActive(sys, m.unit())).orElse(false);
        boolean presented = overlayMounted(root)
                || Files.exists(root.resolve("usr/lib/extension-release.d/extension-release.corezfs"));
        Path module = root.resolve("sys/module/zfs");
        boolean loaded = Files.isDirectory(module);
        Optional<String> kmod = loaded ? read(module.resolve("version")) : Optional.empty();
        Optional<String> user = Optional.empty();
        List<Pool> pools = new ArrayList<>();
        if (presented || loaded) {
            LiveSystem.Result v = sys.run(List.of("zfs", "version"));
            if (v.ok()) {
                user = v.output()
                        .lines()
                        .map(String::strip)
                        .filter(l -> l.startsWith("zfs-") && !l.startsWith("zfs-kmod-"))
                        .findFirst()
                        .map(l -> l.substring("zfs-".length()));
            }
        }
        if (loaded) {
            LiveSystem.Result r = sys.run(List.of("zpool", "list", "-H", "-o", "name,health"));
            if (r.ok()) {
                r.output()
                        .lines()
                        .map(l -> l.split("\t"))
                        .filter(f -> f.length >= 2)
                        .forEach(f -> pools.add(new Pool(f[0].strip(), f[1].strip())));
            }
        }
        return new LiveState(mode, active, presented, loaded, kmod, user, List.copyOf(pools));
    }

    /**
     * Whether {@code mode} is what serves ZFS right now: recorded, its unit active, the module loaded. The cheap
     * question a reinstall asks first; it runs one program, where {@link #probe} runs up to three.
     */
    static boolean serving(Path root, LiveSystem sys, Activation mode) {
        return readMode(root).equals(Optional.of(mode))
                && Files.isDirectory(root.resolve("sys/module/zfs"))
                && isActive(sys, mode.unit());
    }

    public static Optional<Activation> readMode(Path root) {
        return read(root.resolve(Activation.MODE_FILE)).flatMap(s -> {
            try {
                return Optional.of(Activation.parse(s));
            } catch (RuntimeException e) {
                return Optional.empty();
            }
        });
    }

    static boolean isActive(LiveSystem sys, String unit) {
        LiveSystem.Result r = sys.run(List.of("systemctl", "is-active", unit));
        return r.ok() && r.output().strip().equals("active");
    }

    /** Whether corezfs's overlay is mounted on /usr, from the mount table. */
    static boolean overlayMounted(Path root) {
        return read(root.resolve("proc/self/mounts"))
                .map(t -> t.lines().anyMatch(l -> {
                    String[] f = l.split(" ");
                    return f.length >= 4
                            && f[1].equals("/usr")
                            && f[2].equals("overlay")
                            && f[3].contains("lowerdir=/opt/corezfs/usr");
                }))
                .orElse(false);
    }

    private static Optional<String> read(Path p) {
        try {
            if (!Files.isRegularFile(p)) {
                return Optional.empty();
            }
            // A /sys or /proc value is one line; the cap keeps a strange file from filling the heap.
            try (java.io.InputStream in = Files.newInputStream(p)) {
                return Optional.of(
                        new String(in.readNBytes(64 * 1024), java.nio.charset.StandardCharsets.UTF_8).strip());
            }
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
