package io.corezfs.trust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.testing.TestPgp;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BundledKeysTest {
    @Test
    void theShippedOpenZfsReleaseKeysLoadDespiteTheirProvenanceComments() {
        assertTrue(BundledKeys.load(BundledKeys.OPENZFS).isPresent());
    }

    @Test
    void everyArmoredBlockInTheFileIsTrustedNotOnlyTheFirst() throws IOException {
        TestPgp first = TestPgp.generate("First <first@example.invalid>");
        TestPgp second = TestPgp.generate("Second <second@example.invalid>");
        String file = "# where the keys came from\n"
                + new String(first.publicKeyring(true), StandardCharsets.US_ASCII) + "\n# the second key\n"
                + new String(second.publicKeyring(true), StandardCharsets.US_ASCII);
        byte[] data = "release".getBytes(StandardCharsets.US_ASCII);

        SignatureVerifier keys = BundledKeys.parse(file, "two.asc").orElseThrow();

        assertEquals(
                second.signerFingerprint(),
                keys.verify(new ByteArrayInputStream(data), second.sign(data, true), "release")
                        .fingerprint());
        assertEquals(
                first.signerFingerprint(),
                keys.verify(new ByteArrayInputStream(data), first.sign(data, true), "release")
                        .fingerprint());
    }

    @Test
    void aFileOfCommentsOnlyMeansNoKeyIsBundled() {
        assertTrue(BundledKeys.parse("# nothing could be bundled\n# because\n", "empty.asc")
                .isEmpty());
    }
}
