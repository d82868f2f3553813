package io.corezfs.zfs;

import io.corezfs.CorezfsException;
import io.corezfs.trust.Hashes;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * What a release tarball ({@code zfs-X.tar.gz}, or {@code spl-X.tar.gz} before 0.8) says about itself, read by
 * streaming it once without unpacking: its single top folder, its META file, and the newest modification time
 * of its entries. That time is fixed by the release, so it serves as the build's SOURCE_DATE_EPOCH and the same
 * tarball always gives the same archive.
 *
 * @param file        where the tarball is
 * @param sha256      lower-case hex sha256 of its bytes
 * @param topDir      the folder every entry lies under, e.g. {@code zfs-2.1.11}
 * @param newestMtime the newest entry modification time
 * @param meta        {@code <topDir>/META}
 */
public record ZfsTarball(Path file, String sha256, String topDir, Instant newestMtime, ZfsMeta meta) {
    // META is a dozen lines; a huge one is not a META file and must not be read into memory.
    private static final long MAX_META_BYTES = 64 * 1024;

    /**
     * Streams the tarball.
     *
     * @param sha256 the file's hash, already computed by the caller (it checks it before trusting the content)
     * @throws CorezfsException exit 3 if the file is not a readable .tar.gz, its entries do not share one top
     *                          folder, or {@code <top>/META} is missing or not an OpenZFS META file
     */
    public static ZfsTarball read(Path file, String sha256) {
        String top = null;
        String metaText = null;
        FileTime newest = null;
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
                GzipCompressorInputStream gz = new GzipCompressorInputStream(raw, true);
                TarArchiveInputStream tar = new TarArchiveInputStream(gz)) {
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                String name = e.getName();
                while (name.startsWith("./")) {
                    name = name.substring(2);
                }
                if (name.isEmpty()) {
                    continue; // "./", the archive's own root
                }
                int slash = name.indexOf('/');
                String first = slash < 0 ? name : name.substring(0, slash);
                if (top == null) {
                    top = first;
                } else if (!top.equals(first)) {
                    throw notARelease(file, "entries lie under both '" + top + "/' and '" + first + "/'");
                }
                FileTime t = e.getLastModifiedTime();
                if (t != null && (newest == null || t.compareTo(newest) > 0)) {
                    newest = t;
                }
                if (name.equals(top + "/META") && e.isFile()) {
                    if (e.getSize() > MAX_META_BYTES) {
                        throw notARelease(file, top + "/META is " + e.getSize() + " bytes, too large for a META file");
                    }
                    metaText = new String(tar.readAllBytes(), StandardCharsets.UTF_8);
                }
            }
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot read " + file + " as a .tar.gz: "
                    + (e.getMessage() == null ? e.toString() : e.getMessage()));
        }
        if (top == null) {
            throw notARelease(file, "it is empty");
        }
        if (metaText == null) {
            throw notARelease(file, "it has no " + top + "/META");
        }
        ZfsMeta meta = ZfsMeta.parse(metaText, file.getFileName() + ":" + top + "/META");
        return new ZfsTarball(file, sha256, top, newest == null ? Instant.EPOCH : newest.toInstant(), meta);
    }

    /** The lower-case hex sha256 of a file's bytes. */
    public static String sha256(Path file) {
        try {
            return Hashes.sha256(file);
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot read " + file + ": " + e.getMessage());
        }
    }

    private static CorezfsException notARelease(Path file, String why) {
        return CorezfsException.precondition(file + " is not an OpenZFS release tarball: " + why);
    }
}
