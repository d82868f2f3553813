package io.corezfs.archive;

import io.corezfs.CorezfsException;
import io.corezfs.trust.Hashes;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.io.input.ProxyInputStream;
import org.apache.commons.io.input.ReadAheadInputStream;

/**
 * Reads archives without trusting them. The manifest is checked on its own first (paths, link targets, sizes),
 * then every tar entry must match its manifest line exactly, and every file's bytes must hash to the manifest's
 * value. Nothing reaches the sink that the manifest does not list.
 */
public final class ArchiveReader {
    private final ArchiveLimits limits;
    private final ManifestCodec codec = new ManifestCodec();

    public ArchiveReader(ArchiveLimits limits) {
        this.limits = limits;
    }

    /** A manifest together with the hash of its bytes, which identifies the archive's content. */
    public record Loaded(Manifest manifest, String sha256) {}

    /** Reads and checks only the manifest: cheap, for lookup, listing and no-op detection. */
    public Loaded readManifest(Path archive) {
        return withTar(archive, (tar, bounded) -> readManifestEntry(archive, tar, bounded));
    }

    /** Reads the whole archive into {@code sink}, verifying structure and every hash. */
    public Loaded read(Path archive, ArchiveSink sink) {
        return withTar(archive, (tar, bounded) -> {
            Loaded loaded = readManifestEntry(archive, tar, bounded);
            new Walk(archive, loaded.manifest(), sink, tar, bounded).run();
            return loaded;
        });
    }

    private interface TarBody<T> {
        T apply(TarArchiveInputStream tar, BoundedInputStream bounded) throws IOException;
    }

    private <T> T withTar(Path archive, TarBody<T> body) {
        long ceiling = limits.maxTotalBytes()
                + limits.maxManifestBytes()
                + (long) limits.maxEntries() * 1536
                + limits.maxHeaderBytes();
        try (InputStream file = Files.newInputStream(archive);
                GZIPInputStream gz = new GZIPInputStream(new BufferedInputStream(file, 1 << 16), 1 << 16);
                // Inflate on a second thread, ahead of hashing and writing, as tar -xzf overlaps gzip and tar.
                InputStream ahead = ReadAheadInputStream.builder()
                        .setInputStream(truncationIsAnError(gz))
                        .setBufferSize(1 << 20)
                        .get();
                BoundedInputStream bounded = new BoundedInputStream(new BufferedInputStream(ahead, 1 << 16), ceiling);
                TarArchiveInputStream tar = new TarArchiveInputStream(bounded)) {
            return body.apply(tar, bounded);
        } catch (NoSuchFileException e) {
            throw CorezfsException.invalidArchive(archive + ": no such file");
        } catch (EOFException | Truncated e) {
            throw CorezfsException.invalidArchive(archive + ": truncated (unexpected end of data)");
        } catch (ZipException e) {
            throw CorezfsException.invalidArchive(archive + ": not a valid gzip file (" + e.getMessage() + ")");
        } catch (IOException e) {
            String msg = String.valueOf(e.getMessage());
            if (msg.contains("Truncated") || msg.contains("truncated") || msg.contains("premature")) {
                throw CorezfsException.invalidArchive(archive + ": truncated (" + msg + ")");
            }
            throw CorezfsException.invalidArchive(archive + ": unreadable archive (" + msg + ")");
        } catch (IllegalArgumentException e) {
            // commons-compress reports malformed headers (bad octal, bad PAX records) this way.
            throw CorezfsException.invalidArchive(archive + ": malformed tar header (" + e.getMessage() + ")");
        }
    }

    /** The gzip stream ended early; see {@link #truncationIsAnError}. */
    private static final class Truncated extends IOException {
        Truncated(EOFException cause) {
            super(cause.getMessage(), cause);
        }
    }

    /**
     * commons-io's read-ahead takes an {@link EOFException} from its source for the end of the stream, which would
     * let an archive cut inside its gzip trailer pass; here it stays an error.
     */
    private static InputStream truncationIsAnError(InputStream in) {
        return new ProxyInputStream(in) {
            @Override
            protected void handleIOException(IOException e) throws IOException {
                throw e instanceof EOFException eof ? new Truncated(eof) : e;
            }
        };
    }

    private Loaded readManifestEntry(Path archive, TarArchiveInputStream tar, BoundedInputStream bounded)
            throws IOException {
        bounded.allow(limits.maxHeaderBytes(), "a tar header");
        TarArchiveEntry first = tar.getNextEntry();
        if (first == null || !first.getName().equals(Manifest.ENTRY_NAME) || !first.isFile()) {
            throw CorezfsException.invalidArchive(archive + ": no " + Manifest.ENTRY_NAME
                    + " as first entry (not a corezfs archive, or made by the original tool)");
        }
        if (first.getSize() > limits.maxManifestBytes()) {
            throw CorezfsException.invalidArchive(archive + ": manifest is larger than allowed");
        }
        bounded.allow(first.getSize(), "the manifest");
        byte[] json = tar.readNBytes((int) first.getSize());
        if (json.length != first.getSize()) {
            throw new EOFException();
        }
        Manifest m = codec.decode(json, archive.toString());
        checkManifest(m);
        return new Loaded(m, Hashes.sha256(json));
    }

    private void checkManifest(Manifest m) {
        if (m.entries().size() > limits.maxEntries()) {
            throw CorezfsException.invalidArchive("archive has more than " + limits.maxEntries() + " entries");
        }
        Map<String, ManifestEntry> byPath = new HashMap<>();
        Map<String, String> symlinks = new HashMap<>();
        long total = 0;
        for (ManifestEntry e : m.entries()) {
            String path = ArchivePaths.check(e.path());
            if (!path.equals(e.path())) {
                throw CorezfsException.invalidArchive("manifest path '" + e.path() + "' is not canonical");
            }
            if (path.equals("opt/corezfs") && e.type() != EntryType.DIR) {
                throw CorezfsException.invalidArchive("unsafe entry 'opt/corezfs': must be a directory, not a "
                        + e.type().json());
            }
            if (byPath.putIfAbsent(path, e) != null) {
                throw CorezfsException.invalidArchive("duplicate entry '" + path + "' in the manifest");
            }
            if ((e.modeBits() & 06000) != 0) {
                throw CorezfsException.invalidArchive("unsafe entry '" + path + "': setuid/setgid mode " + e.mode());
            }
            if (e.type() == EntryType.FILE) {
                total += e.size();
                if (total > limits.maxTotalBytes()) {
                    throw CorezfsException.invalidArchive(
                            "archive content is larger than allowed (" + limits.maxTotalBytes() + " bytes)");
                }
            } else if (e.type() == EntryType.SYMLINK) {
                symlinks.put(path, e.target());
            } else if (e.type() == EntryType.HARDLINK) {
                ManifestEntry t = byPath.get(e.target());
                if (t == null || t.type() != EntryType.FILE || !topOf(t.path()).equals(topOf(path))) {
                    throw CorezfsException.invalidArchive(
                            "unsafe entry '" + path + "': hardlink to '" + ArchivePaths.printable(e.target())
                                    + "', which is not an earlier file under the same top directory");
                }
            }
        }
        Set<String> present = ArchivePaths.present(byPath.keySet());
        for (ManifestEntry e : m.entries()) {
            for (String a = ArchivePaths.parent(e.path()); !a.isEmpty(); a = ArchivePaths.parent(a)) {
                ManifestEntry anc = byPath.get(a);
                if (anc != null && anc.type() != EntryType.DIR) {
                    throw CorezfsException.invalidArchive("unsafe entry '" + e.path() + "': would be written through "
                            + anc.type().json() + " '" + a + "'");
                }
            }
            if (e.type() == EntryType.SYMLINK) {
                ArchivePaths.checkSymlink(e.path(), e.target(), symlinks, present);
            }
        }
    }

    private static String topOf(String path) {
        return path.substring(0, path.indexOf('/'));
    }

    /** One pass over the tar entries after the manifest. */
    private final class Walk {
        private final Path archive;
        private final Map<String, ManifestEntry> expected = new HashMap<>();
        private final Set<String> seen = new HashSet<>();
        private final ArchiveSink sink;
        private final TarArchiveInputStream tar;
        private final BoundedInputStream bounded;
        private final byte[] buf = new byte[1 << 16];

        Walk(Path archive, Manifest m, ArchiveSink sink, TarArchiveInputStream tar, BoundedInputStream bounded) {
            this.archive = archive;
            for (ManifestEntry e : m.entries()) {
                expected.put(e.path(), e);
            }
            this.sink = sink;
            this.tar = tar;
            this.bounded = bounded;
        }

        void run() throws IOException {
            while (true) {
                bounded.allow(limits.maxHeaderBytes(), "a tar header");
                TarArchiveEntry t = tar.getNextEntry();
                if (t == null) {
                    break;
                }
                entry(t);
            }
            if (seen.size() != expected.size()) {
                String missing = expected.keySet().stream()
                        .filter(p -> !seen.contains(p))
                        .sorted()
                        .findFirst()
                        .orElse("?");
                throw CorezfsException.invalidArchive(archive + ": truncated or incomplete: '" + missing
                        + "' is in the manifest but not in the archive");
            }
            // Read to the end so the gzip trailer (CRC and length) is checked too.
            bounded.allow(limits.maxHeaderBytes(), "trailing data");
            while (bounded.read(buf) >= 0) {
                // draining
            }
        }

        private void entry(TarArchiveEntry t) throws IOException {
            String raw = t.getName();
            String path = ArchivePaths.check(raw);
            EntryType type = typeOf(t, path);
            int mode = t.getMode();
            int fmt = mode & 0170000;
            if (fmt == 0140000) {
                throw unsafe(path, "socket");
            }
            if (fmt == 0020000 || fmt == 0060000 || fmt == 0010000) {
                throw unsafe(path, "device node or fifo");
            }
            if ((mode & 06000) != 0) {
                throw unsafe(path, "setuid/setgid mode " + ManifestEntry.octal(mode));
            }
            if (!seen.add(path)) {
                throw CorezfsException.invalidArchive("duplicate entry '" + path + "' in the archive");
            }
            ManifestEntry want = expected.get(path);
            if (want == null) {
                throw CorezfsException.invalidArchive("entry '" + path + "' is not listed in the manifest");
            }
            String target = type == EntryType.SYMLINK || type == EntryType.HARDLINK ? t.getLinkName() : null;
            boolean same = want.type() == type
                    && (type == EntryType.SYMLINK || (want.modeBits() == (mode & 07777)))
                    && (type != EntryType.FILE || want.size() == t.getSize())
                    && (target == null || target.equals(want.target()));
            if (!same) {
                throw CorezfsException.invalidArchive("entry '" + path + "' differs from the manifest");
            }
            if (type == EntryType.HARDLINK && !seen.contains(want.target())) {
                throw unsafe(path, "hardlink before its target");
            }
            switch (type) {
                case DIR -> sink.directory(want);
                case SYMLINK -> sink.symlink(want);
                case HARDLINK -> sink.hardlink(want);
                case FILE -> copy(t, want);
                default -> throw new IllegalStateException();
            }
        }

        private void copy(TarArchiveEntry t, ManifestEntry want) throws IOException {
            bounded.allow(t.getSize(), "entry '" + want.path() + "'");
            MessageDigest md = Hashes.newSha256();
            long left = t.getSize();
            try (OutputStream out = sink.file(want)) {
                while (left > 0) {
                    int n = tar.read(buf, 0, (int) Math.min(buf.length, left));
                    if (n < 0) {
                        throw new EOFException();
                    }
                    md.update(buf, 0, n);
                    out.write(buf, 0, n);
                    left -= n;
                }
            }
            String got = HexFormat.of().formatHex(md.digest());
            if (!got.equals(want.sha256())) {
                throw CorezfsException.verification(archive + ": sha256 mismatch for '" + want.path() + "'");
            }
        }

        private EntryType typeOf(TarArchiveEntry t, String path) {
            byte flag = t.isDirectory() ? TarConstants.LF_DIR : linkFlag(t);
            if (t.isCharacterDevice() || t.isBlockDevice()) {
                throw unsafe(path, "device node");
            }
            if (t.isFIFO()) {
                throw unsafe(path, "fifo");
            }
            if (t.isDirectory()) {
                return EntryType.DIR;
            }
            if (t.isSymbolicLink()) {
                return EntryType.SYMLINK;
            }
            if (t.isLink()) {
                return EntryType.HARDLINK;
            }
            if (flag == TarConstants.LF_NORMAL || flag == TarConstants.LF_OLDNORM) {
                if (t.isSparse()) {
                    throw unsafe(path, "sparse entries are not supported");
                }
                return EntryType.FILE;
            }
            throw unsafe(path, "unsupported tar entry type '" + (char) flag + "'");
        }

        private byte linkFlag(TarArchiveEntry t) {
            if (t.isSymbolicLink()) {
                return TarConstants.LF_SYMLINK;
            }
            if (t.isLink()) {
                return TarConstants.LF_LINK;
            }
            if (t.isCharacterDevice()) {
                return TarConstants.LF_CHR;
            }
            if (t.isBlockDevice()) {
                return TarConstants.LF_BLK;
            }
            if (t.isFIFO()) {
                return TarConstants.LF_FIFO;
            }
            return t.isFile() && !t.isSparse() && !t.isGNULongNameEntry() ? TarConstants.LF_NORMAL : (byte) '?';
        }

        private CorezfsException unsafe(String path, String why) {
            return CorezfsException.invalidArchive("unsafe entry '" + ArchivePaths.printable(path) + "': " + why);
        }
    }
}
