package io.corezfs.zfs;

import io.corezfs.net.MirrorUrl;
import java.net.URI;
import java.util.Optional;

/**
 * Where OpenZFS release tarballs are published: GitHub release assets, under {@code openzfs/zfs} since 0.8 and
 * under the project's old name {@code zfsonlinux/zfs} before, where the SPL tarball sits in the same release.
 * A mirror replaces scheme and host (and may add a path prefix) but keeps the GitHub path, so it is filled by
 * copying release assets into the same folders.
 */
public final class ZfsReleaseUrls {
    private static final URI GITHUB = URI.create("https://github.com");

    private ZfsReleaseUrls() {}

    /** {@code …/zfs-X/zfs-X.tar.gz}. */
    public static URI zfs(ZfsVersion version, Optional<URI> mirror) {
        return asset(version, "zfs-" + version + ".tar.gz", mirror);
    }

    /** {@code …/zfs-X/spl-X.tar.gz}; only releases before 0.8 have one. */
    public static URI spl(ZfsVersion version, Optional<URI> mirror) {
        if (!version.needsSpl()) {
            throw new IllegalArgumentException("OpenZFS " + version + " has no separate SPL tarball");
        }
        return asset(version, "spl-" + version + ".tar.gz", mirror);
    }

    private static URI asset(ZfsVersion version, String file, Optional<URI> mirror) {
        String project = version.needsSpl() ? "zfsonlinux" : "openzfs";
        String path = "/" + project + "/zfs/releases/download/zfs-" + version + "/" + file;
        return MirrorUrl.rebase(mirror.orElse(GITHUB), path);
    }
}
