package io.corezfs.trust;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * OpenSSH's signature format (PROTOCOL.sshsig), so a signature corezfs writes verifies with
 * {@code ssh-keygen -Y verify -n corezfs} and one {@code ssh-keygen -Y sign -n corezfs} writes verifies here. Operators
 * already hold ssh keys and git signs with the same format; no second key system to learn.
 *
 * <p>Parsing is strict and bounded: the armour, the magic, version 1, an ed25519 key and signature, sha256 or sha512,
 * nothing after the signature. This class only checks the mathematics and the namespace; whether the key is trusted is
 * {@link AllowedSigners}'s question.
 */
public final class SshSig {
    /** The namespace every corezfs signature is made in: a signature for git or for a login cannot be replayed here. */
    public static final String NAMESPACE = "corezfs";

    /** A {@code .sig} file larger than this is not a signature (real ones are about 300 bytes). */
    static final int MAX_SIG_BYTES = 16 * 1024;

    private static final byte[] MAGIC = "SSHSIG".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    private static final String BEGIN = "-----BEGIN SSH SIGNATURE-----";
    private static final String END = "-----END SSH SIGNATURE-----";

    /** A parsed signature: who claims to have signed, in which namespace, with which hash. */
    public record Parsed(SshKeys.PublicKey key, String namespace, String hashAlgorithm, byte[] signature) {}

    private SshSig() {}

    /** Signs {@code file} and returns the armoured signature, as {@code ssh-keygen -Y sign} writes it. */
    public static String sign(SshKeys.KeyPair key, Path file) throws IOException {
        String hashAlg = "sha512";
        byte[] hash = digest(file, hashAlg);
        byte[] toSign = signedData(NAMESPACE, hashAlg, hash);
        Ed25519Signer signer = new Ed25519Signer();
        signer.init(true, key.secret());
        signer.update(toSign, 0, toSign.length);
        byte[] sig = signer.generateSignature();
        byte[] blob = new SshWire.Writer()
                .raw(MAGIC)
                .uint32(VERSION)
                .string(key.publicKey().blob())
                .string(NAMESPACE)
                .string(new byte[0])
                .string(hashAlg)
                .string(new SshWire.Writer().string(SshKeys.ED25519).string(sig).bytes())
                .bytes();
        return armour(blob);
    }

    private static String armour(byte[] blob) {
        String b64 = Base64.getEncoder().encodeToString(blob);
        StringBuilder sb = new StringBuilder(BEGIN).append('\n');
        // ssh-keygen wraps at 70 columns; any width parses, this one makes the files look identical.
        for (int i = 0; i < b64.length(); i += 70) {
            sb.append(b64, i, Math.min(b64.length(), i + 70)).append('\n');
        }
        return sb.append(END).append('\n').toString();
    }

    /** Parses an armoured signature; any deviation is a {@link SshWire.Malformed} naming it. */
    public static Parsed parse(String text) throws SshWire.Malformed {
        String t = text.strip();
        if (!t.startsWith(BEGIN) || !t.endsWith(END)) {
            throw new SshWire.Malformed("not an SSH signature (no " + BEGIN + " block)");
        }
        String body = t.substring(BEGIN.length(), t.length() - END.length()).replaceAll("[\\r\\n\\t ]", "");
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(body);
        } catch (IllegalArgumentException e) {
            throw new SshWire.Malformed("the signature block is not valid base64");
        }
        SshWire.Reader r = new SshWire.Reader(blob);
        if (!Arrays.equals(r.raw(MAGIC.length), MAGIC)) {
            throw new SshWire.Malformed("no SSHSIG magic");
        }
        int version = r.uint32();
        if (version != VERSION) {
            throw new SshWire.Malformed("signature version " + version + " is not supported");
        }
        SshKeys.PublicKey key = SshKeys.fromBlob(r.string());
        String namespace = r.text();
        r.string(); // reserved
        String hashAlg = r.text();
        if (!hashAlg.equals("sha512") && !hashAlg.equals("sha256")) {
            throw new SshWire.Malformed("hash algorithm " + hashAlg + " is not supported");
        }
        SshWire.Reader s = new SshWire.Reader(r.string());
        r.end();
        String sigType = s.text();
        if (!sigType.equals(SshKeys.ED25519)) {
            throw new SshWire.Malformed("signature type " + sigType + " is not supported");
        }
        byte[] sig = s.string();
        s.end();
        if (sig.length != 64) {
            throw new SshWire.Malformed("an ed25519 signature has 64 bytes, not " + sig.length);
        }
        return new Parsed(key, namespace, hashAlg, sig);
    }

    /** True when {@code sig} is a correct signature of {@code file} by the key it names, in corezfs's namespace. */
    public static boolean verifies(Parsed sig, Path file) throws IOException {
        if (!sig.namespace().equals(NAMESPACE)) {
            return false;
        }
        byte[] toCheck = signedData(sig.namespace(), sig.hashAlgorithm(), digest(file, sig.hashAlgorithm()));
        Ed25519Signer v = new Ed25519Signer();
        v.init(false, sig.key().params());
        v.update(toCheck, 0, toCheck.length);
        return v.verifySignature(sig.signature());
    }

    private static byte[] signedData(String namespace, String hashAlg, byte[] hash) {
        return new SshWire.Writer()
                .raw(MAGIC)
                .string(namespace)
                .string(new byte[0])
                .string(hashAlg)
                .string(hash)
                .bytes();
    }

    private static byte[] digest(Path file, String hashAlg) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(hashAlg.equals("sha512") ? "SHA-512" : "SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return md.digest();
    }
}
