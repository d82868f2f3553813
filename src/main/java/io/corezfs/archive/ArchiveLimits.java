package io.corezfs.archive;

/**
 * Ceilings that make a hostile archive fail fast instead of filling a node's disk or heap. The defaults are far
 * above a real ZFS build (about 150 MB in a few thousand entries).
 */
public record ArchiveLimits(long maxTotalBytes, int maxEntries, int maxManifestBytes, int maxHeaderBytes) {
    public static final ArchiveLimits DEFAULT = new ArchiveLimits(4L << 30, 200_000, 64 << 20, 1 << 20);
}
