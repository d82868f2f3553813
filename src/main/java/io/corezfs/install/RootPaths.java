package io.corezfs.install;

import io.corezfs.CorezfsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** How a path relative to a host root is reached without leaving that root. */
public final class RootPaths {
    private RootPaths() {}

    /**
     * The machine path of a root-relative path whose existing ancestors below the root are all real directories.
     * A symlinked ancestor (say {@code etc/systemd -> /lib/systemd}) would send a write or a removal outside the
     * root; the last component itself is never followed by the callers.
     */
    public static Path inRoot(Path root, String rel, String verb) {
        Path p = root;
        String[] parts = rel.split("/");
        for (int i = 0; i < parts.length - 1; i++) {
            p = p.resolve(parts[i]);
            if (Files.isSymbolicLink(p)) {
                throw CorezfsException.precondition(
                        p + " is a symlink; refusing to " + verb + " through it (/" + rel + "); nothing was changed");
            }
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                throw CorezfsException.precondition(p + " is not a directory; cannot " + verb + " /" + rel);
            }
        }
        return p.resolve(parts[parts.length - 1]);
    }
}
