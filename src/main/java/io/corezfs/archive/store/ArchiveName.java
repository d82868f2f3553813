package io.corezfs.archive.store;

import io.corezfs.archive.Manifest;
import io.corezfs.host.HostFacts;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Archive file names. The name carries board, OS version, channel and ZFS version so an operator can tell archives
 * apart in a directory listing; the manifest inside remains the authority.
 *
 * <p>{@code corezfs_amd64-usr_3975.2.0_stable_zfs-2.2.6.tar.gz}, and the original tool's
 * {@code corezfs_amd64-usr_3975.2.0_stable.tar.gz}.
 */
public record ArchiveName(String board, String version, String channel, Optional<String> zfsVersion) {
    private static final String PART = "([A-Za-z0-9][A-Za-z0-9.~+-]*)";
    private static final Pattern CURRENT =
            Pattern.compile("corezfs_" + PART + "_" + PART + "_" + PART + "_zfs-" + PART + "\\.tar\\.gz");
    private static final Pattern LEGACY = Pattern.compile("corezfs_" + PART + "_" + PART + "_" + PART + "\\.tar\\.gz");

    public static Optional<ArchiveName> parse(String fileName) {
        Matcher m = CURRENT.matcher(fileName);
        if (m.matches()) {
            return Optional.of(new ArchiveName(m.group(1), m.group(2), m.group(3), Optional.of(m.group(4))));
        }
        m = LEGACY.matcher(fileName);
        if (m.matches()) {
            return Optional.of(new ArchiveName(m.group(1), m.group(2), m.group(3), Optional.empty()));
        }
        return Optional.empty();
    }

    public static ArchiveName of(HostFacts facts, String zfsVersion) {
        return new ArchiveName(facts.board(), facts.nameVersion(), facts.channelOrNone(), Optional.of(zfsVersion));
    }

    public static ArchiveName of(Manifest m) {
        String version =
                m.os().equals("flatcar") || m.os().equals("coreos") ? m.osVersion() : m.os() + "-" + m.osVersion();
        String channel = m.channel() == null || m.channel().isEmpty() ? "none" : m.channel();
        return new ArchiveName(m.board(), version, channel, Optional.of(m.zfsVersion()));
    }

    public boolean isLegacy() {
        return zfsVersion.isEmpty();
    }

    /** Lookup matches on board and OS version; the channel is informational (the same build serves any channel). */
    public boolean matchesHost(HostFacts facts) {
        return board.equals(facts.board()) && version.equals(facts.nameVersion());
    }

    public String fileName() {
        return "corezfs_" + board + "_" + version + "_" + channel
                + zfsVersion.map(z -> "_zfs-" + z).orElse("") + ".tar.gz";
    }

    @Override
    public String toString() {
        return fileName();
    }
}
