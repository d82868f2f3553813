package io.corezfs.activation;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.archive.Manifest;
import io.corezfs.system.LiveSystem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Whether an activation really took: the module is loaded, userland and module report the archive's version, and
 * the kernel's own modules still load through the presented module index.
 */
final class ActivationCheck {
    /** Stock modules, any of which proves the module index still resolves the base kernel's own modules. */
    private static final List<String> STOCK_MODULES = List.of("loop", "overlay", "dm_mod", "dm-mod", "configfs");

    private final Path root;
    private final LiveSystem sys;

    ActivationCheck(Path root, LiveSystem sys) {
        this.root = root;
        this.sys = sys;
    }

    void verify(Manifest m, String kernel) {
        if (!Files.isDirectory(root.resolve("sys/module/zfs"))) {
            throw new CorezfsException(ExitCode.ACTIVATION_FAILED, "the zfs module is not loaded (no /sys/module/zfs)");
        }
        LiveSystem.Result v = sys.run(List.of("zfs", "version"));
        if (!v.ok()) {
            throw new CorezfsException(ExitCode.ACTIVATION_FAILED, "`zfs version` failed: " + v.lastLine());
        }
        String want = Pattern.quote(m.zfsVersion());
        if (!Pattern.compile("(?m)^zfs-" + want + "\\b").matcher(v.output()).find()) {
            throw new CorezfsException(
                    ExitCode.ACTIVATION_FAILED,
                    "`zfs version` does not report userland " + m.zfsVersion() + ": "
                            + v.output().strip().replace('\n', ' '));
        }
        if (!Pattern.compile("(?m)^zfs-kmod-" + want + "\\b")
                .matcher(v.output())
                .find()) {
            throw new CorezfsException(
                    ExitCode.ACTIVATION_FAILED,
                    "`zfs version` does not report module " + m.zfsVersion() + ": "
                            + v.output().strip().replace('\n', ' '));
        }
        Optional<String> stock = stockModule(kernel);
        if (stock.isEmpty()) {
            throw new CorezfsException(
                    ExitCode.ACTIVATION_FAILED,
                    "the module index for " + kernel + " lists none of the kernel's own modules: it would hide them");
        }
        LiveSystem.Result s = sys.run(List.of("modprobe", stock.get()));
        if (!s.ok()) {
            throw new CorezfsException(
                    ExitCode.ACTIVATION_FAILED,
                    "the stock module " + stock.get() + " no longer loads: " + s.lastLine());
        }
    }

    /** A base module (not ZFS's) the live index resolves, preferring harmless ones the host may load anyway. */
    private Optional<String> stockModule(String kernel) {
        Path dep = root.resolve("usr/lib/modules").resolve(kernel).resolve("modules.dep");
        if (!Files.isRegularFile(dep)) {
            dep = root.resolve("lib/modules").resolve(kernel).resolve("modules.dep");
        }
        List<String> listed = new ArrayList<>();
        try (var lines = Files.lines(dep, StandardCharsets.UTF_8)) {
            lines.map(l -> l.substring(0, Math.max(0, l.indexOf(':'))))
                    .filter(p -> p.startsWith("kernel/"))
                    .map(p -> p.substring(p.lastIndexOf('/') + 1).replaceFirst("\\.ko(\\..*)?$", ""))
                    .forEach(listed::add);
        } catch (IOException | UncheckedIOException e) {
            return Optional.empty();
        }
        for (String s : STOCK_MODULES) {
            if (listed.contains(s)) {
                return Optional.of(s);
            }
        }
        return listed.stream().findFirst();
    }
}
