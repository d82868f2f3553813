package io.corezfs.devcontainer;

import io.corezfs.CorezfsException;
import io.corezfs.net.MirrorUrl;
import java.net.URI;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where the developer container of one OS release is published: the image and its two companions, the detached
 * OpenPGP signature ({@code .sig}) and the digests file ({@code .DIGESTS}).
 *
 * <p>The release servers lay releases out as {@code https://<channel>.release.<domain>/<board>/<version>/<file>}.
 * A mirror keeps the {@code /<board>/<version>/<file>} part but drops the channel, because mirrors are filled by
 * copying one channel's tree and are usually addressed by version alone.
 *
 * @param osId    os-release id, {@code flatcar} or {@code coreos}
 * @param board   e.g. {@code amd64-usr}
 * @param version the OS release, e.g. {@code 3975.2.0}
 * @param image   the {@code .bin.bz2} URL
 */
public record DevContainerSource(String osId, String board, String version, URI image) {

    // Path segments come from host files and the command line; anything that could climb or inject is refused so
    // the URL always names exactly one release file.
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+~-]*");
    private static final Pattern CHANNEL = Pattern.compile("[a-z0-9][a-z0-9-]*");

    /**
     * Builds the source for one release.
     *
     * @param osId    {@code flatcar} or {@code coreos} (case-insensitive); anything else is exit 3
     * @param channel release channel ({@code stable}, {@code beta}, …); only used without a mirror
     * @param board   board name
     * @param version OS version
     * @param mirror  optional base URL replacing scheme and host, may carry a path prefix; http, https or file
     * @throws CorezfsException exit 3 for an unsupported OS, a malformed segment or a malformed mirror URL
     */
    public static DevContainerSource of(
            String osId, String channel, String board, String version, Optional<URI> mirror) {
        String os = osId == null ? "" : osId.toLowerCase(Locale.ROOT);
        String domain = switch (os) {
            case "flatcar" -> "flatcar-linux.net";
            case "coreos" -> "core-os.net";
            default ->
                throw CorezfsException.precondition("no developer container is published for OS '" + osId
                        + "': only flatcar and coreos are supported");
        };
        segment("board", board);
        segment("version", version);
        String path = "/" + board + "/" + version + "/" + fileName(os);
        URI image;
        if (mirror.isPresent()) {
            image = MirrorUrl.rebase(mirror.get(), path);
        } else {
            if (channel == null || !CHANNEL.matcher(channel).matches()) {
                throw CorezfsException.precondition("invalid release channel '" + channel + "'");
            }
            image = URI.create("https://" + channel + ".release." + domain + path);
        }
        return new DevContainerSource(os, board, version, image);
    }

    /** The image's file name, e.g. {@code flatcar_developer_container.bin.bz2}. */
    public String fileName() {
        return fileName(osId);
    }

    /** The detached OpenPGP signature over the compressed image. */
    public URI signature() {
        return URI.create(image + ".sig");
    }

    /** The digests file listing MD5, SHA1 and SHA512 of the compressed image. */
    public URI digests() {
        return URI.create(image + ".DIGESTS");
    }

    private static String fileName(String os) {
        return os + "_developer_container.bin.bz2";
    }

    private static void segment(String what, String value) {
        if (value == null || !SEGMENT.matcher(value).matches()) {
            throw CorezfsException.precondition("invalid " + what + " '" + value + "' for a developer container URL");
        }
    }
}
