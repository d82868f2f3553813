package io.corezfs.host;

/**
 * What we know about a host: enough to name, find and verify an archive for it.
 *
 * @param os            os-release style id: {@code flatcar}, {@code coreos}, {@code debian}…
 * @param version       the OS release version, e.g. {@code 3975.2.0}
 * @param board         Flatcar board, e.g. {@code amd64-usr}; derived from the architecture elsewhere
 * @param channel       the channel the running release was published on; empty for generic hosts
 * @param updateChannel the channel the host follows for updates ({@code /etc/.../update.conf}), else the channel
 * @param kernel        the kernel release the archive must match
 * @param arch          uname architecture
 */
public record HostFacts(
        String os, String version, String board, String channel, String updateChannel, String kernel, String arch) {

    public boolean isContainerLinux() {
        return os.equals("flatcar") || os.equals("coreos");
    }

    /** The channel as it appears in archive names: never empty. */
    public String channelOrNone() {
        return channel.isEmpty() ? "none" : channel;
    }

    /**
     * The OS version as it appears in archive names. Generic hosts prefix their id, so a Debian 12 archive cannot
     * be mistaken for a Flatcar release numbered 12.
     */
    public String nameVersion() {
        return isContainerLinux() ? version : os + "-" + version;
    }
}
