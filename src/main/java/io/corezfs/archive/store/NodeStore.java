package io.corezfs.archive.store;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.archive.ArchiveLimits;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.archive.Manifest;
import io.corezfs.host.HostFacts;
import io.corezfs.trust.Hashes;
import io.corezfs.trust.SignedFile;
import io.corezfs.zfs.ZfsVersion;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The node's own archives, {@code /var/lib/corezfs/archives} under its root: the one prepared before an OS update's
 * reboot, the running one and the previous one, so that the boot after an update, and a rollback to the other
 * {@code /usr} partition, find their ZFS here without the network.
 *
 * <p>Only complete, readable archives appear under their real names: an archive is copied to a dot-name first and
 * renamed into place. No directory on the way from the root may be a symlink, so a planted link cannot send the
 * copy (or a pruning delete) elsewhere.
 */
public final class NodeStore {
    /** The store's path on a node, relative to its root: the one place it is named. */
    public static final String DIR = "var/lib/corezfs/archives";

    private final Path root;
    private final ArchiveReader reader;

    public NodeStore(Path root) {
        this(root, new ArchiveReader(ArchiveLimits.DEFAULT));
    }

    public NodeStore(Path root, ArchiveReader reader) {
        this.root = root;
        this.reader = reader;
    }

    public Path dir() {
        return root.resolve(DIR);
    }

    /** The best archive for {@code target} (its OS version, board and kernel, by the manifest), newest ZFS first. */
    public Optional<Path> find(HostFacts target) {
        return new ArchiveStore(reader).find(checkedDir(), target).map(ArchiveStore.Candidate::path);
    }

    /**
     * An archive for OS {@code version} on {@code board}, whatever its kernel: what {@code prepare --check} asks
     * before the reboot, when the next version's kernel is not known on the node. Names narrow, the manifest decides.
     */
    public Optional<Path> findVersion(String os, String version, String board) {
        return entries().stream()
                .filter(e -> e.manifest().os().equals(os)
                        && e.manifest().osVersion().equals(version)
                        && e.manifest().board().equals(board))
                .max(Comparator.comparing(e -> e.manifest().zfsVersion(), ZfsVersion.ORDER))
                .map(Entry::path);
    }

    /** A valid archive in the store and its manifest. */
    public record Entry(Path path, Manifest manifest) {}

    /** Every archive in the store whose manifest reads and agrees with its name; anything else is ignored. */
    public List<Entry> entries() {
        Path dir = checkedDir();
        List<Entry> out = new ArrayList<>();
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "corezfs_*.tar.gz")) {
            for (Path p : ds) {
                Optional<ArchiveName> n = ArchiveName.parse(p.getFileName().toString());
                if (n.isEmpty() || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                try {
                    Manifest m = reader.readManifest(p).manifest();
                    if (ArchiveName.of(m).fileName().equals(p.getFileName().toString())) {
                        out.add(new Entry(p, m));
                    }
                } catch (CorezfsException e) {
                    // Not an archive this store can vouch for; find() passes it over the same way.
                }
            }
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot list " + dir + ": " + e.getMessage());
        }
        out.sort(Comparator.comparing(e -> e.path().getFileName().toString()));
        return out;
    }

    /**
     * Copies {@code archive} into the store under the name its manifest gives, atomically, and returns that path.
     * An identical archive already there is kept as it is. An unreadable archive is refused (exit 4) before anything
     * is written.
     */
    public Path add(Path archive) {
        Manifest m = reader.readManifest(archive).manifest();
        Path dir = checkedDir();
        boolean staged = archive.getParent() != null
                && archive.getParent().equals(dir)
                && archive.getFileName().toString().startsWith(".");
        Path target = dir.resolve(ArchiveName.of(m).fileName());
        Path tmp = dir.resolve("." + target.getFileName() + ".tmp");
        try {
            Files.createDirectories(dir);
            // createDirectories follows links; check again that nothing on the way is one now.
            checkedDir();
            if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
                if (Files.isSameFile(target, archive) || Hashes.sha256(target).equals(Hashes.sha256(archive))) {
                    carrySignature(archive, target, false);
                    return target;
                }
            } else if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                throw CorezfsException.precondition(
                        target + " exists and is not a regular file; refusing to replace it. Remove it and run again");
            }
            if (staged) {
                // Already on the store's filesystem under a dot-name: the rename alone publishes it.
                tmp = archive;
            } else {
                Files.deleteIfExists(tmp);
                Files.copy(archive, tmp, LinkOption.NOFOLLOW_LINKS);
            }
            try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                // The rename must not reach the disk before the bytes it exposes.
                c.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            carrySignature(archive, target, true);
            return target;
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new CorezfsException(
                    ExitCode.PRECONDITION,
                    "cannot add " + archive.getFileName() + " to the node store " + dir + ": " + e.getMessage()
                            + "; the store is unchanged");
        }
    }

    /**
     * The archive's signature ({@code FILE.sig}) comes along, so the node can check it again before it loads a module
     * from the store; a signature left from an earlier archive of the same name goes, so none ever sits beside bytes
     * it was not made for.
     */
    private static void carrySignature(Path archive, Path target, boolean replaced) throws IOException {
        Path from = SignedFile.sigOf(archive);
        Path to = SignedFile.sigOf(target);
        if (from.equals(to)) {
            return;
        }
        if (Files.isRegularFile(from, LinkOption.NOFOLLOW_LINKS)) {
            Path tmp = to.resolveSibling("." + to.getFileName() + ".tmp");
            Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING, LinkOption.NOFOLLOW_LINKS);
            Files.move(tmp, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } else if (replaced) {
            Files.deleteIfExists(to);
        }
    }

    /**
     * A dot-named file in the store directory (created if need be) for an archive on its way in: a download or a
     * build lands here, on the store's filesystem, so {@link #add} publishes it with a rename. Never listed.
     */
    public Path incoming(String name) {
        if (!ArchiveName.parse(name).isPresent() && !name.matches("[A-Za-z0-9][A-Za-z0-9._+~-]{0,200}")) {
            throw new IllegalArgumentException("not a plain file name: " + name);
        }
        Path dir = checkedDir();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot create the node store " + dir + ": " + e.getMessage());
        }
        return checkedDir().resolve("." + name + ".incoming");
    }

    /**
     * Keeps the newest archive of each of the {@code keep} newest OS versions (per board), and every archive in
     * {@code protect} (the installed one, the one for the running or pending OS); deletes the rest and returns what
     * it deleted. A protected archive never counts as deleted, whatever its age.
     */
    public List<Path> prune(int keep, Set<Path> protect) {
        if (keep < 1) {
            throw new IllegalArgumentException("keep must be at least 1: " + keep);
        }
        Set<Path> protectedNames = protect.stream()
                .map(p -> p.getFileName().toString())
                .map(dir()::resolve)
                .collect(Collectors.toSet());
        Map<String, List<Entry>> byBoard = new LinkedHashMap<>();
        for (Entry e : entries()) {
            byBoard.computeIfAbsent(e.manifest().board(), b -> new ArrayList<>())
                    .add(e);
        }
        List<Path> deleted = new ArrayList<>();
        for (List<Entry> board : byBoard.values()) {
            Map<String, List<Entry>> byVersion = board.stream()
                    .collect(Collectors.groupingBy(
                            e -> e.manifest().osVersion(), LinkedHashMap::new, Collectors.toList()));
            List<String> versions = byVersion.keySet().stream()
                    .sorted(ZfsVersion.ORDER.reversed())
                    .toList();
            for (int i = 0; i < versions.size(); i++) {
                List<Entry> same = byVersion.get(versions.get(i));
                same.sort(Comparator.comparing((Entry e) -> e.manifest().zfsVersion(), ZfsVersion.ORDER)
                        .reversed());
                for (int j = 0; j < same.size(); j++) {
                    Path p = same.get(j).path();
                    boolean kept = (i < keep && j == 0) || protectedNames.contains(p);
                    if (!kept) {
                        try {
                            Files.deleteIfExists(p);
                            Files.deleteIfExists(SignedFile.sigOf(p));
                            deleted.add(p);
                        } catch (IOException e) {
                            throw CorezfsException.precondition("cannot remove " + p + ": " + e.getMessage());
                        }
                    }
                }
            }
        }
        return deleted;
    }

    /**
     * Empties the store for an uninstall: its archives and anything left on its way in, then the store directory and
     * each parent up to the root that is left empty (so an image root is as it was before the install). Files it does
     * not recognize stay, and so does their directory. Returns the archives removed.
     */
    public List<Path> removeAll() {
        Path dir = checkedDir();
        List<Path> removed = new ArrayList<>();
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return removed;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                boolean archive = ArchiveName.parse(n).isPresent();
                boolean leftover =
                        n.startsWith(".") && (n.endsWith(".tmp") || n.endsWith(".incoming") || n.endsWith(".part"));
                if ((archive || leftover) && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    Files.delete(p);
                    if (archive) {
                        removed.add(p);
                    }
                }
            }
            for (Path p = dir; p != null && !p.equals(root) && p.startsWith(root); p = p.getParent()) {
                try (DirectoryStream<Path> left = Files.newDirectoryStream(p)) {
                    if (left.iterator().hasNext()) {
                        break;
                    }
                }
                Files.delete(p);
            }
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot empty the node store " + dir + ": " + e.getMessage());
        }
        return removed;
    }

    /** The store directory, after checking that no directory from the root down to it is a symlink. */
    private Path checkedDir() {
        Path p = root;
        for (String part : DIR.split("/")) {
            p = p.resolve(part);
            if (Files.isSymbolicLink(p)) {
                throw CorezfsException.precondition(
                        p + " is a symlink; refusing to use the node store through it (/" + DIR + ")");
            }
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                throw CorezfsException.precondition(p + " is not a directory; cannot use the node store /" + DIR);
            }
        }
        return p;
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a dot-file is never taken for an archive
        }
    }
}
