package io.corezfs.install;

import io.corezfs.archive.ArchivePaths;
import io.corezfs.archive.EntryType;
import io.corezfs.archive.ManifestEntry;
import io.corezfs.system.UnitLink;
import io.corezfs.trust.Hashes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/** Whether an install under a root is still as its state says it was placed. */
public final class InstallCheck {
    private InstallCheck() {}

    /**
     * What of the install under {@code root} is missing or differs from what its state says was placed, as host
     * paths; empty when it is intact. Files under {@code /opt/corezfs} are compared by size, mode, mtime and inode
     * first and hashed only when those moved; a file in {@code /etc} only has to exist, since a changed one is the
     * user's (it is kept on every install). Unit links must exist; entries the archive did not ship are damage too.
     */
    public static List<String> damage(Path root, InstallState state) {
        List<String> out = new ArrayList<>();
        Map<String, InstallState.FileStat> stats = state.stats() == null ? Map.of() : state.stats();
        Set<String> shipped = new java.util.HashSet<>();
        try {
            for (ManifestEntry e : state.manifest().entries()) {
                shipped.add(e.path());
                if (e.path().equals(ArchivePaths.EXTENSION_RELEASE)) {
                    continue; // rewritten by every live activation in sysext mode
                }
                Path p = RootPaths.inRoot(root, e.path(), "check");
                if (e.path().startsWith("etc/")) {
                    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                        out.add("/" + e.path());
                    }
                } else if (!placed(root, p, e, stats.get(e.path()))) {
                    out.add("/" + e.path());
                }
            }
            for (UnitLink l : state.links()) {
                if (!Files.exists(RootPaths.inRoot(root, l.path(), "check"), LinkOption.NOFOLLOW_LINKS)) {
                    out.add("/" + l.path());
                }
            }
            Path opt = root.resolve("opt/corezfs");
            if (Files.isDirectory(opt, LinkOption.NOFOLLOW_LINKS)) {
                try (Stream<Path> all = Files.walk(opt)) {
                    for (Path p : all.toList()) {
                        String rel = root.relativize(p).toString();
                        // The state, and the sysext release file a live install writes, are corezfs's own.
                        boolean own = rel.equals(ArchivePaths.STATE_DIR)
                                || rel.startsWith(ArchivePaths.STATE_DIR + "/")
                                || (ArchivePaths.EXTENSION_RELEASE + "/").startsWith(rel + "/");
                        if (!shipped.contains(rel) && !own) {
                            out.add("/" + rel);
                        }
                    }
                }
            }
        } catch (IOException | UncheckedIOException e) {
            out.add("/opt/corezfs (unreadable: " + e.getMessage() + ")");
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }

    /** Whether an entry under /opt/corezfs is in place as shipped; the hash only when its recorded stat moved. */
    private static boolean placed(Path root, Path p, ManifestEntry e, InstallState.FileStat recorded)
            throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        if (e.type() == EntryType.SYMLINK) {
            return Files.isSymbolicLink(p)
                    && Files.readSymbolicLink(p).toString().equals(e.target());
        }
        int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & 07777) != e.modeBits()) {
            return false;
        }
        return switch (e.type()) {
            case DIR -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
            case HARDLINK ->
                Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
                        && Files.isSameFile(p, RootPaths.inRoot(root, e.target(), "check"));
            case FILE ->
                Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
                        && Files.size(p) == e.size()
                        && (InstallState.FileStat.of(p).equals(recorded) || matches(p, e));
            case SYMLINK -> throw new IllegalStateException();
        };
    }

    /** Whether the file at {@code p} is what the manifest entry describes (same type and content). */
    static boolean matches(Path p, ManifestEntry e) {
        try {
            return switch (e.type()) {
                case SYMLINK ->
                    Files.isSymbolicLink(p)
                            && Files.readSymbolicLink(p).toString().equals(e.target());
                case FILE, HARDLINK ->
                    Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
                            && (e.type() == EntryType.HARDLINK || Files.size(p) == e.size())
                            && (e.type() == EntryType.HARDLINK
                                    || Hashes.sha256(p).equals(e.sha256()));
                case DIR -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
            };
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }
}
