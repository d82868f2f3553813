package io.corezfs.host;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Reads {@link HostFacts} from exactly the files the OS provides, under a {@link RootFs}.
 *
 * <p>Order matters: Flatcar ≥ 2317 links {@code /usr/share/coreos} to {@code /usr/share/flatcar}, and early Flatcar
 * kept {@code COREOS_*} keys while its os-release already said {@code ID=flatcar}. The Flatcar directory is tried
 * first, then the CoreOS one, whose keys and os-release decide which OS it really is.
 */
public final class HostDetector {
    private static final Pattern RELEASE_VERSION = Pattern.compile("[0-9]+(\\.[0-9]+)*");
    private static final Pattern TOKEN = Pattern.compile("[a-z0-9][a-z0-9.-]*");
    private static final Pattern GENERIC_VERSION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9.~-]*");
    /** At most 64 characters: the kernel's own limit for a release string (__NEW_UTS_LEN). */
    private static final Pattern KERNEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+~-]{0,63}");

    private static final Pattern GROUP = Pattern.compile("\\S+");

    private final Environment env;

    public HostDetector(Environment env) {
        this.env = env;
    }

    public HostFacts detect(HostFiles fs, Optional<String> kernelOverride) {
        Optional<Map<String, String>> osRelease = osRelease(fs);
        String kernel = kernel(fs, kernelOverride);

        Optional<Map<String, String>> flatcar = parse(fs, "/usr/share/flatcar/release");
        if (flatcar.isPresent()) {
            return containerLinux(fs, "flatcar", "FLATCAR", flatcar.get(), "/usr/share/flatcar", kernel);
        }
        Optional<Map<String, String>> coreos = parse(fs, "/usr/share/coreos/release");
        if (coreos.isPresent()) {
            Map<String, String> kv = coreos.get();
            String osId = osRelease.map(m -> m.get("ID")).orElse(null);
            if (kv.containsKey("FLATCAR_RELEASE_VERSION")) {
                return containerLinux(fs, "flatcar", "FLATCAR", kv, "/usr/share/coreos", kernel);
            }
            String id = "flatcar".equals(osId) ? "flatcar" : "coreos";
            return containerLinux(fs, id, "COREOS", kv, "/usr/share/coreos", kernel);
        }
        if (osRelease.isEmpty()) {
            throw new CorezfsException(
                    ExitCode.PRECONDITION,
                    "cannot identify the OS: none of "
                            + fs.describe("/usr/share/flatcar/release") + ", "
                            + fs.describe("/usr/share/coreos/release")
                            + ", " + fs.describe("/etc/os-release") + " or " + fs.describe("/usr/lib/os-release")
                            + " exists");
        }
        Map<String, String> os = osRelease.get();
        String file =
                fs.exists("/etc/os-release") ? fs.describe("/etc/os-release") : fs.describe("/usr/lib/os-release");
        String id = require(os, "ID", file, TOKEN);
        String version = require(os, "VERSION_ID", file, GENERIC_VERSION);
        String arch = fs.machineArch().orElse(env.machineArch());
        return new HostFacts(id, version, Arch.board(arch), "", "", kernel, arch);
    }

    private HostFacts containerLinux(
            HostFiles fs, String id, String prefix, Map<String, String> release, String dir, String kernel) {
        String file = fs.describe(dir + "/release");
        String version = require(release, prefix + "_RELEASE_VERSION", file, RELEASE_VERSION);
        String board = require(release, prefix + "_RELEASE_BOARD", file, TOKEN);
        String channel = parse(fs, dir + "/update.conf")
                .map(m -> require(m, "GROUP", fs.describe(dir + "/update.conf"), TOKEN))
                .orElse("");
        String follows = updateChannel(fs).orElse(channel);
        String arch = Optional.ofNullable(Arch.fromBoard(board))
                .orElseGet(() -> fs.machineArch().orElse(env.machineArch()));
        return new HostFacts(id, version, board, channel, follows, kernel, arch);
    }

    /** The group the host follows for updates; operators may set any Nebraska group, so only shape is checked. */
    private Optional<String> updateChannel(HostFiles fs) {
        for (String f : List.of("/etc/flatcar/update.conf", "/etc/coreos/update.conf")) {
            Optional<Map<String, String>> kv = parse(fs, f);
            if (kv.isPresent() && kv.get().containsKey("GROUP")) {
                return Optional.of(require(kv.get(), "GROUP", fs.describe(f), GROUP));
            }
        }
        return Optional.empty();
    }

    private String kernel(HostFiles fs, Optional<String> override) {
        if (override.isPresent()) {
            return check(override.get(), "--kernel", KERNEL);
        }
        Optional<String> proc = fs.readIfExists("/proc/sys/kernel/osrelease");
        if (proc.isPresent()) {
            return check(proc.get().strip(), fs.describe("/proc/sys/kernel/osrelease"), KERNEL);
        }
        // An offline image root has no /proc, but it ships exactly one kernel's modules.
        if (!fs.isMachineRoot()) {
            List<String> kernels = fs.directories("/usr/lib/modules");
            if (kernels.size() == 1) {
                return check(kernels.get(0), fs.describe("/usr/lib/modules"), KERNEL);
            }
        }
        throw new CorezfsException(
                ExitCode.PRECONDITION,
                "cannot tell the kernel release: " + fs.describe("/proc/sys/kernel/osrelease")
                        + " does not exist; pass --kernel RELEASE");
    }

    private static Optional<Map<String, String>> osRelease(HostFiles fs) {
        Optional<Map<String, String>> etc = parse(fs, "/etc/os-release");
        return etc.isPresent() ? etc : parse(fs, "/usr/lib/os-release");
    }

    private static Optional<Map<String, String>> parse(HostFiles fs, String hostPath) {
        return fs.readIfExists(hostPath).map(text -> KeyValueFile.parse(text, fs.describe(hostPath)));
    }

    private static String require(Map<String, String> kv, String key, String file, Pattern shape) {
        String v = kv.get(key);
        if (v == null || v.isEmpty()) {
            throw new CorezfsException(ExitCode.PRECONDITION, file + ": missing " + key);
        }
        return check(v, file + ": " + key, shape);
    }

    private static String check(String value, String where, Pattern shape) {
        if (!shape.matcher(value).matches()) {
            throw new CorezfsException(ExitCode.PRECONDITION, where + ": malformed value '" + printable(value) + "'");
        }
        return value;
    }

    static String printable(String s) {
        return io.corezfs.Text.printable(s, 80);
    }
}
