package io.corezfs.trust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.testing.Requirements;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SSH signatures in OpenSSH's format, checked against the real ssh-keygen both ways: what corezfs signs, ssh-keygen
 * verifies; what ssh-keygen signs, corezfs verifies. Then every way a signature can be wrong.
 */
class SshSigTest {
    static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");

    @TempDir
    Path dir;

    Path key;
    Path file;

    @BeforeEach
    void keyAndFile() throws Exception {
        Requirements.need(Requirements.which("ssh-keygen").isPresent(), "ssh-keygen (openssh-client)");
        key = dir.resolve("id_ed25519");
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "builds@example", "-f", key.toString());
        file = dir.resolve("corezfs_flatcar-9999.1.0_amd64-usr_6.12.95_zfs-2.3.2.tar.gz");
        Files.write(file, "archive bytes\n".repeat(1000).getBytes(StandardCharsets.UTF_8));
    }

    SshKeys.KeyPair pair() throws IOException {
        return SshKeys.parsePrivate(Files.readString(key), key.toString());
    }

    Path allowedSigners(String line) throws IOException {
        Path f = dir.resolve("allowed_signers");
        Files.writeString(f, line + "\n");
        return f;
    }

    String publicKey() throws IOException {
        return Files.readString(dir.resolve("id_ed25519.pub")).strip();
    }

    AllowedSigners trust(String options) throws IOException {
        String text = "builds@example " + (options.isEmpty() ? "" : options + " ") + publicKey();
        return AllowedSigners.parse(text, "trusted-keys", ZoneOffset.UTC);
    }

    @Test
    void aSignatureCorezfsMakesVerifiesWithSshKeygen() throws Exception {
        Files.writeString(SignedFile.sigOf(file), SshSig.sign(pair(), file));
        Path signers = allowedSigners("builds@example " + publicKey());

        Result r = run(
                file,
                "ssh-keygen",
                "-Y",
                "verify",
                "-f",
                signers.toString(),
                "-I",
                "builds@example",
                "-n",
                "corezfs",
                "-s",
                SignedFile.sigOf(file).toString());

        assertEquals(0, r.code, r.out);
        assertTrue(r.out.contains("Good \"corezfs\" signature for builds@example"), r.out);
    }

    @Test
    void aSignatureSshKeygenMakesVerifiesInCorezfs() throws Exception {
        run("ssh-keygen", "-Y", "sign", "-f", key.toString(), "-n", "corezfs", file.toString());

        SignedFile.Signer s = SignedFile.check(file, SignedFile.sigOf(file), trust(""), NOW);

        assertEquals("builds@example", s.principals());
        assertEquals(pair().publicKey().fingerprint(), s.fingerprint());
        // The same fingerprint ssh-keygen prints.
        assertTrue(run("ssh-keygen", "-l", "-f", key + ".pub").out.contains(s.fingerprint()));
    }

    @Test
    void changedBytesUnderAnOldSignatureAreRefusedNamingTheKey() throws Exception {
        Files.writeString(SignedFile.sigOf(file), SshSig.sign(pair(), file));
        Files.writeString(file, "tampered", java.nio.file.StandardOpenOption.APPEND);

        CorezfsException e = refused(trust(""));

        assertTrue(e.getMessage().contains(pair().publicKey().fingerprint()), e.getMessage());
        assertTrue(e.getMessage().contains("does not match the file's bytes"), e.getMessage());
    }

    @Test
    void aSignatureForAnotherFileIsRefused() throws Exception {
        Path other = dir.resolve("other.tar.gz");
        Files.writeString(other, "another archive");
        Files.writeString(SignedFile.sigOf(file), SshSig.sign(pair(), other));

        assertTrue(refused(trust("")).getMessage().contains("does not match"));
    }

    @Test
    void aKeyThatIsNotTrustedIsRefusedWithItsFingerprint() throws Exception {
        Files.writeString(SignedFile.sigOf(file), SshSig.sign(pair(), file));
        Path other = dir.resolve("other_key");
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other.toString());
        AllowedSigners someoneElse = AllowedSigners.parse(
                "ops@example " + Files.readString(dir.resolve("other_key.pub")).strip(),
                "trusted-keys",
                ZoneOffset.UTC);

        CorezfsException e = refused(someoneElse);

        assertTrue(
                e.getMessage().contains("key " + pair().publicKey().fingerprint() + " is not in trusted-keys"),
                e.getMessage());
    }

    @Test
    void aSignatureInAnotherNamespaceIsRefused() throws Exception {
        run("ssh-keygen", "-Y", "sign", "-f", key.toString(), "-n", "git", file.toString());

        assertTrue(refused(trust("")).getMessage().contains("namespace 'git'"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"valid-before=\"20261129\"", "valid-after=\"20261130Z\"", "namespaces=\"git,file\""})
    void aTrustedKeyOutsideItsLimitsIsRefused(String options) throws Exception {
        Files.writeString(SignedFile.sigOf(file), SshSig.sign(pair(), file));

        CorezfsException e = refused(trust(options));

        assertTrue(e.getMessage().contains(pair().publicKey().fingerprint()), e.getMessage());
    }

    @Test
    void limitsThatHoldAreAccepted() throws Exception {
        Files.writeString(SignedFile.sigOf(file), SshSig.sign(pair(), file));

        SignedFile.check(
                file,
                SignedFile.sigOf(file),
                trust("namespaces=\"git,corezfs\",valid-after=\"20250101\",valid-before=\"202612010000Z\""),
                NOW);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----\n",
                "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n",
                "-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----\n",
                "-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAf////8=\n-----END SSH SIGNATURE-----\n",
                "-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n",
            })
    void garbledSignaturesAreRefusedNotCrashedOn(String sig) throws Exception {
        Files.writeString(SignedFile.sigOf(file), sig);

        assertTrue(refused(trust("")).getMessage().contains("unreadable"));
    }

    @Test
    void everyTruncationOfARealSignatureIsRefused() throws Exception {
        String good = SshSig.sign(pair(), file);
        byte[] blob = java.util.Base64.getDecoder()
                .decode(good.replace("-----BEGIN SSH SIGNATURE-----", "")
                        .replace("-----END SSH SIGNATURE-----", "")
                        .replaceAll("\\s", ""));
        for (int n = 0; n < blob.length; n += 7) {
            String cut = "-----BEGIN SSH SIGNATURE-----\n"
                    + java.util.Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(blob, n))
                    + "\n-----END SSH SIGNATURE-----\n";
            Files.writeString(SignedFile.sigOf(file), cut);
            refused(trust(""));
        }
    }

    @Test
    void anEncryptedPrivateKeyIsRefusedSayingHowToMakeAUsableOne() throws Exception {
        Path enc = dir.resolve("enc");
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "secret-passphrase", "-f", enc.toString());

        CorezfsException e =
                assertThrows(CorezfsException.class, () -> SshKeys.parsePrivate(Files.readString(enc), enc.toString()));

        assertEquals(ExitCode.USAGE, e.exitCode());
        assertTrue(e.getMessage().contains("encrypted"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "builds@example ssh-ed25519",
                "builds@example ssh-ed25519 not-base64!!",
                "builds@example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==",
                "builds@example bogus=\"x\" ssh-ed25519 AAAA",
                "builds@example valid-before=\"2026\" ssh-ed25519 AAAA",
                "builds@example namespaces=\"corezfs ssh-ed25519 AAAA",
            })
    void aTrustFileWithABadLineIsRefusedNamingTheLine(String line) {
        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> AllowedSigners.parse("# keys\n" + line + "\n", "trusted-keys", ZoneOffset.UTC));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertTrue(e.getMessage().startsWith("trusted-keys:2: "), e.getMessage());
    }

    @Test
    void otherKeyTypesAndCertificateAuthoritiesAreSkippedSoOneFileServesGitToo() throws Exception {
        AllowedSigners s = AllowedSigners.parse(
                "a@example ssh-rsa AAAAB3NzaC1yc2E= rsa\n"
                        + "*@example cert-authority " + publicKey() + "\n"
                        + "builds@example " + publicKey() + "\n",
                "trusted-keys",
                ZoneOffset.UTC);

        assertEquals(1, s.entries().size());
        assertEquals(3, s.entries().get(0).line());
    }

    CorezfsException refused(AllowedSigners trust) {
        CorezfsException e =
                assertThrows(CorezfsException.class, () -> SignedFile.check(file, SignedFile.sigOf(file), trust, NOW));
        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode(), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        return e;
    }

    record Result(int code, String out) {}

    Result run(String... cmd) throws Exception {
        return run(null, cmd);
    }

    Result run(Path stdin, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true);
        if (stdin != null) {
            pb.redirectInput(stdin.toFile());
        }
        Process p = pb.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = p.getInputStream()) {
            in.transferTo(out);
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", cmd));
        Result r = new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8));
        if (stdin == null && r.code != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed: " + r.out);
        }
        return r;
    }
}
