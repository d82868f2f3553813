package io.corezfs.net;

import io.corezfs.CorezfsException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * Moves a download URL onto a mirror: the mirror base replaces scheme and host (and may add a path prefix) while
 * the upstream path is kept, so a mirror is filled by copying files into the same folders they came from.
 */
public final class MirrorUrl {
    private MirrorUrl() {}

    /**
     * @param mirror base URL: {@code http(s)://host[:port][/prefix]} or {@code file:///dir}
     * @param path   the upstream path, starting with {@code /}
     * @throws CorezfsException exit 3 for any other shape of mirror URL
     */
    public static URI rebase(URI mirror, String path) {
        String scheme = mirror.getScheme() == null ? "" : mirror.getScheme().toLowerCase(Locale.ROOT);
        boolean remote = scheme.equals("http") || scheme.equals("https");
        if (!(remote || scheme.equals("file"))
                || mirror.isOpaque()
                || (remote && (mirror.getHost() == null || mirror.getHost().isEmpty()))
                || mirror.getRawQuery() != null
                || mirror.getRawFragment() != null) {
            throw CorezfsException.precondition(
                    "invalid mirror URL '" + mirror + "': expected http(s)://host[:port][/prefix] or file:///dir");
        }
        String prefix = mirror.getRawPath() == null ? "" : mirror.getRawPath();
        while (prefix.endsWith("/")) {
            prefix = prefix.substring(0, prefix.length() - 1);
        }
        try {
            // Rebuilt from raw parts so user-info, port and an already-encoded prefix survive unchanged.
            String authority = mirror.getRawAuthority() == null ? "" : mirror.getRawAuthority();
            return new URI(scheme + "://" + authority + prefix + path);
        } catch (URISyntaxException e) {
            throw CorezfsException.precondition("invalid mirror URL '" + mirror + "': " + e.getReason());
        }
    }
}
