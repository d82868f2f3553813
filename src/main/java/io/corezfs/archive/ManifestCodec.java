package io.corezfs.archive;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corezfs.CorezfsException;
import io.corezfs.JsonMapping;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
            throw CorezfsException.invalidArchive(
                    source + ": manifest is not valid JSON (" + firstLine(e.getMessage()) + ")");
        }
        validate(m, source);
        return m;
    }

    private static void validate(Manifest m, String source) {
        if (m.format() != Manifest.FORMAT) {
            throw CorezfsException.invalidArchive(source + ": manifest format " + m.format()
                    + " is not supported (this corezfs reads format " + Manifest.FORMAT + ")");
        }
        for (String[] f : new String[][] {
            {"os", m.os()},
            {"osVersion", m.osVersion()},
            {"board", m.board()},
            {"kernel", m.kernel()},
            {"arch", m.arch()},
            {"zfsVersion", m.zfsVersion()}
        }) {
            if (f[1] == null || f[1].isBlank()) {
                throw CorezfsException.invalidArchive(source + ": manifest lacks " + f[0]);
            }
        }
        if (m.entries() == null) {
            throw CorezfsException.invalidArchive(source + ": manifest lacks entries");
        }
        for (ManifestEntry e : m.entries()) {
            if (e == null
                    || e.path() == null
                    || e.type() == null
                    || e.mode() == null
                    || !MODE.matcher(e.mode()).matches()) {
                throw CorezfsException.invalidArchive(
                        source + ": manifest has a malformed entry " + (e == null ? "null" : e.path()));
            }
            boolean file = e.type() == EntryType.FILE;
            if (file != (e.size() != null && e.sha256() != null)
                    || (file && (e.size() < 0 || !SHA256.matcher(e.sha256()).matches()))) {
                throw CorezfsException.invalidArchive(
                        source + ": manifest entry " + e.path() + " has a bad size or sha256");
            }
            boolean link = e.type() == EntryType.SYMLINK || e.type() == EntryType.HARDLINK;
            if (link != (e.target() != null && !e.target().isEmpty())) {
                throw CorezfsException.invalidArchive(
                        source + ": manifest entry " + e.path() + " has a bad link target");
            }
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
