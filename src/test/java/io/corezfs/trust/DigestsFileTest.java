package io.corezfs.trust;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.testing.Requirements;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DigestsFileTest {
    private static final String IMAGE = "flatcar_developer_container.bin.bz2";
    private static final byte[] CONTENT = "pretend this is a compressed disk image\n".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    /** What the release scripts' make_digests writes: md5sum, sha1sum and sha512sum output under headers. */
    private static String releaseDigests(String name, byte[] content) {
        return "# MD5 HASH\n" + hex("MD5", content) + "  " + name + "\n"
                + "# SHA1 HASH\n" + hex("SHA-1", content) + "  " + name + "\n"
                + "# SHA512 HASH\n" + hex("SHA-512", content) + "  " + name + "\n";
    }

    @Test
    void aReleaseDigestsFileVerifiesTheFileItDescribes() throws IOException {
        Path image = Files.write(dir.resolve(IMAGE), CONTENT);
        Path digests = Files.writeString(dir.resolve(IMAGE + ".DIGESTS"), releaseDigests(IMAGE, CONTENT));

        DigestsFile d = DigestsFile.read(digests);

        assertEquals(Set.of("MD5", "SHA1", "SHA512"), d.algorithms());
        assertEquals(Optional.of(hex("SHA-512", CONTENT)), d.hash("sha512", IMAGE));
        assertDoesNotThrow(() -> d.verifySha512(image));
    }

    @Test
    void agreesWithCoreutilsOutputAssembledTheWayTheReleaseScriptsDo() throws Exception {
        for (String tool : new String[] {"md5sum", "sha1sum", "sha512sum"}) {
            io.corezfs.testing.Requirements.need(Requirements.which(tool).isPresent(), tool + " not installed");
        }
        Path image = Files.write(dir.resolve(IMAGE), CONTENT);
        StringBuilder text = new StringBuilder();
        for (String algo : new String[] {"md5", "sha1", "sha512"}) {
            text.append("# ").append(algo.toUpperCase()).append(" HASH\n");
            Process p = new ProcessBuilder(algo + "sum", IMAGE)
                    .directory(dir.toFile())
                    .start();
            text.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            assertEquals(0, p.waitFor());
        }

        DigestsFile d = DigestsFile.parse(text.toString(), "coreutils.DIGESTS");

        assertEquals(Optional.of(hex("MD5", CONTENT)), d.hash("MD5", IMAGE));
        assertDoesNotThrow(() -> d.verifySha512(image));
    }

    @Test
    void aChangedFileIsAVerificationFailureShowingBothHashes() throws IOException {
        Path image = Files.write(dir.resolve(IMAGE), "something else".getBytes(StandardCharsets.UTF_8));
        DigestsFile d = DigestsFile.parse(releaseDigests(IMAGE, CONTENT), "x.DIGESTS");

        CorezfsException e = assertThrows(CorezfsException.class, () -> d.verifySha512(image));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains("SHA512 mismatch"), e.getMessage());
        assertTrue(e.getMessage().contains(hex("SHA-512", CONTENT)), e.getMessage());
        assertTrue(e.getMessage().contains(DigestsFile.sha512(image)), e.getMessage());
    }

    @Test
    void aDownloadUnderATemporaryNameIsCheckedAgainstItsListedName() throws IOException {
        Path partial = Files.write(dir.resolve("download.part"), CONTENT);
        DigestsFile d = DigestsFile.parse(releaseDigests(IMAGE, CONTENT), "x.DIGESTS");

        assertDoesNotThrow(() -> d.verifySha512(partial, IMAGE));
        assertEquals(
                ExitCode.VERIFICATION_FAILED,
                assertThrows(CorezfsException.class, () -> d.verifySha512(partial))
                        .exitCode());
    }

    @Test
    void weakHashesAloneDoNotVerifyAnything() throws IOException {
        Path image = Files.write(dir.resolve(IMAGE), CONTENT);
        DigestsFile d = DigestsFile.parse("# MD5 HASH\n" + hex("MD5", CONTENT) + "  " + IMAGE + "\n", "x.DIGESTS");

        CorezfsException e = assertThrows(CorezfsException.class, () -> d.verifySha512(image));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains("no SHA512 hash listed for '" + IMAGE + "'"), e.getMessage());
    }

    @Test
    void severalFilesBinaryMarkersCrlfUpperCaseAndUnknownAlgorithmsAreUnderstood() {
        String sha = hex("SHA-512", CONTENT);
        String text = "# BLAKE2B HASH\r\n" + "ab".repeat(64) + "  other.img\r\n"
                + "# SHA512 HASH\r\n"
                + sha.toUpperCase() + " *" + IMAGE + "\r\n"
                + "\r\n"
                + "# a free comment\r\n"
                + hex("SHA-512", new byte[0]) + "  ./empty.txt\r\n";

        DigestsFile d = DigestsFile.parse(text, "x.DIGESTS");

        assertEquals(Optional.of(sha), d.hash("SHA512", IMAGE));
        assertEquals(Optional.of(hex("SHA-512", new byte[0])), d.hash("SHA512", "empty.txt"));
        assertEquals(Optional.of("ab".repeat(64)), d.hash("BLAKE2B", "other.img"));
        assertEquals(Optional.empty(), d.hash("SHA512", "other.img"));
    }

    @Test
    void aLineThatIsNotAHashLineNamesFileAndLine() {
        String text = "# SHA512 HASH\n" + hex("SHA-512", CONTENT) + "  " + IMAGE + "\n<html>oops</html>\n";

        CorezfsException e = assertThrows(CorezfsException.class, () -> DigestsFile.parse(text, "x.DIGESTS"));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(e.getMessage().startsWith("x.DIGESTS:3: "), e.getMessage());
    }

    @Test
    void aHashBeforeAnyHeaderIsRefused() {
        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> DigestsFile.parse(hex("SHA-512", CONTENT) + "  " + IMAGE + "\n", "x.DIGESTS"));

        assertTrue(e.getMessage().contains("before any"), e.getMessage());
    }

    @Test
    void aHashOfTheWrongLengthIsRefused() {
        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> DigestsFile.parse(
                        "# SHA512 HASH\n" + hex("SHA-256", CONTENT) + "  " + IMAGE + "\n", "x.DIGESTS"));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains("64 hex digits, expected 128"), e.getMessage());
    }

    @Test
    void twoDifferentHashesForOneFileAreAmbiguous() {
        String text = "# SHA512 HASH\n" + hex("SHA-512", CONTENT) + "  " + IMAGE + "\n" + hex("SHA-512", new byte[1])
                + "  " + IMAGE + "\n";

        CorezfsException e = assertThrows(CorezfsException.class, () -> DigestsFile.parse(text, "x.DIGESTS"));

        assertTrue(e.getMessage().contains("second, different SHA512"), e.getMessage());
    }

    @Test
    void theSameEntryTwiceIsHarmless() {
        String line = hex("SHA-512", CONTENT) + "  " + IMAGE + "\n";

        assertEquals(
                Optional.of(hex("SHA-512", CONTENT)),
                DigestsFile.parse("# SHA512 HASH\n" + line + line, "x").hash(DigestsFile.SHA512, IMAGE));
    }

    private static String hex(String algorithm, byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(content));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
