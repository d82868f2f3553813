package io.corezfs.trust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.testing.Cli;
import io.corezfs.testing.Requirements;
import io.corezfs.testing.TarBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArchiveSignCommandTest {
    @TempDir
    Path dir;

    Path key;
    Cli cli;

    @BeforeEach
    void key() throws Exception {
        Requirements.need(Requirements.which("ssh-keygen").isPresent(), "ssh-keygen (openssh-client)");
        key = dir.resolve("signing");
        Process p = new ProcessBuilder(
                        "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "builds@example", "-f", key.toString())
                .redirectErrorStream(true)
                .start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        cli = new Cli(dir);
    }

    @Test
    void signingWritesASigThatTheTrustedKeyAccepts() throws Exception {
        Path a = TarBuilder.flatcar().writeTo(dir.resolve("a.tar.gz"));

        Cli.Run r = cli.run("archive", "sign", "--key", key.toString(), a.toString());

        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("signed a.tar.gz -> a.tar.gz.sig (key SHA256:"), r::toString);
        AllowedSigners trust = AllowedSigners.parse(
                "builds@example " + Files.readString(dir.resolve("signing.pub")), "t", ZoneOffset.UTC);
        SignedFile.check(a, dir.resolve("a.tar.gz.sig"), trust, java.time.Instant.now());
    }

    @Test
    void aBrokenArchiveInTheBatchSignsNone() throws Exception {
        Path good = TarBuilder.flatcar().writeTo(dir.resolve("good.tar.gz"));
        Path bad = TarBuilder.flatcar().fileWithWrongHash("etc/zfs/x", "x").writeTo(dir.resolve("bad.tar.gz"));

        Cli.Run r = cli.run("archive", "sign", "--key", key.toString(), good.toString(), bad.toString());

        assertEquals(5, r.exitCode(), r::toString);
        assertFalse(Files.exists(dir.resolve("good.tar.gz.sig")));
        assertFalse(Files.exists(dir.resolve("bad.tar.gz.sig")));
    }

    @Test
    void aKeyOthersCanReadIsRefused() throws Exception {
        Path a = TarBuilder.flatcar().writeTo(dir.resolve("a.tar.gz"));
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));

        Cli.Run r = cli.run("archive", "sign", "--key", key.toString(), a.toString());

        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains("chmod 600"), r::toString);
        assertFalse(Files.exists(dir.resolve("a.tar.gz.sig")));
    }

    @Test
    void aPublicKeyGivenAsTheKeyIsRefusedClearly() throws Exception {
        Path a = TarBuilder.flatcar().writeTo(dir.resolve("a.tar.gz"));
        Path pub = dir.resolve("signing.pub");
        Files.setPosixFilePermissions(pub, PosixFilePermissions.fromString("rw-------"));

        Cli.Run r = cli.run("archive", "sign", "--key", pub.toString(), a.toString());

        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains("not an OpenSSH private key"), r::toString);
        assertEquals(1, r.err().strip().lines().count(), r::toString);
    }

    @Test
    void publishWithAKeySignsEveryArchiveAndTheIndex() throws Exception {
        Path mirror = Files.createDirectories(dir.resolve("mirror"));
        TarBuilder.flatcar().writeTo(mirror.resolve("corezfs_flatcar_9999.0.0_amd64-usr_zfs-2.1.11.tar.gz"));
        TarBuilder.flatcar()
                .osVersion("9999.1.0")
                .writeTo(mirror.resolve("corezfs_flatcar_9999.1.0_amd64-usr_zfs-2.1.11.tar.gz"));

        Cli.Run r = cli.run("publish", "--sign-key", key.toString(), mirror.toString());

        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("signed 2 archive(s) and index.json"), r::toString);
        AllowedSigners trust = AllowedSigners.parse(
                "builds@example " + Files.readString(dir.resolve("signing.pub")), "t", ZoneOffset.UTC);
        for (String f : new String[] {
            "corezfs_flatcar_9999.0.0_amd64-usr_zfs-2.1.11.tar.gz",
            "corezfs_flatcar_9999.1.0_amd64-usr_zfs-2.1.11.tar.gz",
            "index.json"
        }) {
            SignedFile.check(mirror.resolve(f), mirror.resolve(f + ".sig"), trust, java.time.Instant.now());
        }
    }

    @Test
    void publishWithABadKeyChangesNothing() throws Exception {
        Path mirror = Files.createDirectories(dir.resolve("mirror"));
        TarBuilder.flatcar().writeTo(mirror.resolve("corezfs_flatcar_9999.0.0_amd64-usr_zfs-2.1.11.tar.gz"));
        Files.writeString(dir.resolve("nokey"), "not a key");
        Files.setPosixFilePermissions(dir.resolve("nokey"), PosixFilePermissions.fromString("rw-------"));

        Cli.Run r = cli.run("publish", "--sign-key", dir.resolve("nokey").toString(), mirror.toString());

        assertEquals(2, r.exitCode(), r::toString);
        assertFalse(Files.exists(mirror.resolve("index.json")));
        assertFalse(Files.exists(mirror.resolve("corezfs_a.tar.gz.sig")));
    }
}
