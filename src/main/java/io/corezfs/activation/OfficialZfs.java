package io.corezfs.activation;

import io.corezfs.CorezfsException;
import io.corezfs.host.RootFs;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.util.Optional;

/**
 * Flatcar's own ZFS system extension. Flatcar enables an official extension by its name on a line of
 * {@code /etc/flatcar/enabled-sysext.conf} and links the image as {@code /etc/extensions/flatcar-zfs.raw}. With it and
 * corezfs both active, two ZFS builds would be stacked on {@code /usr} and two modules compete for the same pools, so
 * corezfs refuses to work beside it.
 */
public final class OfficialZfs {
    public static final String ENABLED_SYSEXT = "/etc/flatcar/enabled-sysext.conf";
    public static final String EXTENSION_IMAGE = "/etc/extensions/flatcar-zfs.raw";

    private OfficialZfs() {}

    /** Where the official extension is enabled on the host under {@code fs}, or empty. */
    public static Optional<String> detect(RootFs fs) {
        Optional<String> conf = fs.readIfExists(ENABLED_SYSEXT);
        if (conf.isPresent() && listsZfs(conf.get())) {
            return Optional.of(fs.describe(ENABLED_SYSEXT) + " lists zfs");
        }
        // A link whose target is not there yet (the image arrives with the next update) still means it is wanted.
        if (Files.exists(fs.root().resolve(EXTENSION_IMAGE.substring(1)), LinkOption.NOFOLLOW_LINKS)) {
            return Optional.of(fs.describe(EXTENSION_IMAGE) + " exists");
        }
        return Optional.empty();
    }

    /** True when the text of an {@code enabled-sysext.conf} enables the {@code zfs} extension. */
    public static boolean listsZfs(String text) {
        return text.lines().map(l -> l.replaceFirst("#.*", "").strip()).anyMatch("zfs"::equals);
    }

    /** Refuses (exit 3) when the official extension is enabled, saying what to do. */
    public static void refuseIfEnabled(RootFs fs) {
        detect(fs).ifPresent(where -> {
            throw CorezfsException.precondition(message(where));
        });
    }

    public static String message(String where) {
        return "Flatcar's own zfs extension is enabled (" + where + "): corezfs would stack a second ZFS on it;"
                + " remove zfs from " + ENABLED_SYSEXT + " and " + EXTENSION_IMAGE
                + " and reboot, or keep the official extension and do not use corezfs";
    }
}
