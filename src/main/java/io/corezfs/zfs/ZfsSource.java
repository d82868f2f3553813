package io.corezfs.zfs;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The OpenZFS source a build will compile, resolved and checked: downloaded or given, its hash known, its META
 * read and found to support the target kernel.
 *
 * @param version the release; from the pinned table when the tarball's hash is in it, else from its META
 * @param zfs     the zfs release tarball
 * @param spl     the SPL tarball, for releases before 0.8 only; it is built first
 * @param pinned  whether every tarball matched a hash in the pinned table
 * @param signer  the fingerprint of the bundled release key whose signature vouched for a tarball that is not
 *                pinned; empty when pinned, or when nothing vouched for it (--insecure-source)
 * @param why     one line saying which release this is and why it was taken, for the build's output
 */
public record ZfsSource(
        ZfsVersion version,
        ZfsTarball zfs,
        Optional<ZfsTarball> spl,
        boolean pinned,
        Optional<String> signer,
        String why) {

    public ZfsSource(ZfsVersion version, ZfsTarball zfs, Optional<ZfsTarball> spl, boolean pinned) {
        this(version, zfs, spl, pinned, Optional.empty(), "");
    }

    /** Whether something corezfs trusts vouched for the source: the pinned table or a bundled release key. */
    public boolean verified() {
        return pinned || signer.isPresent();
    }

    /** The tarballs to unpack: zfs first, then the SPL if there is one. */
    public List<Path> files() {
        List<Path> files = new ArrayList<>(List.of(zfs.file()));
        spl.ifPresent(s -> files.add(s.file()));
        return List.copyOf(files);
    }

    /** The zfs tarball's sha256. */
    public String sha256() {
        return zfs.sha256();
    }

    /** The zfs tarball's top folder, e.g. {@code zfs-2.1.11}. */
    public String topDir() {
        return zfs.topDir();
    }

    /** The zfs tarball's META. */
    public ZfsMeta meta() {
        return zfs.meta();
    }

    /** The newest entry time over all tarballs: the reproducible build's timestamp. */
    public Instant epoch() {
        Instant e = zfs.newestMtime();
        if (spl.isPresent() && spl.get().newestMtime().isAfter(e)) {
            e = spl.get().newestMtime();
        }
        return e;
    }

    /** {@link #epoch()} in whole seconds, as SOURCE_DATE_EPOCH wants it. */
    public long sourceDateEpoch() {
        return epoch().getEpochSecond();
    }
}
