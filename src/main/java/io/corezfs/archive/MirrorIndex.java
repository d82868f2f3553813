package io.corezfs.archive;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corezfs.CorezfsException;
import io.corezfs.JsonMapping;
import io.corezfs.build.ZfsVersion;
import io.corezfs.host.HostFacts;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * {@code index.json} of an archive mirror: a plain HTTP directory of archives that {@code corezfs publish}
 * describes, so a node can pick its archive without downloading the others. The sha256 of each file is checked after
 * download; the manifest inside is verified again by install, so the index is a guide, not a trust anchor.
 */
@JsonPropertyOrder({"format", "archives"})
public record MirrorIndex(int format, List<Entry> archives) {
    public static final String FILE = "index.json";
    public static final int FORMAT = 1;

    private static final ObjectMapper MAPPER = JsonMapping.newMapper();

    @JsonPropertyOrder({"file", "sha256", "size", "os", "osVersion", "board", "arch", "kernel", "zfsVersion"})
    public record Entry(String file, String sha256, long size, String os, String osVersion, String board, String arch,
                        String kernel, String zfsVersion) {
    }

    /** Describes every valid archive in {@code dir}, sorted by file name so the index is reproducible. */
    public static MirrorIndex of(Path dir, ArchiveReader reader, List<String> skipped) {
        List<Entry> out = new ArrayList<>();
        try (var s = Files.newDirectoryStream(dir, "corezfs_*.tar.gz")) {
            for (Path p : s) {
                if (ArchiveName.parse(p.getFileName().toString()).isEmpty()) {
                    continue;
                }
                try {
                    Manifest m = reader.readManifest(p).manifest();
                    out.add(new Entry(p.getFileName().toString(), ManifestCodec.sha256(p), Files.size(p), m.os(),
                            m.osVersion(), m.board(), m.arch(), m.kernel(), m.zfsVersion()));
                } catch (CorezfsException e) {
                    skipped.add(p.getFileName() + ": " + e.getMessage());
                }
            }
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot list " + dir + ": " + e.getMessage());
        }
        out.sort(Comparator.comparing(Entry::file));
        return new MirrorIndex(FORMAT, List.copyOf(out));
    }

    public static MirrorIndex read(Path file) {
        try {
            MirrorIndex i = MAPPER.readValue(file.toFile(), MirrorIndex.class);
            if (i.format() != FORMAT || i.archives() == null) {
                throw CorezfsException.invalidArchive("mirror index " + file.getFileName() + ": unsupported format " + i.format());
            }
            for (Entry e : i.archives()) {
                if (e.file() == null || !e.file().equals(Path.of(e.file()).getFileName().toString())
                        || ArchiveName.parse(e.file()).isEmpty() || e.sha256() == null || !e.sha256().matches("[0-9a-f]{64}")) {
                    throw CorezfsException.invalidArchive("mirror index: bad entry " + e.file());
                }
            }
            return i;
        } catch (IOException e) {
            throw CorezfsException.invalidArchive("mirror index is not valid JSON: " + e.getMessage());
        }
    }

    /** Written to a temporary name and renamed, so a mirror never serves half an index. */
    public void write(Path dir) throws IOException {
        Path tmp = dir.resolve("." + FILE + ".tmp");
        MAPPER.writeValue(tmp.toFile(), this);
        Files.move(tmp, dir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The newest ZFS built for exactly this host: OS, version, board, architecture and kernel. */
    public Optional<Entry> find(HostFacts host) {
        return archives.stream()
                .filter(e -> e.os().equals(host.os()) && e.osVersion().equals(host.version()) && e.board().equals(host.board())
                        && e.arch().equals(host.arch()) && e.kernel().equals(host.kernel()))
                .max(Comparator.comparing(Entry::zfsVersion, ZfsVersion.ORDER));
    }
}
