package io.corezfs.trust;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.host.RootFs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * Makes {@code FILE.sig} with an operator's ed25519 key ({@code archive sign}, {@code build --sign-key},
 * {@code publish --sign-key}). The signature is written beside the file under a temporary name and renamed, so a
 * reader never sees half a signature, and a signature is never left next to a file it does not match.
 */
public final class Signer {
    private final SshKeys.KeyPair key;

    private Signer(SshKeys.KeyPair key) {
        this.key = key;
    }

    /**
     * Loads the private key. A key readable by others than its owner is refused, as ssh refuses it: whoever can read
     * it can sign archives that every node trusting it will load as root.
     */
    public static Signer load(Path keyFile) {
        try {
            if (!Files.isRegularFile(keyFile, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(keyFile)) {
                throw new CorezfsException(ExitCode.USAGE, keyFile + ": no such key file");
            }
            Set<PosixFilePermission> p = Files.getPosixFilePermissions(keyFile);
            if (p.contains(PosixFilePermission.GROUP_READ) || p.contains(PosixFilePermission.OTHERS_READ)) {
                throw new CorezfsException(
                        ExitCode.USAGE, keyFile + ": the signing key is readable by other users; chmod 600 " + keyFile);
            }
            String text = RootFs.readText(keyFile, keyFile.toString());
            return new Signer(SshKeys.parsePrivate(text, keyFile.toString()));
        } catch (UnsupportedOperationException | IOException e) {
            throw new CorezfsException(ExitCode.USAGE, keyFile + ": cannot read the signing key: " + e.getMessage());
        }
    }

    public SshKeys.PublicKey publicKey() {
        return key.publicKey();
    }

    /** Signs {@code file} into {@code file.sig} and returns that path. */
    public Path sign(Path file) {
        Path sig = SignedFile.sigOf(file);
        Path tmp = sig.resolveSibling("." + sig.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, SshSig.sign(key, file), StandardCharsets.US_ASCII);
            try {
                Files.move(tmp, sig, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, sig, StandardCopyOption.REPLACE_EXISTING);
            }
            return sig;
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the message below is what matters
            }
            throw CorezfsException.precondition("cannot write " + sig + ": " + e.getMessage());
        }
    }
}
