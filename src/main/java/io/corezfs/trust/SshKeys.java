package io.corezfs.trust;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;

/**
 * OpenSSH's ed25519 keys: the public key blob ({@code ssh-ed25519} + 32 bytes), its one-line text form as in
 * {@code id_ed25519.pub} and {@code allowed_signers}, its {@code SHA256:} fingerprint as {@code ssh-keygen -l} prints
 * it, and unencrypted {@code openssh-key-v1} private keys. Only ed25519: it is what the project signs with, and a
 * narrow parser is a small attack surface.
 */
public final class SshKeys {
    static final String ED25519 = "ssh-ed25519";
    private static final byte[] AUTH_MAGIC = "openssh-key-v1\0".getBytes(StandardCharsets.US_ASCII);
    private static final String PEM_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----";
    private static final String PEM_END = "-----END OPENSSH PRIVATE KEY-----";

    /** A public key: the raw 32 bytes. */
    public record PublicKey(byte[] raw) {
        public PublicKey {
            if (raw.length != Ed25519PublicKeyParameters.KEY_SIZE) {
                throw new IllegalArgumentException("an ed25519 public key has 32 bytes");
            }
            raw = raw.clone();
        }

        /** The wire blob: {@code string "ssh-ed25519", string key}. */
        public byte[] blob() {
            return new SshWire.Writer().string(ED25519).string(raw).bytes();
        }

        /** {@code SHA256:<base64 without padding>}, the form ssh-keygen and the messages use. */
        public String fingerprint() {
            try {
                byte[] h = MessageDigest.getInstance("SHA-256").digest(blob());
                return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(h);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        /** {@code ssh-ed25519 AAAA...}, the text form. */
        public String text() {
            return ED25519 + " " + Base64.getEncoder().encodeToString(blob());
        }

        Ed25519PublicKeyParameters params() {
            return new Ed25519PublicKeyParameters(raw, 0);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof PublicKey p && Arrays.equals(raw, p.raw);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(raw);
        }

        @Override
        public String toString() {
            return fingerprint();
        }
    }

    /** A private key and its public half. */
    public record KeyPair(Ed25519PrivateKeyParameters secret, PublicKey publicKey) {}

    private SshKeys() {}

    /** Parses a public key blob; anything but a well-formed ed25519 blob is refused. */
    static PublicKey fromBlob(byte[] blob) throws SshWire.Malformed {
        SshWire.Reader r = new SshWire.Reader(blob);
        String type = r.text();
        if (!type.equals(ED25519)) {
            throw new SshWire.Malformed("key type " + type + " is not supported (only " + ED25519 + ")");
        }
        byte[] key = r.string();
        r.end();
        if (key.length != 32) {
            throw new SshWire.Malformed("an ed25519 key has 32 bytes, not " + key.length);
        }
        return new PublicKey(key);
    }

    /** Parses {@code ssh-ed25519 <base64> [comment]}. */
    public static PublicKey parsePublic(String type, String base64) throws SshWire.Malformed {
        if (!type.equals(ED25519)) {
            throw new SshWire.Malformed("key type " + type + " is not supported (only " + ED25519 + ")");
        }
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new SshWire.Malformed("the key is not valid base64");
        }
        PublicKey k = fromBlob(blob);
        return k;
    }

    /**
     * Reads an unencrypted OpenSSH private key ({@code ssh-keygen -t ed25519 -N ''}). An encrypted key is refused
     * with a message that says so: corezfs asks for no passphrase, so a build box's signing key is kept unencrypted
     * and protected by its file permissions.
     */
    public static KeyPair parsePrivate(String pem, String name) {
        try {
            String t = pem.strip();
            if (!t.startsWith(PEM_BEGIN) || !t.endsWith(PEM_END)) {
                throw new SshWire.Malformed("not an OpenSSH private key (no " + PEM_BEGIN + " block)");
            }
            String body = t.substring(PEM_BEGIN.length(), t.length() - PEM_END.length())
                    .replaceAll("\\s", "");
            byte[] bin;
            try {
                bin = Base64.getDecoder().decode(body);
            } catch (IllegalArgumentException e) {
                throw new SshWire.Malformed("the key block is not valid base64");
            }
            if (bin.length < AUTH_MAGIC.length || !Arrays.equals(Arrays.copyOf(bin, AUTH_MAGIC.length), AUTH_MAGIC)) {
                throw new SshWire.Malformed("not an openssh-key-v1 key");
            }
            SshWire.Reader r = new SshWire.Reader(Arrays.copyOfRange(bin, AUTH_MAGIC.length, bin.length));
            String cipher = r.text();
            String kdf = r.text();
            r.string(); // kdf options
            if (!cipher.equals("none") || !kdf.equals("none")) {
                throw new SshWire.Malformed("the key is encrypted (" + cipher + "); corezfs needs an unencrypted"
                        + " key: ssh-keygen -t ed25519 -N '' -f FILE, kept readable by root only");
            }
            if (r.uint32() != 1) {
                throw new SshWire.Malformed("the file must hold exactly one key");
            }
            PublicKey pub = fromBlob(r.string());
            SshWire.Reader s = new SshWire.Reader(r.string());
            r.end();
            if (s.uint32() != s.uint32()) {
                throw new SshWire.Malformed("the key's check bytes differ (corrupt or encrypted)");
            }
            String type = s.text();
            if (!type.equals(ED25519)) {
                throw new SshWire.Malformed("key type " + type + " is not supported (only " + ED25519 + ")");
            }
            byte[] pub2 = s.string();
            byte[] secret = s.string();
            s.string(); // comment
            if (secret.length != 64
                    || !Arrays.equals(pub2, pub.raw())
                    || !Arrays.equals(Arrays.copyOfRange(secret, 32, 64), pub.raw())) {
                throw new SshWire.Malformed("the private and public halves do not belong together");
            }
            Ed25519PrivateKeyParameters sk = new Ed25519PrivateKeyParameters(secret, 0);
            if (!Arrays.equals(sk.generatePublicKey().getEncoded(), pub.raw())) {
                throw new SshWire.Malformed("the private key does not produce its public key");
            }
            return new KeyPair(sk, pub);
        } catch (SshWire.Malformed e) {
            throw new CorezfsException(ExitCode.USAGE, name + ": " + e.getMessage());
        }
    }
}
