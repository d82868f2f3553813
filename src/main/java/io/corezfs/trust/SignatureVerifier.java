package io.corezfs.trust;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.sig.IssuerFingerprint;
import org.bouncycastle.openpgp.PGPCompressedData;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPMarker;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPPublicKeyRingCollection;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureList;
import org.bouncycastle.openpgp.PGPSignatureSubpacketVector;
import org.bouncycastle.openpgp.PGPUtil;
import org.bouncycastle.openpgp.bc.BcPGPObjectFactory;
import org.bouncycastle.openpgp.operator.bc.BcKeyFingerprintCalculator;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentVerifierBuilderProvider;

/**
 * Checks a detached OpenPGP signature over a file, in-process with BouncyCastle, so a build host needs no gpg and
 * no keyring state of its own.
 *
 * <p>The keyring is trusted as given (it ships with the tool or the operator names it), so subkey bindings are not
 * re-verified and key expiry is not enforced: release keys rotate signing subkeys with expiry dates, and an old
 * release signed while its subkey was valid must still verify. A revoked key is refused.
 *
 * <p>Every failure about the signature itself is exit 5 with a one-line message naming the file; an unusable
 * keyring is exit 3.
 */
public final class SignatureVerifier {
    // Real detached signatures are a few hundred bytes; the cap keeps a hostile .sig from steering the parser
    // into large allocations.
    public static final int MAX_SIGNATURE_BYTES = 64 * 1024;
    static final int MAX_KEYRING_BYTES = 16 * 1024 * 1024;

    private final PGPPublicKeyRingCollection keys;
    /** Appended to "unknown key" and "expired key" failures: what to do when these keys are the stale ones. */
    private final Optional<String> staleKeyHint;

    /** What a good signature says about who made it. */
    public record Verified(String fingerprint, Instant created, Optional<String> userId) {}

    private SignatureVerifier(PGPPublicKeyRingCollection keys) {
        this(keys, Optional.empty());
    }

    private SignatureVerifier(PGPPublicKeyRingCollection keys, Optional<String> staleKeyHint) {
        this.keys = keys;
        this.staleKeyHint = staleKeyHint;
    }

    /** The same keys, with {@code hint} added to failures that a newer copy of the keys could cure. */
    public SignatureVerifier withHint(String hint) {
        return new SignatureVerifier(keys, Optional.of(hint));
    }

    private String stale(String message) {
        return staleKeyHint.map(h -> message + "; " + h).orElse(message);
    }

    /**
     * Loads trusted public keys from an OpenPGP keyring file, binary or ASCII-armored (what {@code gpg --export}
     * writes, with or without {@code --armor}).
     *
     * @throws CorezfsException exit 3 if the file holds no usable public key
     */
    public static SignatureVerifier fromKeyring(Path keyring) throws IOException {
        if (Files.size(keyring) > MAX_KEYRING_BYTES) {
            throw CorezfsException.precondition(keyring + ": keyring is larger than " + MAX_KEYRING_BYTES + " bytes");
        }
        return fromKeyring(Files.readAllBytes(keyring), keyring.toString());
    }

    /** As {@link #fromKeyring(Path)}, for a keyring already in memory (e.g. a classpath resource). */
    public static SignatureVerifier fromKeyring(byte[] keyring, String name) {
        try (InputStream in = PGPUtil.getDecoderStream(new ByteArrayInputStream(keyring))) {
            PGPPublicKeyRingCollection keys = new PGPPublicKeyRingCollection(in, new BcKeyFingerprintCalculator());
            if (keys.size() == 0) {
                throw CorezfsException.precondition(name + ": no public keys in the keyring");
            }
            return new SignatureVerifier(keys);
        } catch (IOException | PGPException | RuntimeException e) {
            if (e instanceof CorezfsException c) {
                throw c;
            }
            throw CorezfsException.precondition(name + ": not an OpenPGP public keyring (" + oneLine(e)
                    + "); export one with 'gpg --export [--armor] KEYID'");
        }
    }

    /**
     * Verifies {@code signature} (binary or armored) over the bytes of {@code file}.
     *
     * @throws CorezfsException exit 5 if the signature is malformed, made by a key not in the keyring, or does
     *                          not match the file
     */
    public Verified verify(Path file, Path signature) throws IOException {
        if (Files.size(signature) > MAX_SIGNATURE_BYTES) {
            throw fail(signature, "is not a detached signature (larger than " + MAX_SIGNATURE_BYTES + " bytes)");
        }
        byte[] sig = Files.readAllBytes(signature);
        try (InputStream data = Files.newInputStream(file)) {
            return verify(data, sig, file.getFileName().toString());
        }
    }

    /**
     * Verifies {@code signature} over everything {@code data} yields; the stream is read to its end, not closed.
     *
     * @param name the signed file's name, for messages
     */
    public Verified verify(InputStream data, byte[] signature, String name) throws IOException {
        List<PGPSignature> sigs = parse(signature, name);
        // Signatures by keys we do not know are ignored when a known key also signed; a known key's bad signature
        // is never outweighed by another good one.
        List<PGPSignature> known = new ArrayList<>();
        List<PGPPublicKey> signers = new ArrayList<>();
        String unknown = null;
        for (PGPSignature s : sigs) {
            PGPPublicKey key = keyFor(s);
            if (key == null) {
                unknown = issuer(s);
                continue;
            }
            if (s.getSignatureType() != PGPSignature.BINARY_DOCUMENT) {
                throw fail(
                        name,
                        "signature type 0x" + Integer.toHexString(s.getSignatureType())
                                + " is not a binary-document signature");
            }
            if (s.getHashAlgorithm() == HashAlgorithmTags.MD5) {
                throw fail(name, "signature uses MD5, which is not accepted");
            }
            if (key.hasRevocation()) {
                throw fail(name, "signing key " + fingerprint(key) + " is revoked");
            }
            // Expiry is judged at signing time, not now: an old release stays valid, but a signature made after its
            // key expired is not one the vendor vouched for.
            long valid = key.getValidSeconds();
            if (valid > 0) {
                Instant expired = key.getCreationTime().toInstant().plusSeconds(valid);
                if (s.getCreationTime().toInstant().isAfter(expired)) {
                    throw fail(
                            name,
                            stale("signed on " + s.getCreationTime().toInstant() + " by key " + fingerprint(key)
                                    + ", which expired on " + expired + "; if the vendor has rotated its signing key,"
                                    + " pass the newer one with --keyring FILE"));
                }
            }
            try {
                s.init(new BcPGPContentVerifierBuilderProvider(), key);
            } catch (PGPException | RuntimeException e) {
                throw fail(name, "cannot use key " + fingerprint(key) + " (" + oneLine(e) + ")");
            }
            known.add(s);
            signers.add(key);
        }
        if (known.isEmpty()) {
            throw fail(name, stale("signed by unknown key " + unknown + ", which is not in the trusted keyring"));
        }
        byte[] buf = new byte[1 << 16];
        for (int n; (n = data.read(buf)) >= 0; ) {
            for (PGPSignature s : known) {
                s.update(buf, 0, n);
            }
        }
        for (int i = 0; i < known.size(); i++) {
            boolean good;
            try {
                good = known.get(i).verify();
            } catch (PGPException | RuntimeException e) {
                throw fail(name, "signature could not be checked (" + oneLine(e) + ")");
            }
            if (!good) {
                throw fail(
                        name,
                        "BAD signature from key " + fingerprint(signers.get(i))
                                + ": the file does not match what was signed");
            }
        }
        PGPPublicKey key = signers.get(0);
        return new Verified(fingerprint(key), known.get(0).getCreationTime().toInstant(), userId(key));
    }

    private static List<PGPSignature> parse(byte[] signature, String name) {
        List<PGPSignature> out = new ArrayList<>();
        try (InputStream in = PGPUtil.getDecoderStream(new ByteArrayInputStream(signature))) {
            collect(new BcPGPObjectFactory(in), out, 0);
        } catch (IOException | PGPException | RuntimeException e) {
            throw fail(name, "malformed signature (" + oneLine(e) + ")");
        }
        if (out.isEmpty()) {
            throw fail(name, "malformed signature (no OpenPGP signature packet found)");
        }
        return out;
    }

    private static void collect(BcPGPObjectFactory f, List<PGPSignature> out, int depth)
            throws IOException, PGPException {
        for (Object o; (o = f.nextObject()) != null; ) {
            if (o instanceof PGPSignatureList list) {
                list.forEach(out::add);
            } else if (o instanceof PGPCompressedData c && depth == 0) {
                collect(new BcPGPObjectFactory(c.getDataStream()), out, depth + 1);
            } else if (!(o instanceof PGPMarker)) {
                throw new PGPException("unexpected " + o.getClass().getSimpleName() + " in a detached signature");
            }
        }
    }

    private PGPPublicKey keyFor(PGPSignature s) {
        PGPSignatureSubpacketVector hashed = s.getHashedSubPackets();
        IssuerFingerprint fp = hashed == null ? null : hashed.getIssuerFingerprint();
        if (fp != null) {
            PGPPublicKey k = keys.getPublicKey(fp.getFingerprint());
            if (k != null) {
                return k;
            }
        }
        return s.getKeyID() == 0 ? null : keys.getPublicKey(s.getKeyID());
    }

    private static String issuer(PGPSignature s) {
        PGPSignatureSubpacketVector hashed = s.getHashedSubPackets();
        IssuerFingerprint fp = hashed == null ? null : hashed.getIssuerFingerprint();
        if (fp != null) {
            return HexFormat.of().withUpperCase().formatHex(fp.getFingerprint());
        }
        return String.format("%016X", s.getKeyID());
    }

    private Optional<String> userId(PGPPublicKey signer) {
        PGPPublicKeyRing ring = keys.getPublicKeyRing(signer.getKeyID());
        if (ring == null) {
            return Optional.empty();
        }
        Iterator<String> ids = ring.getPublicKey().getUserIDs();
        return ids.hasNext() ? Optional.of(ids.next()) : Optional.empty();
    }

    private static String fingerprint(PGPPublicKey key) {
        return HexFormat.of().withUpperCase().formatHex(key.getFingerprint());
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replaceAll("\\s+", " ").strip();
    }

    private static CorezfsException fail(Object file, String what) {
        return new CorezfsException(ExitCode.VERIFICATION_FAILED, file + ": " + what);
    }
}
