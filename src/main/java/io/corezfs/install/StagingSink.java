package io.corezfs.install;

import io.corezfs.archive.ArchiveSink;
import io.corezfs.archive.ManifestEntry;
import io.corezfs.archive.Modes;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * Writes verified entries into two fresh staging directories, one beside {@code /etc} and one beside
 * {@code /opt/corezfs}, so each later move is a same-filesystem rename. {@code CREATE_NEW} guarantees nothing is
 * ever written through an existing file or link.
 */
final class StagingSink implements ArchiveSink {
    private final FileOps ops;
    private final BiFunction<IOException, Path, RuntimeException> failure;
    private final Path etcStage;
    private final Path optStage;
    private final FileTime mtime;
    private final List<Object[]> dirModes = new ArrayList<>();
    private final java.util.Set<Path> made = new java.util.HashSet<>();

    /**
     * @param failure turns a failed write into the error to report: a full or read-only target is the host's
     *                problem, and must not reach the archive reader, which would blame the archive
     */
    StagingSink(
            Path etcStage,
            Path optStage,
            long epochSeconds,
            FileOps ops,
            BiFunction<IOException, Path, RuntimeException> failure) {
        this.ops = ops;
        this.failure = failure;
        this.etcStage = etcStage;
        this.optStage = optStage;
        this.mtime = FileTime.fromMillis(epochSeconds * 1000L);
    }

    Path map(String path) {
        if (path.startsWith("etc/")) {
            return etcStage.resolve(path.substring(4));
        }
        if (path.equals("opt/corezfs")) {
            return optStage;
        }
        return optStage.resolve(path.substring("opt/corezfs/".length()));
    }

    @Override
    public void directory(ManifestEntry e) {
        Path p = map(e.path());
        guarded(p, () -> parents(p.resolve("x")));
        dirModes.add(new Object[] {p, e.modeBits()});
    }

    /** Creates the parents of {@code p} once; most entries share a directory with the one before. */
    private void parents(Path p) throws IOException {
        Path dir = p.getParent();
        if (made.add(dir)) {
            Files.createDirectories(dir);
        }
    }

    @Override
    public OutputStream file(ManifestEntry e) {
        Path p = map(e.path());
        OutputStream[] opened = new OutputStream[1];
        guarded(p, () -> {
            parents(p);
            opened[0] = ops.newFile(p);
        });
        OutputStream out = opened[0];
        return new java.io.FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) {
                guarded(p, () -> out.write(b, off, len));
            }

            @Override
            public void close() {
                guarded(p, () -> {
                    out.close();
                    Files.setPosixFilePermissions(p, perms(e.modeBits()));
                });
            }
        };
    }

    @Override
    public void symlink(ManifestEntry e) {
        Path p = map(e.path());
        guarded(p, () -> {
            parents(p);
            Files.createSymbolicLink(p, Path.of(e.target()));
        });
    }

    @Override
    public void hardlink(ManifestEntry e) {
        Path p = map(e.path());
        guarded(p, () -> {
            parents(p);
            Files.createLink(p, map(e.target()));
        });
    }

    private interface Write {
        void run() throws IOException;
    }

    /** A failed write to staging is reported as such, never left for the reader to mistake for a bad archive. */
    private void guarded(Path p, Write w) {
        try {
            w.run();
        } catch (IOException ex) {
            throw failure.apply(ex, p);
        }
    }

    /** Directory modes last: a read-only directory would otherwise refuse its own children. */
    void finish() throws IOException {
        for (int i = dirModes.size() - 1; i >= 0; i--) {
            Path p = (Path) dirModes.get(i)[0];
            Files.setPosixFilePermissions(p, perms((Integer) dirModes.get(i)[1]));
            Files.setLastModifiedTime(p, mtime);
        }
    }

    static Set<PosixFilePermission> perms(int mode) {
        return Modes.perms(mode);
    }
}
