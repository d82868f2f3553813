package io.corezfs.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.Date;
import java.util.HexFormat;
import org.bouncycastle.bcpg.ArmoredOutputStream;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.PublicKeyPacket;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.generators.RSAKeyPairGenerator;
import org.bouncycastle.crypto.params.RSAKeyGenerationParameters;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPKeyPair;
import org.bouncycastle.openpgp.PGPKeyRingGenerator;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureGenerator;
import org.bouncycastle.openpgp.PGPSignatureSubpacketGenerator;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentSignerBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;
import org.bouncycastle.openpgp.operator.bc.BcPGPKeyPair;

/**
 * A throwaway OpenPGP identity shaped like a release key: a certifying primary key with a separate signing subkey,
 * which is what actually signs release files. RSA 1024 keeps key generation to milliseconds; the key size is
 * irrelevant to what the tests check.
 */
public final class TestPgp {
    private static final SecureRandom RANDOM = new SecureRandom();

    public final PGPPublicKeyRing publicRing;
    public final PGPKeyPair signer;

    private TestPgp(PGPPublicKeyRing publicRing, PGPKeyPair signer) {
        this.publicRing = publicRing;
        this.signer = signer;
    }

    public static TestPgp generate(String userId) {
        return generate(userId, 0);
    }

    /** A key whose signing subkey expires {@code subkeySeconds} after its creation a minute ago (0: never). */
    public static TestPgp generate(String userId, long subkeySeconds) {
        try {
            Date now = new Date(System.currentTimeMillis() / 1000 * 1000 - 60_000);
            PGPKeyPair primary = new BcPGPKeyPair(PublicKeyPacket.VERSION_4, PGPPublicKey.RSA_GENERAL, rsa(), now);
            PGPKeyPair sub = new BcPGPKeyPair(PublicKeyPacket.VERSION_4, PGPPublicKey.RSA_GENERAL, rsa(), now);
            PGPKeyRingGenerator gen = new PGPKeyRingGenerator(
                    PGPSignature.POSITIVE_CERTIFICATION,
                    primary,
                    userId,
                    new BcPGPDigestCalculatorProvider().get(HashAlgorithmTags.SHA1),
                    null,
                    null,
                    new BcPGPContentSignerBuilder(PGPPublicKey.RSA_GENERAL, HashAlgorithmTags.SHA256),
                    null);
            if (subkeySeconds > 0) {
                PGPSignatureSubpacketGenerator binding = new PGPSignatureSubpacketGenerator();
                binding.setKeyExpirationTime(false, subkeySeconds);
                gen.addSubKey(sub, binding.generate(), null);
            } else {
                gen.addSubKey(sub);
            }
            return new TestPgp(gen.generatePublicKeyRing(), sub);
        } catch (PGPException e) {
            throw new IllegalStateException(e);
        }
    }

    private static AsymmetricCipherKeyPair rsa() {
        RSAKeyPairGenerator g = new RSAKeyPairGenerator();
        g.init(new RSAKeyGenerationParameters(BigInteger.valueOf(0x10001), RANDOM, 1024, 80));
        return g.generateKeyPair();
    }

    public String signerFingerprint() {
        return HexFormat.of().withUpperCase().formatHex(signer.getPublicKey().getFingerprint());
    }

    public byte[] publicKeyring(boolean armored) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = armored ? new ArmoredOutputStream(bytes) : bytes) {
            publicRing.encode(out);
        }
        return bytes.toByteArray();
    }

    public byte[] sign(byte[] data, boolean armored) throws IOException {
        return sign(data, armored, PGPSignature.BINARY_DOCUMENT, HashAlgorithmTags.SHA512);
    }

    public byte[] sign(byte[] data, boolean armored, int signatureType, int hash) throws IOException {
        try {
            PGPSignatureGenerator g = new PGPSignatureGenerator(
                    new BcPGPContentSignerBuilder(PGPPublicKey.RSA_GENERAL, hash), signer.getPublicKey());
            g.init(signatureType, signer.getPrivateKey());
            PGPSignatureSubpacketGenerator hashed = new PGPSignatureSubpacketGenerator();
            hashed.setSignatureCreationTime(false, new Date());
            hashed.setIssuerFingerprint(false, signer.getPublicKey());
            g.setHashedSubpackets(hashed.generate());
            g.update(data);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (OutputStream out = armored ? new ArmoredOutputStream(bytes) : bytes) {
                g.generate().encode(out);
            }
            return bytes.toByteArray();
        } catch (PGPException e) {
            throw new IllegalStateException(e);
        }
    }
}
