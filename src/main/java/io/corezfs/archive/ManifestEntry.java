package io.corezfs.archive;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * One archive entry as the manifest records it.
 *
 * @param path   relative path without a trailing slash, e.g. {@code opt/corezfs/usr/sbin/zfs}
 * @param mode   permission bits in octal, e.g. {@code 0755}
 * @param size   content size, files only
 * @param sha256 content hash, files only
 * @param target link target: the symlink's text, or the archive path a hardlink points to
 */
@JsonPropertyOrder({"path", "type", "mode", "size", "sha256", "target"})
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ManifestEntry(String path, EntryType type, String mode, Long size, String sha256, String target) {

    public static ManifestEntry dir(String path, int mode) {
        return new ManifestEntry(path, EntryType.DIR, octal(mode), null, null, null);
    }

    public static ManifestEntry file(String path, int mode, long size, String sha256) {
        return new ManifestEntry(path, EntryType.FILE, octal(mode), size, sha256, null);
    }

    public static ManifestEntry symlink(String path, String target) {
        return new ManifestEntry(path, EntryType.SYMLINK, "0777", null, null, target);
    }

    public static ManifestEntry hardlink(String path, int mode, String target) {
        return new ManifestEntry(path, EntryType.HARDLINK, octal(mode), null, null, target);
    }

    public int modeBits() {
        return Integer.parseInt(mode, 8);
    }

    public static String octal(int mode) {
        return String.format("%04o", mode & 07777);
    }
}
