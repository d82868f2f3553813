package io.corezfs.archive.store;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corezfs.CorezfsException;
import io.corezfs.JsonMapping;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.archive.Manifest;
import io.corezfs.host.HostFacts;
import io.corezfs.trust.Hashes;
import io.corezfs.zfs.ZfsVersion;
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
    /** Duplicate keys and trailing text are refused: two readers must never see two different indexes. */
    private static final ObjectMapper STRICT = JsonMapping.newStrictReader();

    @JsonPropertyOrder({"file", "sha256", "size", "os", "osVersion", "board", "arch", "kernel", "zfsVersion"})
    public record Entry(
            String file,
            String sha256,
            long size,
            String os,
            String osVersion,
            String board,
            String arch,
            String kernel,
            String zfsVersion) {}

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
                    out.add(new Entry(
                            p.getFileName().toString(),
                            Hashes.sha256(p),
                            Files.size(p),
                            m.os(),
                            m.osVersion(),
                            m.board(),
                            m.arch(),
                            m.kernel(),
                            m.zfsVersion()));
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

    /** No archive corezfs makes comes near this; a larger size in an index is a lie, not an archive. */
    public static final long MAX_ARCHIVE_BYTES = 64L << 30;

    private static final List<String> FIELDS =
            List.of("file", "sha256", "size", "os", "osVersion", "board", "arch", "kernel", "zfsVersion");
    private static final java.util.regex.Pattern SHA256 = java.util.regex.Pattern.compile("[0-9a-f]{64}");
    /** The shapes host detection and archive names allow; anything else cannot match a host anyway. */
    private static final java.util.regex.Pattern TEXT =
            java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+~-]{0,127}");

    public static MirrorIndex read(Path file) {
        return read(file, file.toUri());
    }

    /**
     * Reads an index as the untrusted input it is: every field must be present, of its type and shape, or the whole
     * index is refused (exit 4) with one line naming {@code source} and the entry.
     */
    public static MirrorIndex read(Path file, java.net.URI source) {
        String where = "mirror index " + source;
        com.fasterxml.jackson.databind.JsonNode root;
        try {
            root = STRICT.readTree(file.toFile());
        } catch (IOException e) {
            String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j
                    ? j.getOriginalMessage()
                    : e.getMessage();
            throw CorezfsException.invalidArchive(where + " is not valid JSON: " + oneLine(why));
        }
        if (root == null || !root.isObject()) {
            throw CorezfsException.invalidArchive(where + ": not a JSON object");
        }
        com.fasterxml.jackson.databind.JsonNode format = root.get("format");
        if (format == null || !format.isInt() || format.intValue() != FORMAT) {
            throw CorezfsException.invalidArchive(where + ": unsupported format "
                    + (format == null ? "(missing)" : oneLine(format.toString())) + ", expected " + FORMAT);
        }
        com.fasterxml.jackson.databind.JsonNode list = root.get("archives");
        if (list == null || !list.isArray()) {
            throw CorezfsException.invalidArchive(where + ": \"archives\" is missing or not a list");
        }
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            out.add(entry(list.get(i), where + ": entry " + (i + 1)));
        }
        return new MirrorIndex(FORMAT, List.copyOf(out));
    }

    private static Entry entry(com.fasterxml.jackson.databind.JsonNode n, String where) {
        if (!n.isObject()) {
            throw CorezfsException.invalidArchive(where + " is not an object");
        }
        for (String f : FIELDS) {
            com.fasterxml.jackson.databind.JsonNode v = n.get(f);
            if (v == null || v.isNull()) {
                throw CorezfsException.invalidArchive(where + ": \"" + f + "\" is missing");
            }
            if (f.equals("size") ? !v.isIntegralNumber() : !v.isTextual()) {
                throw CorezfsException.invalidArchive(
                        where + ": \"" + f + "\" is not a " + (f.equals("size") ? "whole number" : "string"));
            }
        }
        String file = n.get("file").textValue();
        if (file.isEmpty()
                || file.length() > 255
                || file.contains("/")
                || file.contains("\\")
                || file.equals(".")
                || file.equals("..")
                || file.chars().anyMatch(c -> c < 0x20 || c == 0x7f)
                || ArchiveName.parse(file).isEmpty()) {
            throw CorezfsException.invalidArchive(
                    where + ": \"file\" '" + printable(file) + "' is not a plain archive name");
        }
        String sha = n.get("sha256").textValue();
        if (!SHA256.matcher(sha).matches()) {
            throw CorezfsException.invalidArchive(
                    where + " (" + file + "): \"sha256\" is not 64 lower-case hex digits");
        }
        com.fasterxml.jackson.databind.JsonNode sizeNode = n.get("size");
        if (!sizeNode.canConvertToLong() || sizeNode.longValue() < 0 || sizeNode.longValue() > MAX_ARCHIVE_BYTES) {
            throw CorezfsException.invalidArchive(where + " (" + file + "): \"size\" " + oneLine(sizeNode.toString())
                    + " is not between 0 and " + MAX_ARCHIVE_BYTES);
        }
        String[] text = new String[6];
        List<String> names = FIELDS.subList(3, 9);
        for (int k = 0; k < names.size(); k++) {
            String v = n.get(names.get(k)).textValue();
            if (!TEXT.matcher(v).matches()) {
                throw CorezfsException.invalidArchive(
                        where + " (" + file + "): \"" + names.get(k) + "\" '" + printable(v) + "' is malformed");
            }
            text[k] = v;
        }
        return new Entry(file, sha, sizeNode.longValue(), text[0], text[1], text[2], text[3], text[4], text[5]);
    }

    private static String oneLine(String s) {
        return printable(s == null ? "" : s.lines().findFirst().orElse(""));
    }

    private static String printable(String s) {
        return io.corezfs.Text.printable(s, 120);
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
                .filter(e -> e.os().equals(host.os())
                        && e.osVersion().equals(host.version())
                        && e.board().equals(host.board())
                        && e.arch().equals(host.arch())
                        && e.kernel().equals(host.kernel()))
                .max(Comparator.comparing(Entry::zfsVersion, ZfsVersion.ORDER));
    }
}
