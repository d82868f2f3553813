package io.corezfs.system;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import org.apache.commons.io.file.Counters;
import org.apache.commons.io.file.DeleteOption;
import org.apache.commons.io.file.DeletingPathVisitor;
import org.apache.commons.io.file.PathUtils;

/** Whole directory trees on the local file system. */
public final class FileTrees {
    private FileTrees() {}

    /** Deletes {@code p} and everything below it, never following a link; a missing {@code p} is fine. */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(
                p,
                new DeletingPathVisitor(
                        Counters.noopPathCounters(),
                        new LinkOption[] {LinkOption.NOFOLLOW_LINKS},
                        new DeleteOption[0]) {
                    @Override
                    public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                        // A staged read-only directory must become writable before its children can go.
                        dir.toFile().setWritable(true, true);
                        return super.preVisitDirectory(dir, attrs);
                    }
                });
    }

    public static boolean isEmpty(Path dir) throws IOException {
        return PathUtils.isEmptyDirectory(dir);
    }
}
