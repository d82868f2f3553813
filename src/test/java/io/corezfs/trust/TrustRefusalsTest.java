package io.corezfs.trust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.testing.Cli;
import io.corezfs.testing.FakeLiveSystem;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.Requirements;
import io.corezfs.testing.TarBuilder;
import io.corezfs.testing.TreeSnapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that trusts one signing key ({@code /etc/corezfs/trusted-keys}, so {@code SIGNATURES} defaults to
 * {@code require}) is offered archives that must not reach it. Each refusal is exit 5 with one line, and the node's
 * {@code /opt} and {@code /etc} are exactly as before.
 */
class TrustRefusalsTest {
    static final String NAME = "corezfs_amd64-usr_" + HostRoots.FLATCAR_VERSION + "_stable_zfs-2.1.11.tar.gz";

    @TempDir
    Path tmp;

    Path root;
    Path work;
    FakeLiveSystem host;
    Path key;
    Path otherKey;
    Map<String, String> optBefore;
    Map<String, String> etcBefore;

    @BeforeEach
    void aNodeThatTrustsOneKey() throws Exception {
        Requirements.need(Requirements.which("ssh-keygen").isPresent(), "ssh-keygen (openssh-client)");
        root = HostRoots.flatcar(tmp.resolve("root")).root();
        host = new FakeLiveSystem(root, "2.1.11");
        work = Files.createDirectories(tmp.resolve("work"));
        key = keygen("builds");
        otherKey = keygen("intruder");
        // Installed before any key was trusted: the node runs an unsigned 2.1.11.
        TarBuilder.typicalTree().writeTo(work.resolve("installed").resolve(NAME));
        Cli.Run r = corezfs(
                "install",
                "--mode",
                "overlay",
                "--archive",
                work.resolve("installed/" + NAME).toString());
        assertEquals(0, r.exitCode(), r::toString);
        HostRoots.at(root).file(AllowedSigners.NODE_FILE, "builds@example " + Files.readString(Path.of(key + ".pub")));
        optBefore = TreeSnapshot.of(root.resolve("opt"));
        etcBefore = TreeSnapshot.of(root.resolve("etc"));
    }

    @AfterEach
    void nothingElseWasTouchedByARefusal() {
        // Each test that expects a refusal calls refused(); this only documents the invariant's scope.
    }

    Path keygen(String name) throws Exception {
        Path k = tmp.resolve(name);
        Process p = new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", k.toString())
                .redirectErrorStream(true)
                .start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        return k;
    }

    Cli.Run corezfs(String... args) {
        return new Cli(work).live(root, host).run(args);
    }

    /** The mirror tests start from a node whose store holds no archive for it, so the mirror is asked. */
    void emptyNodeStore() throws IOException {
        try (var files = Files.list(root.resolve("var/lib/corezfs/archives"))) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        optBefore = TreeSnapshot.of(root.resolve("opt"));
        etcBefore = TreeSnapshot.of(root.resolve("etc"));
    }

    /** A newer build for the same node: same target, one more file, so its bytes differ. */
    Path archive(String dir, String marker) {
        return TarBuilder.typicalTree()
                .file("etc/zfs/build", marker + "\n")
                .writeTo(work.resolve(dir).resolve(NAME));
    }

    void sign(Path file, Path withKey) {
        Cli.Run r = corezfs("archive", "sign", "--key", withKey.toString(), file.toString());
        assertEquals(0, r.exitCode(), r::toString);
    }

    void refused(Cli.Run r, String... says) {
        assertEquals(5, r.exitCode(), r::toString);
        assertEquals(
                1, r.err().strip().lines().filter(l -> l.startsWith("corezfs:")).count(), r::toString);
        for (String s : says) {
            assertTrue(r.err().contains(s), () -> "expected '" + s + "'\n" + r);
        }
        assertEquals(optBefore, TreeSnapshot.of(root.resolve("opt")), "/opt unchanged");
        assertEquals(etcBefore, TreeSnapshot.of(root.resolve("etc")), "/etc unchanged");
    }

    String fingerprint(Path k) throws IOException {
        return SshKeys.parsePrivate(Files.readString(k), k.toString())
                .publicKey()
                .fingerprint();
    }

    @Test
    void aCorrectlySignedArchiveInstalls() {
        Path a = archive("good", "good");
        sign(a, key);

        Cli.Run r = corezfs("install", "--archive", a.toString());

        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.err().contains("signed by builds@example"), r::toString);
    }

    @Test
    void tamperedBytesUnderAValidOldSignatureAreRefused() throws IOException {
        Path a = archive("t", "original");
        sign(a, key);
        Files.copy(archive("t2", "tampered"), a, StandardCopyOption.REPLACE_EXISTING);

        refused(corezfs("install", "--archive", a.toString()), fingerprint(key), "does not match the file's bytes");
    }

    @Test
    void aSignatureByAnUntrustedKeyIsRefused() throws IOException {
        Path a = archive("u", "x");
        sign(a, otherKey);

        refused(corezfs("install", "--archive", a.toString()), fingerprint(otherKey), "not trusted");
    }

    @Test
    void aSignatureSwappedInFromAnotherArchiveIsRefused() throws IOException {
        Path a = archive("s1", "one");
        Path b = archive("s2", "two");
        sign(b, key);
        Files.copy(SignedFile.sigOf(b), SignedFile.sigOf(a));

        refused(corezfs("install", "--archive", a.toString()), "does not match");
    }

    @Test
    void anUnsignedLocalArchiveIsRefusedUnlessAllowedWithAWarning() {
        Path a = archive("n", "unsigned");

        refused(corezfs("install", "--archive", a.toString()), "has no signature", "--allow-unsigned");

        Cli.Run allowed = corezfs("install", "--archive", a.toString(), "--allow-unsigned");
        assertEquals(0, allowed.exitCode(), allowed::toString);
        assertTrue(allowed.err().contains("installing it anyway (--allow-unsigned)"), allowed::toString);
    }

    @Test
    void aSignedIndexWhoseEntryNamesAnotherSha256IsRefused() throws IOException {
        emptyNodeStore();
        Path mirror = work.resolve("m");
        Path a = archive("m", "listed");
        assertEquals(
                0,
                corezfs("publish", "--sign-key", key.toString(), mirror.toString())
                        .exitCode());
        // The archive and its signature are genuine; the index, signed by the trusted key too, names other bytes.
        Path index = mirror.resolve("index.json");
        String sha = Hashes.sha256(a);
        Files.writeString(index, Files.readString(index).replace(sha, "0".repeat(64)));
        Files.writeString(
                SignedFile.sigOf(index),
                SshSig.sign(SshKeys.parsePrivate(Files.readString(key), key.toString()), index));

        refused(corezfs("install", "--mirror", mirror.toUri().toString()), "does not match the mirror's index");
    }

    @Test
    void aSignedIndexNextToAnUnsignedArchiveIsRefused() throws IOException {
        emptyNodeStore();
        Path mirror = work.resolve("m");
        Path a = archive("m", "listed");
        assertEquals(
                0,
                corezfs("publish", "--sign-key", key.toString(), mirror.toString())
                        .exitCode());
        Files.delete(SignedFile.sigOf(a));

        refused(
                corezfs("install", "--mirror", mirror.toUri().toString(), "--allow-unsigned"),
                "has no signature",
                "SIGNATURES=require");
    }

    @Test
    void anUnsignedIndexIsRefused() throws IOException {
        emptyNodeStore();
        Path mirror = work.resolve("m");
        archive("m", "listed");
        assertEquals(
                0,
                corezfs("publish", "--sign-key", key.toString(), mirror.toString())
                        .exitCode());
        Files.delete(mirror.resolve("index.json.sig"));

        refused(corezfs("install", "--mirror", mirror.toUri().toString()), "index.json", "has no signature");
    }

    @Test
    void aSignedMirrorInstalls() throws IOException {
        emptyNodeStore();
        Path mirror = work.resolve("m");
        archive("m", "listed");
        assertEquals(
                0,
                corezfs("publish", "--sign-key", key.toString(), mirror.toString())
                        .exitCode());

        Cli.Run r = corezfs("install", "--mirror", mirror.toUri().toString());

        assertEquals(0, r.exitCode(), r::toString);
    }

    @Test
    void anOlderSignedArchiveForTheSameTargetIsADowngradeAndIsRefusedUnlessAsked() {
        Path older = TarBuilder.typicalTree()
                .zfs("2.1.9")
                .writeTo(work.resolve("old")
                        .resolve("corezfs_amd64-usr_" + HostRoots.FLATCAR_VERSION + "_stable_zfs-2.1.9.tar.gz"));
        sign(older, key);

        refused(corezfs("install", "--archive", older.toString()), "refusing a downgrade", "--allow-downgrade");

        host.kmod("2.1.9");
        Cli.Run allowed = corezfs("install", "--archive", older.toString(), "--allow-downgrade");
        assertEquals(0, allowed.exitCode(), allowed::toString);
    }

    @Test
    void aRebuildOfTheSameReleaseIsNotADowngrade() {
        // The same release with an earlier build epoch (an original after a later repack): same ZFS, no downgrade.
        Path same = TarBuilder.typicalTree()
                .file("etc/zfs/build", "rebuilt\n")
                .editManifest(m -> m.put("buildEpoch", 1L))
                .writeTo(work.resolve("same").resolve(NAME));
        sign(same, key);

        Cli.Run r = corezfs("install", "--archive", same.toString());

        assertEquals(0, r.exitCode(), r::toString);
    }
}
