package io.corezfs.archive;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corezfs.CorezfsException;
import io.corezfs.JsonMapping;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** Manifest JSON: stable byte output for reproducible archives, strict input for hostile ones. */
public final class ManifestCodec {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern MODE = Pattern.compile("[0-7]{4}");

    private final ObjectMapper mapper = JsonMapping.newMapper();

    public byte[] encode(Manifest m) {
        try {
            return (mapper.writeValueAsString(m) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public Manifest decode(byte[] json, String source) {
        Manifest m;
        try {
            m = mapper.readValue(json, Manifest.class);
        } catch (IOException e) {
            throw CorezfsException.invalidArchive(source + ": manifest is not valid JSON ("
                    + firstLine(e.getMessage()) + ")");
        }
        validate(m, source);
        return m;
    }

    private static void validate(Manifest m, String source) {
        if (m.format() != Manifest.FORMAT) {
            throw CorezfsException.invalidArchive(source + ": manifest format " + m.format()
                    + " is not supported (this corezfs reads format " + Manifest.FORMAT + ")");
        }
        for (String[] f : new String[][]{{"os", m.os()}, {"osVersion", m.osVersion()}, {"board", m.board()},
                {"kernel", m.kernel()}, {"arch", m.arch()}, {"zfsVersion", m.zfsVersion()}}) {
            if (f[1] == null || f[1].isBlank()) {
                throw CorezfsException.invalidArchive(source + ": manifest lacks " + f[0]);
            }
        }
        if (m.entries() == null) {
            throw CorezfsException.invalidArchive(source + ": manifest lacks entries");
        }
        for (ManifestEntry e : m.entries()) {
            if (e == null || e.path() == null || e.type() == null || e.mode() == null || !MODE.matcher(e.mode()).matches()) {
                throw CorezfsException.invalidArchive(source + ": manifest has a malformed entry "
                        + (e == null ? "null" : e.path()));
            }
            boolean file = e.type() == EntryType.FILE;
            if (file != (e.size() != null && e.sha256() != null) || (file && (e.size() < 0 || !SHA256.matcher(e.sha256()).matches()))) {
                throw CorezfsException.invalidArchive(source + ": manifest entry " + e.path() + " has a bad size or sha256");
            }
            boolean link = e.type() == EntryType.SYMLINK || e.type() == EntryType.HARDLINK;
            if (link != (e.target() != null && !e.target().isEmpty())) {
                throw CorezfsException.invalidArchive(source + ": manifest entry " + e.path() + " has a bad link target");
            }
        }
    }

    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(newSha256().digest(bytes));
    }

    /** The lower-case hex sha256 of a file's bytes; a symlink is not followed. */
    public static String sha256(java.nio.file.Path file) throws IOException {
        MessageDigest md = newSha256();
        byte[] buf = new byte[1 << 16];
        try (var in = java.nio.file.Files.newInputStream(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    public static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
