package io.corezfs.trust;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.stream.Collectors;
import org.bouncycastle.bcpg.ArmoredInputStream;

/**
 * Public keys shipped inside corezfs as classpath resources: {@code #} comment lines (where each key came from
 * and its fingerprint) followed by ASCII-armored key blocks. The comments are dropped before parsing so that the
 * provenance can be written in the file itself without depending on how a parser treats text outside armor.
 */
public final class BundledKeys {
    /** The keys that sign OpenZFS release tarballs. */
    public static final String OPENZFS = "/io/corezfs/trust/openzfs-release-keys.asc";

    /** Flatcar's image signing key, which signs its developer containers. */
    public static final String FLATCAR = "/io/corezfs/trust/flatcar-image-signing-key.asc";

    private static final String END = "-----END PGP PUBLIC KEY BLOCK-----";

    private BundledKeys() {}

    /**
     * The keys in {@code resource}, or empty when the file holds only comments (no key could be bundled).
     *
     * @throws IllegalStateException if the resource is missing: the jar is broken
     */
    public static Optional<SignatureVerifier> load(String resource) {
        String text;
        try (InputStream in = BundledKeys.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the jar lacks " + resource);
            }
            text = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return parse(text, resource);
    }

    /** As {@link #load}, for the file's text; {@code name} names it in messages. */
    static Optional<SignatureVerifier> parse(String text, String resource) {
        String keys = text.lines().filter(l -> !l.startsWith("#")).collect(Collectors.joining("\n", "", "\n"));
        if (keys.isBlank()) {
            return Optional.empty();
        }
        // An armor decoder stops after its first block, so each block is decoded on its own and the binary key
        // rings are concatenated: appending a key to the file must not silently hide it.
        ByteArrayOutputStream binary = new ByteArrayOutputStream();
        for (String block : keys.split("(?<=" + END + ")")) {
            if (block.isBlank()) {
                continue;
            }
            try (InputStream armored = new ArmoredInputStream(
                    new ByteArrayInputStream(block.strip().getBytes(StandardCharsets.US_ASCII)))) {
                armored.transferTo(binary);
            } catch (IOException e) {
                throw new IllegalStateException(resource + ": not ASCII-armored OpenPGP keys: " + e.getMessage(), e);
            }
        }
        return Optional.of(SignatureVerifier.fromKeyring(binary.toByteArray(), resource));
    }
}
