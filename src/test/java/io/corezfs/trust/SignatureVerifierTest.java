package io.corezfs.trust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.testing.Requirements;
import io.corezfs.testing.TestPgp;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.openpgp.PGPSignature;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SignatureVerifierTest {
    private static TestPgp release;
    private static TestPgp stranger;
    private static byte[] image;

    @TempDir
    Path dir;

    @BeforeAll
    static void keys() {
        release = TestPgp.generate("Test Release Signing <release@example.invalid>");
        stranger = TestPgp.generate("Someone Else <else@example.invalid>");
        image = new byte[300_000];
        new Random(7).nextBytes(image);
    }

    @ParameterizedTest(name = "keyring armored={0}, signature armored={1}")
    @CsvSource({"false,false", "true,false", "false,true", "true,true"})
    void aGoodSignatureBySigningSubkeyVerifiesInEveryEncoding(boolean armoredKeys, boolean armoredSig)
            throws IOException {
        Path file = Files.write(dir.resolve("flatcar_developer_container.bin.bz2"), image);
        Path sig = Files.write(dir.resolve("flatcar_developer_container.bin.bz2.sig"), release.sign(image, armoredSig));
        Path keyring = Files.write(dir.resolve("keys.asc"), release.publicKeyring(armoredKeys));

        SignatureVerifier.Verified v = SignatureVerifier.fromKeyring(keyring).verify(file, sig);

        assertEquals(release.signerFingerprint(), v.fingerprint());
        assertEquals(Optional.of("Test Release Signing <release@example.invalid>"), v.userId());
    }

    @Test
    void aSignatureMadeAfterItsSubkeyExpiredIsRefusedSayingHowToPassANewerKey() throws IOException {
        TestPgp expired = TestPgp.generate("Rotated <rotated@example.invalid>", 1);
        Path file = Files.write(dir.resolve("image.bin.bz2"), image);
        Path sig = Files.write(dir.resolve("image.bin.bz2.sig"), expired.sign(image, false));

        CorezfsException e =
                assertThrows(CorezfsException.class, () -> verifier(expired).verify(file, sig));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains("which expired on"), e.getMessage());
        assertTrue(e.getMessage().contains("--keyring"), e.getMessage());
        assertOneLine(e);
    }

    @Test
    void aSignatureMadeWhileItsSubkeyWasValidStillVerifies() throws IOException {
        TestPgp longLived = TestPgp.generate("Valid <valid@example.invalid>", 365L * 24 * 3600);
        Path file = Files.write(dir.resolve("image.bin.bz2"), image);
        Path sig = Files.write(dir.resolve("image.bin.bz2.sig"), longLived.sign(image, false));

        assertEquals(
                longLived.signerFingerprint(),
                verifier(longLived).verify(file, sig).fingerprint());
    }

    @Test
    void aTamperedFileIsABadSignature() throws IOException {
        byte[] tampered = image.clone();
        tampered[123_456] ^= 1;
        Path file = Files.write(dir.resolve("image.bin.bz2"), tampered);
        Path sig = Files.write(dir.resolve("image.bin.bz2.sig"), release.sign(image, false));

        CorezfsException e =
                assertThrows(CorezfsException.class, () -> verifier(release).verify(file, sig));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(
                e.getMessage().startsWith("image.bin.bz2: BAD signature from key " + release.signerFingerprint()),
                e.getMessage());
        assertOneLine(e);
    }

    @Test
    void aSignatureByAKeyOutsideTheKeyringIsRefusedAndNamesTheKey() throws IOException {
        Path file = Files.write(dir.resolve("image.bin.bz2"), image);
        Path sig = Files.write(dir.resolve("image.bin.bz2.sig"), stranger.sign(image, true));

        CorezfsException e =
                assertThrows(CorezfsException.class, () -> verifier(release).verify(file, sig));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains("unknown key " + stranger.signerFingerprint()), e.getMessage());
        assertOneLine(e);
    }

    @Test
    void aKeyringMayHoldSeveralKeys() throws IOException {
        byte[] both = concat(stranger.publicKeyring(false), release.publicKeyring(false));
        SignatureVerifier v = SignatureVerifier.fromKeyring(both, "both.gpg");

        assertEquals(
                release.signerFingerprint(),
                v.verify(new ByteArrayInputStream(image), release.sign(image, false), "image")
                        .fingerprint());
        assertEquals(
                stranger.signerFingerprint(),
                v.verify(new ByteArrayInputStream(image), stranger.sign(image, false), "image")
                        .fingerprint());
    }

    @Test
    void aKnownKeysBadSignatureIsNotOutweighedByAnotherGoodOne() throws IOException {
        byte[] good = release.sign(image, false);
        byte[] otherContent = stranger.sign("something else".getBytes(StandardCharsets.UTF_8), false);
        SignatureVerifier v = SignatureVerifier.fromKeyring(
                concat(stranger.publicKeyring(false), release.publicKeyring(false)), "both.gpg");

        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> v.verify(new ByteArrayInputStream(image), concat(good, otherContent), "image"));

        assertTrue(e.getMessage().contains("BAD signature from key " + stranger.signerFingerprint()), e.getMessage());
    }

    @Test
    void aSignatureFromAnUnknownKeyIsIgnoredWhenATrustedKeyAlsoSigned() throws IOException {
        byte[] both = concat(stranger.sign(image, false), release.sign(image, false));

        assertEquals(
                release.signerFingerprint(),
                verifier(release)
                        .verify(new ByteArrayInputStream(image), both, "image")
                        .fingerprint());
    }

    @Test
    void textModeSignaturesAreRefusedRatherThanCheckedAgainstTheWrongBytes() throws IOException {
        byte[] sig = release.sign(image, false, PGPSignature.CANONICAL_TEXT_DOCUMENT, HashAlgorithmTags.SHA256);

        CorezfsException e = assertThrows(
                CorezfsException.class, () -> verifier(release).verify(new ByteArrayInputStream(image), sig, "image"));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains("not a binary-document signature"), e.getMessage());
    }

    @Test
    void md5SignaturesAreRefused() throws IOException {
        byte[] sig = release.sign(image, false, PGPSignature.BINARY_DOCUMENT, HashAlgorithmTags.MD5);

        CorezfsException e = assertThrows(
                CorezfsException.class, () -> verifier(release).verify(new ByteArrayInputStream(image), sig, "image"));

        assertTrue(e.getMessage().contains("MD5"), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "empty,",
        "text,this is not a signature",
        "armor-junk,-----BEGIN PGP SIGNATURE-----",
        "html,<html><body>404 Not Found</body></html>"
    })
    void malformedSignaturesAreVerificationFailures(String what, String content) throws IOException {
        byte[] sig = content == null ? new byte[0] : content.getBytes(StandardCharsets.UTF_8);

        CorezfsException e = assertThrows(
                CorezfsException.class, () -> verifier(release).verify(new ByteArrayInputStream(image), sig, "image"));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(e.getMessage().startsWith("image: malformed signature"), e.getMessage());
        assertOneLine(e);
    }

    @Test
    void truncatedAndBitFlippedSignaturesAreVerificationFailures() throws IOException {
        byte[] sig = release.sign(image, false);
        SignatureVerifier v = verifier(release);
        for (int cut : new int[] {1, 10, sig.length / 2, sig.length - 1}) {
            byte[] truncated = Arrays.copyOf(sig, cut);
            CorezfsException e = assertThrows(
                    CorezfsException.class,
                    () -> v.verify(new ByteArrayInputStream(image), truncated, "image"),
                    "cut at " + cut);
            assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
            assertOneLine(e);
        }
        byte[] flipped = sig.clone();
        flipped[flipped.length - 5] ^= 0x40; // inside the RSA signature value
        assertEquals(
                ExitCode.VERIFICATION_FAILED,
                assertThrows(CorezfsException.class, () -> v.verify(new ByteArrayInputStream(image), flipped, "image"))
                        .exitCode());
    }

    @Test
    void randomBytesAsSignatureAreVerificationFailures() {
        Random r = new Random(1);
        SignatureVerifier v = verifier(release);
        for (int i = 0; i < 200; i++) {
            byte[] junk = new byte[1 + r.nextInt(600)];
            r.nextBytes(junk);
            CorezfsException e = assertThrows(
                    CorezfsException.class,
                    () -> v.verify(new ByteArrayInputStream(image), junk, "image"),
                    () -> HexFormat.of().formatHex(junk));
            assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        }
    }

    @Test
    void anOversizedSignatureFileIsNotParsed() throws IOException {
        Path file = Files.write(dir.resolve("image"), image);
        Path sig = Files.write(dir.resolve("image.sig"), new byte[SignatureVerifier.MAX_SIGNATURE_BYTES + 1]);

        assertEquals(
                ExitCode.VERIFICATION_FAILED,
                assertThrows(CorezfsException.class, () -> verifier(release).verify(file, sig))
                        .exitCode());
    }

    @Test
    void aKeyringThatIsNotOneIsAPreconditionFailure() throws IOException {
        Path junk = Files.writeString(dir.resolve("keys.asc"), "not a key\n");
        Path empty = Files.write(dir.resolve("empty.gpg"), new byte[0]);
        Path sigAsKey = Files.write(dir.resolve("sig.gpg"), release.sign(image, false));

        for (Path p : new Path[] {junk, empty, sigAsKey}) {
            CorezfsException e =
                    assertThrows(CorezfsException.class, () -> SignatureVerifier.fromKeyring(p), p::toString);
            assertEquals(ExitCode.PRECONDITION, e.exitCode(), p.toString());
            assertOneLine(e);
        }
    }

    @Test
    void interoperatesWithGnupg() throws Exception {
        Optional<Path> gpg = Requirements.which("gpg");
        io.corezfs.testing.Requirements.need(gpg.isPresent(), "gpg not installed");
        Path home = Files.createDirectory(dir.resolve("gnupg"));
        Files.setPosixFilePermissions(home, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        Path file = Files.write(dir.resolve("image.bin.bz2"), image);
        try {
            run(
                    home,
                    gpg.get().toString(),
                    "--quick-gen-key",
                    "Gpg Made <gpg@example.invalid>",
                    "ed25519",
                    "sign",
                    "never");
            run(
                    home,
                    gpg.get().toString(),
                    "--armor",
                    "--output",
                    dir.resolve("keys.asc").toString(),
                    "--export");
            run(home, gpg.get().toString(), "--output", file + ".sig", "--detach-sign", file.toString());
        } finally {
            Requirements.which("gpgconf").ifPresent(c -> {
                try {
                    run(home, c.toString(), "--kill", "gpg-agent");
                } catch (Exception ignored) {
                    // the agent also exits on its own once its home directory is deleted
                }
            });
        }
        SignatureVerifier v = SignatureVerifier.fromKeyring(dir.resolve("keys.asc"));

        assertEquals(
                Optional.of("Gpg Made <gpg@example.invalid>"),
                v.verify(file, Path.of(file + ".sig")).userId());
        byte[] tampered = image.clone(); // never the shared array: test methods run concurrently
        tampered[0] ^= 1;
        Files.write(file, tampered);
        assertEquals(
                ExitCode.VERIFICATION_FAILED,
                assertThrows(CorezfsException.class, () -> v.verify(file, Path.of(file + ".sig")))
                        .exitCode());
    }

    private static void run(Path home, String... cmd) throws Exception {
        String[] full = cmd[0].endsWith("gpgconf")
                ? cmd
                : prepend(
                        cmd[0],
                        new String[] {"--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""},
                        cmd);
        ProcessBuilder pb = new ProcessBuilder(full).redirectErrorStream(true);
        pb.environment().putAll(Map.of("GNUPGHOME", home.toString()));
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "timed out: " + String.join(" ", full));
        assertEquals(0, p.exitValue(), String.join(" ", full) + ": " + out);
    }

    private static String[] prepend(String tool, String[] opts, String[] cmd) {
        String[] out = new String[1 + opts.length + cmd.length - 1];
        out[0] = tool;
        System.arraycopy(opts, 0, out, 1, opts.length);
        System.arraycopy(cmd, 1, out, 1 + opts.length, cmd.length - 1);
        return out;
    }

    private static SignatureVerifier verifier(TestPgp keys) {
        try {
            return SignatureVerifier.fromKeyring(keys.publicKeyring(false), "test keyring");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static void assertOneLine(Exception e) {
        assertFalse(e.getMessage().contains("\n"), "message must be one line: " + e.getMessage());
    }
}
