package io.corezfs.zfs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * A small synthetic OpenZFS (or SPL) release tarball: a top folder, a META file and a few files, with chosen
 * modification times so the build epoch is known.
 */
public final class TestTarball {
    static final Instant RELEASED = Instant.parse("2024-03-01T12:00:00Z");

    private record Entry(String name, byte[] data, Instant mtime, boolean dir) {}

    private final String project;
    private final String version;
    private String top;
    private String linuxMinimum = "4.18";
    private String linuxMaximum = "6.10";
    private String metaVersion;
    private Optional<String> meta = Optional.empty();
    private boolean withMeta = true;
    private final List<Entry> extra = new ArrayList<>();

    private TestTarball(String project, String version) {
        this.project = project;
        this.version = version;
        this.top = project + "-" + version;
        this.metaVersion = version;
    }

    public static TestTarball zfs(String version) {
        return new TestTarball("zfs", version);
    }

    static TestTarball spl(String version) {
        return new TestTarball("spl", version);
    }

    public TestTarball linux(String minimum, String maximum) {
        this.linuxMinimum = minimum;
        this.linuxMaximum = maximum;
        return this;
    }

    /** META claims another version than the folder and file name. */
    TestTarball metaVersion(String v) {
        this.metaVersion = v;
        return this;
    }

    TestTarball meta(String text) {
        this.meta = Optional.of(text);
        return this;
    }

    TestTarball noMeta() {
        this.withMeta = false;
        return this;
    }

    TestTarball top(String folder) {
        this.top = folder;
        return this;
    }

    /** A file at {@code path} (from the archive root, so it may lie outside the top folder). */
    TestTarball file(String path, String content, Instant mtime) {
        extra.add(new Entry(path, content.getBytes(StandardCharsets.UTF_8), mtime, false));
        return this;
    }

    public byte[] bytes() {
        List<Entry> entries = new ArrayList<>();
        entries.add(new Entry(top + "/", new byte[0], RELEASED, true));
        if (withMeta) {
            entries.add(new Entry(
                    top + "/META",
                    meta.orElse(defaultMeta()).getBytes(StandardCharsets.UTF_8),
                    RELEASED.minusSeconds(60),
                    false));
        }
        entries.add(new Entry(
                top + "/configure",
                "#!/bin/sh\necho configured\n".getBytes(StandardCharsets.UTF_8),
                RELEASED.minusSeconds(30),
                false));
        entries.addAll(extra);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(bytes))) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Entry e : entries) {
                TarArchiveEntry t =
                        e.dir() ? new TarArchiveEntry(e.name(), TarConstants.LF_DIR) : new TarArchiveEntry(e.name());
                t.setModTime(Date.from(e.mtime()));
                t.setSize(e.data().length);
                t.setMode(e.dir() ? 040755 : 0100644);
                tar.putArchiveEntry(t);
                tar.write(e.data());
                tar.closeArchiveEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    Path writeTo(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            return Files.write(file, bytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The table entry that pins exactly these bytes, with META's range. */
    ZfsReleases.Release pin() {
        return pin(bytes());
    }

    ZfsReleases.Release pin(byte[] bytes) {
        return new ZfsReleases.Release(
                ZfsVersion.of(version), sha256(bytes), linuxMinimum, linuxMaximum, Optional.empty());
    }

    private String defaultMeta() {
        return "Meta:          1\nName:          " + project + "\nBranch:        1.0\nVersion:       " + metaVersion
                + "\nRelease:       1\nRelease-Tags:  relext\nLicense:       CDDL\nAuthor:        OpenZFS\n"
                + "Linux-Maximum: " + linuxMaximum + "\nLinux-Minimum: " + linuxMinimum + "\n";
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
