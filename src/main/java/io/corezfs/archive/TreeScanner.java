package io.corezfs.archive;

import io.corezfs.CorezfsException;
import io.corezfs.trust.Hashes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Turns an install tree ({@code etc/…}, {@code opt/corezfs/…}) into sorted manifest entries. Refuses what install
 * would refuse, so a bad tree fails at pack time on the build machine rather than on a node.
 */
final class TreeScanner {
    private final int threads;

    TreeScanner(int threads) {
        this.threads = threads;
    }

    List<ManifestEntry> scan(Path tree) throws IOException {
        if (!Files.isDirectory(tree)) {
            throw CorezfsException.invalidArchive(tree + ": not a directory");
        }
        List<Path> paths = new ArrayList<>();
        Files.walkFileTree(tree, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                paths.add(dir);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                paths.add(file);
                return FileVisitResult.CONTINUE;
            }
        });
        List<String[]> named = new ArrayList<>();
        for (Path p : paths) {
            String rel = tree.relativize(p).toString();
            if (rel.isEmpty() || rel.equals("etc") || rel.equals("opt")) {
                continue;
            }
            if (!ArchivePaths.allowed(rel)) {
                throw CorezfsException.invalidArchive(p + ": only etc/ and opt/corezfs/ may be packed");
            }
            ArchivePaths.check(rel);
            named.add(new String[] {rel});
        }
        named.sort(Comparator.comparing(a -> a[0]));

        Map<Object, String> firstByInode = new HashMap<>();
        List<ManifestEntry> entries = new ArrayList<>(named.size());
        List<Future<ManifestEntry>> hashed = new ArrayList<>(named.size());
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads));
        try {
            for (String[] n : named) {
                String rel = n[0];
                Path p = tree.resolve(rel);
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
                if ((mode & 06000) != 0 && !a.isSymbolicLink()) {
                    throw CorezfsException.invalidArchive(p + ": setuid/setgid files are not packed");
                }
                if (a.isSymbolicLink()) {
                    String target = Files.readSymbolicLink(p).toString();
                    hashed.add(done(ManifestEntry.symlink(rel, target)));
                } else if (a.isDirectory()) {
                    hashed.add(done(ManifestEntry.dir(rel, mode)));
                } else if (a.isRegularFile()) {
                    int nlink = (Integer) Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
                    Object key = a.fileKey();
                    String first = nlink > 1 && key != null ? firstByInode.putIfAbsent(key, rel) : null;
                    if (first != null) {
                        hashed.add(done(ManifestEntry.hardlink(rel, mode, first)));
                    } else {
                        hashed.add(pool.submit(() -> ManifestEntry.file(rel, mode, a.size(), sha256(p))));
                    }
                } else {
                    throw CorezfsException.invalidArchive(p + ": device nodes, fifos and sockets are not packed");
                }
            }
            for (Future<ManifestEntry> f : hashed) {
                entries.add(f.get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while hashing " + tree, e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof UncheckedIOException u) {
                throw u.getCause();
            }
            throw new IOException("hashing failed: " + c, c);
        } finally {
            pool.shutdownNow();
        }
        Map<String, String> links = new HashMap<>();
        for (ManifestEntry e : entries) {
            if (e.type() == EntryType.SYMLINK) {
                links.put(e.path(), e.target());
            }
        }
        java.util.Set<String> present =
                ArchivePaths.present(entries.stream().map(ManifestEntry::path).toList());
        for (ManifestEntry e : entries) {
            if (e.type() == EntryType.SYMLINK) {
                ArchivePaths.checkSymlink(e.path(), e.target(), links, present);
            }
        }
        return entries;
    }

    private static Future<ManifestEntry> done(ManifestEntry e) {
        return java.util.concurrent.CompletableFuture.completedFuture(e);
    }

    static String sha256(Path p) {
        try {
            return Hashes.sha256(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
