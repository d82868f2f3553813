package io.corezfs.archive;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/**
 * The archive's first entry: what it was built for and every entry it holds. Install trusts nothing in the tar
 * stream that the manifest does not list with the same type, mode, size and hash.
 */
@JsonPropertyOrder({
    "format",
    "os",
    "osVersion",
    "board",
    "channel",
    "kernel",
    "arch",
    "zfsVersion",
    "toolVersion",
    "buildEpoch",
    "entries"
})
public record Manifest(
        int format,
        String os,
        String osVersion,
        String board,
        String channel,
        String kernel,
        String arch,
        String zfsVersion,
        String toolVersion,
        long buildEpoch,
        List<ManifestEntry> entries) {

    public static final int FORMAT = 1;
    /** Name of the manifest entry in the tar; always first. */
    public static final String ENTRY_NAME = "corezfs-manifest.json";

    public Manifest withEntries(List<ManifestEntry> newEntries) {
        return new Manifest(
                format,
                os,
                osVersion,
                board,
                channel,
                kernel,
                arch,
                zfsVersion,
                toolVersion,
                buildEpoch,
                List.copyOf(newEntries));
    }
}
