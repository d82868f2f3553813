package io.corezfs.flexvolume;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Text;
import io.corezfs.host.RootFs;
import io.corezfs.system.Durability;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Puts the driver where the kubelet looks for it, {@code PLUGIN_DIR/corezfs~zfs/zfs}, and writes its configuration.
 * The driver file is a small shell script that runs this tool's installed launcher with {@code flexvolume}; the tool
 * itself stays where it was installed, so updating corezfs updates the driver. Both files are replaced whole (written
 * beside, flushed, renamed): a kubelet probing the directory meanwhile sees the old file or the new, never a part.
 */
public final class DriverInstaller {
    /**
     * The kubelet's exec plugin directory on Flatcar, whose /usr is read-only; the kubelet must be started with
     * {@code --volume-plugin-dir} set to it (its built-in default is under /usr/libexec).
     */
    public static final String DEFAULT_PLUGIN_DIR = "/opt/libexec/kubernetes/kubelet-plugins/volume/exec";

    /** The kubelet's naming: directory {@code vendor~driver}, executable {@code driver}; pods say {@code corezfs/zfs}. */
    public static final String DRIVER_DIR = "corezfs~zfs";

    public static final String DRIVER_FILE = "zfs";

    public static final String DRIVER_NAME = "corezfs/zfs";

    private final RootFs root;

    public DriverInstaller(RootFs root) {
        this.root = root;
    }

    /** What was written, as host paths. */
    public record Installed(String driver, String config) {}

    /**
     * @param pluginDir the kubelet's exec plugin directory, a host path
     * @param config    the configuration to write
     * @param launcher  the installed corezfs launcher the driver runs, a host path
     */
    public Installed install(String pluginDir, DriverConfig config, String launcher) {
        if (!launcher.startsWith("/") || !launcher.matches("[A-Za-z0-9/._+-]+")) {
            throw new CorezfsException(
                    ExitCode.USAGE,
                    "the launcher must be an absolute path of letters, digits and / . _ + -, not '"
                            + Text.printable(launcher, 200) + "'");
        }
        if (!pluginDir.startsWith("/") || pluginDir.chars().anyMatch(Character::isISOControl)) {
            throw new CorezfsException(
                    ExitCode.USAGE,
                    "--plugin-dir must be an absolute path, not '" + Text.printable(pluginDir, 200) + "'");
        }
        String driver = Path.of(pluginDir, DRIVER_DIR, DRIVER_FILE).normalize().toString();
        write(driver, script(launcher), "rwxr-xr-x");
        write(DriverConfig.PATH, config.text(), "rw-r--r--");
        return new Installed(driver, DriverConfig.PATH);
    }

    /**
     * The driver as the kubelet runs it. stderr is left alone: the kubelet parses stdout and stderr together as the
     * reply, and the tool writes nothing to stderr in these calls, so anything there (a launcher that finds no Java)
     * is a real fault, which the kubelet then logs with the output it could not parse.
     */
    static String script(String launcher) {
        return "#!/bin/sh\n"
                + "# The FlexVolume driver " + DRIVER_NAME + ", written by `corezfs flexvolume install`.\n"
                + "# The kubelet runs it as: zfs init | zfs mount DIR JSON | zfs unmount DIR | zfs VERB ...\n"
                + "exec " + launcher + " flexvolume \"$@\"\n";
    }

    private void write(String hostPath, String text, String mode) {
        Path target = root.resolve(hostPath);
        try {
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)
                    && !Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
                throw CorezfsException.precondition(
                        hostPath + " exists and is not a regular file; refusing to replace it");
            }
            Path dir = Files.createDirectories(target.getParent());
            Path tmp = dir.resolve("." + target.getFileName() + ".corezfs-tmp");
            Files.deleteIfExists(tmp);
            Files.writeString(tmp, text);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(mode));
            Durability.fsync(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Durability.fsync(dir);
        } catch (AccessDeniedException e) {
            throw CorezfsException.precondition("cannot write " + hostPath + ": permission denied (run as root)");
        } catch (FileSystemException e) {
            throw CorezfsException.precondition("cannot write " + hostPath + ": "
                    + (e.getReason() == null ? e.getClass().getSimpleName() : e.getReason()));
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot write " + hostPath + ": " + e.getMessage());
        }
    }
}
