package io.corezfs.trust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.testing.RecordingReporter;
import io.corezfs.testing.Requirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TrustPolicyTest {
    @TempDir
    Path dir;

    SshKeys.KeyPair trusted;
    SshKeys.KeyPair untrusted;
    AllowedSigners keys;
    Path file;

    @BeforeEach
    void setUp() throws Exception {
        Requirements.need(Requirements.which("ssh-keygen").isPresent(), "ssh-keygen (openssh-client)");
        trusted = key("trusted");
        untrusted = key("untrusted");
        keys = AllowedSigners.parse("builds@example " + trusted.publicKey().text(), "trusted-keys", ZoneOffset.UTC);
        file = Files.writeString(dir.resolve("a.tar.gz"), "archive");
    }

    SshKeys.KeyPair key(String name) throws Exception {
        Path k = dir.resolve(name);
        Process p = new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k.toString()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return SshKeys.parsePrivate(Files.readString(k), name);
    }

    TrustPolicy policy(TrustPolicy.Level l) {
        return new TrustPolicy(l, keys, Instant.parse("2026-11-29T00:00:00Z"));
    }

    @Test
    void theDefaultIsRequireAsSoonAsAnyKeyIsTrusted() {
        assertEquals(TrustPolicy.Level.REQUIRE, TrustPolicy.defaultFor(keys));
        assertEquals(
                TrustPolicy.Level.IF_PRESENT,
                TrustPolicy.defaultFor(AllowedSigners.parse("# none yet\n", "trusted-keys", ZoneOffset.UTC)));
    }

    @ParameterizedTest
    @EnumSource(TrustPolicy.Level.class)
    void aSignatureByAnUntrustedKeyIsRefusedUnderEveryPolicy(TrustPolicy.Level level) throws Exception {
        Files.writeString(SignedFile.sigOf(file), SshSig.sign(untrusted, file));

        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> policy(level).check(file, SignedFile.sigOf(file), "m", true, true, new RecordingReporter()));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains(untrusted.publicKey().fingerprint()), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(TrustPolicy.Level.class)
    void aGoodSignatureIsAcceptedAndNamedUnderEveryPolicy(TrustPolicy.Level level) throws Exception {
        Files.writeString(SignedFile.sigOf(file), SshSig.sign(trusted, file));
        RecordingReporter r = new RecordingReporter();

        assertEquals(
                "builds@example",
                policy(level)
                        .check(file, SignedFile.sigOf(file), "m", true, false, r)
                        .orElseThrow()
                        .principals());
    }

    @Test
    void requireRefusesAnUnsignedFetchedFileEvenWithAllowUnsigned() {
        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> policy(TrustPolicy.Level.REQUIRE)
                        .check(file, SignedFile.sigOf(file), "http://m/", true, true, new RecordingReporter()));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains("SIGNATURES=require"), e.getMessage());
    }

    @Test
    void requireLetsALocalUnsignedFileThroughOnlyWithAllowUnsignedAndWarns() {
        assertThrows(
                CorezfsException.class,
                () -> policy(TrustPolicy.Level.REQUIRE)
                        .check(file, SignedFile.sigOf(file), "--archive", false, false, new RecordingReporter()));
        RecordingReporter r = new RecordingReporter();

        policy(TrustPolicy.Level.REQUIRE).check(file, SignedFile.sigOf(file), "--archive", false, true, r);

        assertTrue(String.join("\n", r.told()).contains("--allow-unsigned"), r.told()::toString);
    }

    @Test
    void ifPresentAndOffAcceptUnsignedFiles() {
        for (TrustPolicy.Level l : new TrustPolicy.Level[] {TrustPolicy.Level.IF_PRESENT, TrustPolicy.Level.OFF}) {
            assertTrue(policy(l)
                    .check(file, SignedFile.sigOf(file), "m", true, false, new RecordingReporter())
                    .isEmpty());
        }
    }
}
