package io.corezfs.flexvolume;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Text;
import io.corezfs.host.RootFs;
import io.corezfs.system.HostCommands;
import io.corezfs.system.LiveSystem;
import io.corezfs.system.ProcessRequest;
import io.corezfs.system.ProcessResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The FlexVolume driver {@code corezfs/zfs}: the kubelet's {@code init}, {@code mount <dir> <json>} and {@code unmount
 * <dir>}. A pod names a dataset and a quota; the driver makes it a child of the configured parent (or reuses it, with
 * the pod's properties applied) and bind-mounts the dataset's own mount onto the pod's volume directory. Unmount only
 * unmounts: the dataset and its data stay, and the next pod that names it sees them. Several pods may mount one
 * dataset at once.
 *
 * <p>Every answer is a {@link Reply}; nothing is thrown to the caller, because the kubelet can read only the reply.
 * Programs ({@code zfs}, {@code mount}, {@code umount}) run through the host's process runner, host paths through the
 * root.
 */
public final class FlexVolumeDriver {
    static final Duration ZFS_TIMEOUT = Duration.ofMinutes(2);
    static final Duration MOUNT_TIMEOUT = Duration.ofMinutes(1);
    static final String MOUNTINFO = "/proc/self/mountinfo";

    private final RootFs root;
    private final LiveSystem system;

    /**
     * @param root   the host's root: the configuration, the mount table and the pod's directory are read under it
     * @param system runs {@code zfs}, {@code mount} and {@code umount} on that host
     */
    public FlexVolumeDriver(RootFs root, LiveSystem system) {
        this.root = root;
        this.system = system;
    }

    public Reply init() {
        return Reply.initialized();
    }

    /** Any verb this driver does not implement (attach, detach, waitforattach, mountdevice, ...). */
    public Reply other(String verb) {
        return Reply.notSupported(Text.printable(verb, 40));
    }

    public Reply mount(String dir, String json) {
        return answer(() -> doMount(dir, json));
    }

    public Reply unmount(String dir) {
        return answer(() -> doUnmount(dir));
    }

    private static Reply answer(java.util.function.Supplier<Reply> call) {
        try {
            return call.get();
        } catch (CorezfsException e) {
            return Reply.failure(e.getMessage(), e.exitCode());
        } catch (RuntimeException e) {
            return Reply.failure("unexpected error: " + Text.printable(String.valueOf(e), 300), ExitCode.UNEXPECTED);
        }
    }

    private Reply doMount(String dir, String json) {
        String target = hostDir(dir);
        MountOptions o = MountOptions.parse(json);
        DriverConfig config = DriverConfig.load(root);
        String name = config.parent() + "/" + o.dataset();
        if (name.length() > ZfsValues.MAX_NAME) {
            throw new CorezfsException(
                    ExitCode.USAGE, "dataset " + name + " is longer than ZFS's " + ZfsValues.MAX_NAME + " characters");
        }
        if (isMountPoint(target)) {
            return Reply.success(target + " is already mounted");
        }
        boolean created = ensureDataset(name, o);
        Dataset d = describe(name).orElseThrow(() -> failed("dataset " + name + " vanished while being mounted"));
        if (!d.type.equals("filesystem")) {
            throw failed(name + " is a " + d.type + ", not a filesystem; it cannot be mounted into a pod");
        }
        if (!d.mountpoint.startsWith("/")) {
            throw CorezfsException.precondition(name + " has mountpoint=" + d.mountpoint + "; the driver bind-mounts a"
                    + " dataset's own mount, so give " + config.parent() + " a mountpoint (zfs set mountpoint=/"
                    + config.parent() + " " + config.parent() + ")");
        }
        if (!d.mounted) {
            ProcessResult r = system.runSeparately(request(ZFS_TIMEOUT, "zfs", "mount", name));
            // A second pod's first mount of the same dataset (its create mounts it) may come between the look above
            // and this zfs mount, which then fails with "already mounted": what counts is that it is mounted now.
            if (!r.ok() && !describe(name).map(Dataset::mounted).orElse(false)) {
                throw failed(r.describe());
            }
        }
        try {
            Files.createDirectories(root.resolve(target));
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot create " + target + ": " + e.getMessage());
        }
        run(MOUNT_TIMEOUT, "mount", "--bind", d.mountpoint, target);
        if (o.readOnly()) {
            ProcessResult r = system.runSeparately(request(MOUNT_TIMEOUT, "mount", "-o", "remount,bind,ro", target));
            if (!r.ok()) {
                // A pod that asked for read-only must not get a writable mount instead.
                run(MOUNT_TIMEOUT, "umount", target);
                throw failed(r.describe());
            }
        }
        return Reply.success((created ? "created " : "reused ") + name + ", mounted on " + target
                + (o.readOnly() ? " read-only" : ""));
    }

    private Reply doUnmount(String dir) {
        String target = hostDir(dir);
        if (!isMountPoint(target)) {
            return Reply.success(target + " is not mounted");
        }
        run(MOUNT_TIMEOUT, "umount", target);
        return Reply.success("unmounted " + target + "; the dataset and its data are kept");
    }

    /**
     * Creates {@code name} with the pod's properties, or applies them to the one that exists. Two pods mounting the
     * same new dataset at once may both try to create it; the loser applies its properties to the winner's.
     */
    private boolean ensureDataset(String name, MountOptions o) {
        List<String> props = new ArrayList<>();
        props.add("quota=" + o.quota());
        o.reservation().ifPresent(r -> props.add("reservation=" + r));
        o.compression().ifPresent(c -> props.add("compression=" + c));
        if (describe(name).isEmpty()) {
            List<String> argv = new ArrayList<>(List.of("zfs", "create"));
            for (String p : props) {
                argv.add("-o");
                argv.add(p);
            }
            argv.add(name);
            ProcessResult r = system.runSeparately(request(ZFS_TIMEOUT, argv));
            if (r.ok()) {
                return true;
            }
            if (!r.stderrTail().contains("dataset already exists")) {
                String hint = r.stderrTail().contains("parent does not exist")
                        ? " (create the parent first: zfs create " + name.substring(0, name.lastIndexOf('/')) + ")"
                        : "";
                throw failed(r.describe() + hint);
            }
        }
        List<String> set = new ArrayList<>(List.of("zfs", "set"));
        set.addAll(props);
        set.add(name);
        zfs(set.toArray(String[]::new));
        return false;
    }

    private record Dataset(String type, String mountpoint, boolean mounted) {}

    private Optional<Dataset> describe(String name) {
        ProcessResult r = system.runSeparately(
                request(ZFS_TIMEOUT, "zfs", "list", "-H", "-p", "-o", "name,type,mountpoint,mounted", name));
        if (!r.ok()) {
            if (r.stderrTail().contains("dataset does not exist")) {
                return Optional.empty();
            }
            throw failed(r.describe());
        }
        String[] f = r.stdout().strip().split("\t", -1);
        if (f.length != 4 || !f[0].equals(name)) {
            throw failed("zfs list " + name + " answered '"
                    + Text.printable(r.stdout().strip(), 200) + "'");
        }
        return Optional.of(new Dataset(f[1], f[2], f[3].equals("yes")));
    }

    /**
     * The pod's directory as a host path: absolute, already normal (no {@code .}, {@code ..} or doubled slashes, as the
     * kubelet writes it), with symlinks resolved inside the root, so the mount table and {@code mount} see one path.
     */
    private String hostDir(String dir) {
        Path p = Path.of("/").resolve(dir.isEmpty() ? "." : dir);
        if (!dir.startsWith("/")
                || !p.normalize().toString().equals(dir)
                || dir.equals("/")
                || dir.chars().anyMatch(Character::isISOControl)) {
            throw new CorezfsException(
                    ExitCode.USAGE,
                    "the mount directory must be an absolute, normal path below /, not '" + Text.printable(dir, 200)
                            + "'");
        }
        Path resolved = root.resolve(dir);
        return "/" + root.root().relativize(resolved);
    }

    /** Whether {@code hostPath} is a mount point now, by the mount table of this process. */
    private boolean isMountPoint(String hostPath) {
        String table = root.readIfExists(MOUNTINFO)
                .orElseThrow(() -> CorezfsException.precondition("no " + MOUNTINFO + " (is /proc mounted?)"));
        for (String line : table.split("\n")) {
            String[] f = line.split(" ");
            if (f.length > 4 && HostCommands.unescapeMountPath(f[4]).equals(hostPath)) {
                return true;
            }
        }
        return false;
    }

    private void zfs(String... argv) {
        run(ZFS_TIMEOUT, argv);
    }

    private void run(Duration timeout, String... argv) {
        ProcessResult r = system.runSeparately(request(timeout, List.of(argv)));
        if (!r.ok()) {
            throw failed(r.describe());
        }
    }

    private static ProcessRequest request(Duration timeout, String... argv) {
        return request(timeout, List.of(argv));
    }

    private static ProcessRequest request(Duration timeout, List<String> argv) {
        return ProcessRequest.of(argv).timeout(timeout);
    }

    private static CorezfsException failed(String message) {
        return new CorezfsException(ExitCode.UNEXPECTED, message);
    }
}
