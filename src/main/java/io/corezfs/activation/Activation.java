package io.corezfs.activation;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.archive.ArchivePaths;
import java.util.List;
import java.util.Locale;

/**
 * How the installed tree reaches {@code /usr} on a running host, and which unit does it at every boot.
 * Both units refuse to apply an archive built for another kernel; see {@code units/}.
 */
public enum Activation {
    /** {@code lowerdir=/opt/corezfs/usr:/usr} mounted on {@code /usr}: works on any systemd host. */
    OVERLAY("zfs-overlay.service"),
    /** {@code /var/lib/extensions/corezfs} merged by systemd-sysext, bound to the OS version by its release file. */
    SYSEXT("corezfs-sysext.service");

    /** Where the mode of a live install is remembered, for status, reinstall and uninstall. */
    public static final String MODE_FILE = "etc/corezfs/activation";
    /** The sysext directory form: a link to the installed tree, made by the unit when the kernel matches. */
    public static final String EXTENSION_LINK = "var/lib/extensions/corezfs";

    public static final String EXTENSION_RELEASE = ArchivePaths.EXTENSION_RELEASE;

    private final String unit;

    Activation(String unit) {
        this.unit = unit;
    }

    public String unit() {
        return unit;
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public Activation other() {
        return this == OVERLAY ? SYSEXT : OVERLAY;
    }

    /**
     * A preset rule that wins over the archive's and the host's: the other mode's unit is never enabled. The install
     * enables units from presets as part of its commit, archives preset the overlay unit (the original design) and a
     * unit without a rule is enabled by default, so without it a tree committed just before a crash could come up
     * with both units racing to present it. This mode's own unit keeps its preset, so a site that disabled it still
     * decides; the live install enables it explicitly after the commit.
     */
    public List<String> presetRules() {
        return List.of("disable " + other().unit);
    }

    public static Activation parse(String s) {
        for (Activation a : values()) {
            if (a.label().equals(s.strip())) {
                return a;
            }
        }
        throw new CorezfsException(ExitCode.USAGE, "unknown activation mode '" + s + "' (overlay or sysext)");
    }
}
