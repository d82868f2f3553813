package io.corezfs.archive;

import io.corezfs.CorezfsException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Writes reproducible archives: the same tree and metadata always give the same bytes. Entries are sorted, owned
 * by 0:0 without names, stamped with the build epoch, long names go into PAX headers, and the gzip header has no
 * name or time.
 */
public final class ArchiveWriter {
    private final int threads;
    private final ManifestCodec codec = new ManifestCodec();

    public ArchiveWriter(int threads) {
        this.threads = Math.max(1, threads);
    }

    /**
     * Packs {@code tree} into {@code target}, writing a temporary sibling first so that a failed or interrupted
     * pack never leaves a truncated archive under the real name.
     *
     * @param header everything but the entries, which are read from the tree
     */
    public Manifest pack(Path tree, Manifest header, Path target) throws IOException {
        List<ManifestEntry> entries = new TreeScanner(threads).scan(tree);
        Manifest manifest = header.withEntries(entries);
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve(
                "." + target.getFileName() + "." + ProcessHandle.current().pid() + ".corezfs-tmp");
        try {
            try (OutputStream file =
                    Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                write(tree, manifest, file);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return manifest;
    }

    private void write(Path tree, Manifest manifest, OutputStream file) throws IOException {
        long mtimeMillis = manifest.buildEpoch() * 1000L;
        try (ParallelGzipOutputStream gz = new ParallelGzipOutputStream(file, 6, threads);
                TarArchiveOutputStream tar = new TarArchiveOutputStream(gz)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            tar.setAddPaxHeadersForNonAsciiNames(true);

            byte[] json = codec.encode(manifest);
            TarArchiveEntry m = entry(Manifest.ENTRY_NAME, TarConstants.LF_NORMAL, 0644, mtimeMillis);
            m.setSize(json.length);
            tar.putArchiveEntry(m);
            tar.write(json);
            tar.closeArchiveEntry();

            byte[] buf = new byte[1 << 16];
            for (ManifestEntry e : manifest.entries()) {
                switch (e.type()) {
                    case DIR -> {
                        tar.putArchiveEntry(entry(e.path() + "/", TarConstants.LF_DIR, e.modeBits(), mtimeMillis));
                        tar.closeArchiveEntry();
                    }
                    case SYMLINK, HARDLINK -> {
                        byte type = e.type() == EntryType.SYMLINK ? TarConstants.LF_SYMLINK : TarConstants.LF_LINK;
                        TarArchiveEntry t = entry(e.path(), type, e.modeBits(), mtimeMillis);
                        t.setLinkName(e.target());
                        tar.putArchiveEntry(t);
                        tar.closeArchiveEntry();
                    }
                    case FILE -> {
                        TarArchiveEntry t = entry(e.path(), TarConstants.LF_NORMAL, e.modeBits(), mtimeMillis);
                        t.setSize(e.size());
                        tar.putArchiveEntry(t);
                        long copied = 0;
                        try (InputStream in = Files.newInputStream(tree.resolve(e.path()), LinkOption.NOFOLLOW_LINKS)) {
                            int n;
                            while ((n = in.read(buf)) > 0) {
                                if (copied + n > e.size()) {
                                    throw changed(tree, e);
                                }
                                tar.write(buf, 0, n);
                                copied += n;
                            }
                        }
                        if (copied != e.size()) {
                            throw changed(tree, e);
                        }
                        tar.closeArchiveEntry();
                    }
                    default -> throw new IllegalStateException(e.type().toString());
                }
            }
            tar.finish();
        }
    }

    private static CorezfsException changed(Path tree, ManifestEntry e) {
        return CorezfsException.invalidArchive(tree.resolve(e.path()) + " changed while it was being packed");
    }

    private static TarArchiveEntry entry(String name, byte type, int mode, long mtimeMillis) {
        TarArchiveEntry t = new TarArchiveEntry(name, type);
        t.setMode(mode & 07777);
        t.setModTime(mtimeMillis);
        t.setUserId(0);
        t.setGroupId(0);
        t.setUserName("");
        t.setGroupName("");
        return t;
    }
}
