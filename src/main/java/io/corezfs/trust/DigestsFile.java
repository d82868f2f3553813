package io.corezfs.trust;

import io.corezfs.CorezfsException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Container Linux {@code .DIGESTS} file, as the release scripts write it: for each file, a {@code # MD5 HASH},
 * {@code # SHA1 HASH} and {@code # SHA512 HASH} header, each followed by {@code md5sum}-style lines
 * ({@code <hex>  <name>}, or {@code <hex> *<name>}). Other algorithms' sections (Gentoo adds BLAKE2B) are kept
 * but only SHA512 is trusted for verification; MD5 and SHA1 are too weak to mean anything.
 *
 * <p>A garbled digests file is a verification failure (exit 5), never silently skipped, because the only reason
 * to read it is to check a download.
 */
public final class DigestsFile {
    public static final String SHA512 = "SHA512";

    private static final Pattern HEADER = Pattern.compile("#\\s*([A-Za-z0-9-]+)\\s+HASH\\s*", Pattern.CASE_INSENSITIVE);
    private static final Pattern ENTRY = Pattern.compile("([0-9A-Fa-f]+) [ *](.+)");
    private static final Map<String, Integer> HEX_LENGTH = Map.of("MD5", 32, "SHA1", 40, "SHA256", 64, SHA512, 128);
    // A real digests file is a few hundred bytes; anything far larger is not one.
    private static final long MAX_BYTES = 1 << 20;

    private final String source;
    private final Map<String, Map<String, String>> byAlgorithm;

    private DigestsFile(String source, Map<String, Map<String, String>> byAlgorithm) {
        this.source = source;
        this.byAlgorithm = byAlgorithm;
    }

    /** Reads and parses a digests file. */
    public static DigestsFile read(Path digests) throws IOException {
        if (Files.size(digests) > MAX_BYTES) {
            throw CorezfsException.verification(digests + ": too large to be a digests file");
        }
        return parse(Files.readString(digests, StandardCharsets.UTF_8), digests.toString());
    }

    /**
     * Parses digests text.
     *
     * @param source how to name the file in error messages
     * @throws CorezfsException exit 5 for a line that is neither blank, a comment, a header nor a hash line, a
     *                          hash line before any header, a hash of the wrong length, or two different hashes
     *                          for one file
     */
    public static DigestsFile parse(String text, String source) {
        Map<String, Map<String, String>> all = new LinkedHashMap<>();
        String algorithm = null;
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            if (line.isBlank()) {
                continue;
            }
            Matcher h = HEADER.matcher(line);
            if (h.matches()) {
                algorithm = h.group(1).toUpperCase(Locale.ROOT).replace("-", "");
                continue;
            }
            if (line.startsWith("#")) {
                continue; // free comments carry nothing we check
            }
            Matcher e = ENTRY.matcher(line);
            if (!e.matches()) {
                throw garbled(source, i, "expected '<hex>  <file name>'");
            }
            if (algorithm == null) {
                throw garbled(source, i, "hash line before any '# <ALGORITHM> HASH' header");
            }
            String hex = e.group(1).toLowerCase(Locale.ROOT);
            Integer expected = HEX_LENGTH.get(algorithm);
            if (expected != null && hex.length() != expected) {
                throw garbled(source, i, algorithm + " hash has " + hex.length() + " hex digits, expected " + expected);
            }
            String name = normalize(e.group(2));
            String previous =
                    all.computeIfAbsent(algorithm, a -> new LinkedHashMap<>()).putIfAbsent(name, hex);
            if (previous != null && !previous.equals(hex)) {
                throw garbled(source, i, "a second, different " + algorithm + " hash for '" + name + "'");
            }
        }
        return new DigestsFile(source, all);
    }

    /** The algorithms that have at least one entry, upper case without dashes ({@code SHA512}, {@code MD5}). */
    public Set<String> algorithms() {
        return byAlgorithm.keySet();
    }

    /** The lower-case hex hash listed for {@code fileName} under {@code algorithm}, if any. */
    public Optional<String> hash(String algorithm, String fileName) {
        Map<String, String> entries =
                byAlgorithm.get(algorithm.toUpperCase(Locale.ROOT).replace("-", ""));
        return entries == null ? Optional.empty() : Optional.ofNullable(entries.get(normalize(fileName)));
    }

    /** Checks {@code file} against the SHA512 listed under its own file name. */
    public void verifySha512(Path file) throws IOException {
        verifySha512(file, file.getFileName().toString());
    }

    /**
     * Checks {@code file} against the SHA512 listed for {@code listedName}: a download is often stored under a
     * temporary name.
     *
     * @throws CorezfsException exit 5 if no SHA512 is listed for the name, or the file's hash differs
     */
    public void verifySha512(Path file, String listedName) throws IOException {
        String expected = hash(SHA512, listedName)
                .orElseThrow(() ->
                        CorezfsException.verification(source + ": no SHA512 hash listed for '" + listedName + "'"));
        String actual = sha512(file);
        if (!MessageDigest.isEqual(
                expected.getBytes(StandardCharsets.US_ASCII), actual.getBytes(StandardCharsets.US_ASCII))) {
            throw CorezfsException.verification(
                    file + ": SHA512 mismatch with " + source + ": expected " + expected + ", got " + actual);
        }
    }

    /** The lower-case hex SHA-512 of a file's bytes. */
    public static String sha512(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-512");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-512", e);
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) >= 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static String normalize(String name) {
        return name.startsWith("./") ? name.substring(2) : name;
    }

    private static CorezfsException garbled(String source, int lineIndex, String what) {
        return CorezfsException.verification(source + ":" + (lineIndex + 1) + ": " + what);
    }
}
