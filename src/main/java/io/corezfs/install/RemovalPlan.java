package io.corezfs.install;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.archive.EntryType;
import io.corezfs.archive.ManifestEntry;
import io.corezfs.system.UnitLink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What removing an install takes: the unit links and {@code /etc} files still as shipped, the directories the install
 * created, and {@code /opt/corezfs}; locally changed files are kept.
 */
record RemovalPlan(Path current, List<Path> delete, List<String> kept, List<Path> dirs) {

    /** Every check before the first removal: a refusal halfway would leave half an install. */
    static RemovalPlan of(Path root, InstallState state) {
        Path current = RootPaths.inRoot(root, "opt/corezfs", "remove");
        if (Files.isSymbolicLink(current)) {
            throw CorezfsException.precondition(
                    current + " is a symlink; refusing to remove through it; nothing was changed");
        }
        List<Path> delete = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        List<Path> dirs = new ArrayList<>();
        try {
            for (UnitLink l : state.links()) {
                Path p = RootPaths.inRoot(root, l.path(), "remove");
                if (Files.isSymbolicLink(p)
                        && Files.readSymbolicLink(p).toString().equals(l.target())) {
                    delete.add(p);
                }
            }
            List<ManifestEntry> etc = state.manifest().entries().stream()
                    .filter(e -> e.path().startsWith("etc/"))
                    .sorted(Comparator.comparing(ManifestEntry::path).reversed())
                    .toList();
            for (ManifestEntry e : etc) {
                Path p = RootPaths.inRoot(root, e.path(), "remove");
                if (e.type() == EntryType.DIR || !Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                if (InstallCheck.matches(p, e)) {
                    delete.add(p);
                } else {
                    kept.add("/" + e.path());
                }
            }
            // Only directories the install created: one the host had stays, even when empty.
            for (String d : state.createdDirs().stream()
                    .sorted(Comparator.reverseOrder())
                    .toList()) {
                Path p = RootPaths.inRoot(root, d, "remove");
                if (Files.isSymbolicLink(p)) {
                    throw CorezfsException.precondition(
                            p + " is a symlink; refusing to remove through it; nothing was changed");
                }
                dirs.add(p);
            }
        } catch (IOException e) {
            throw new CorezfsException(ExitCode.UNEXPECTED, "cannot read what to remove from " + root + ": " + e, e);
        }
        return new RemovalPlan(current, delete, kept, dirs);
    }
}
