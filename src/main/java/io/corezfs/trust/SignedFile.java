package io.corezfs.trust;

import io.corezfs.CorezfsException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;

/**
 * Checks a file against its detached SSH signature ({@code FILE.sig}) and a set of trusted keys. Every way a present
 * signature can be wrong (unreadable, for another namespace, not matching the bytes, by a key that is not trusted,
 * expired) is exit 5 with one line naming the file and, where one is known, the key's fingerprint.
 */
public final class SignedFile {
    /** Who vouched for a file. */
    public record Signer(String principals, String fingerprint) {}

    private SignedFile() {}

    /** The signature's conventional place beside the file. */
    public static Path sigOf(Path file) {
        return file.resolveSibling(file.getFileName() + ".sig");
    }

    public static Signer check(Path file, Path sig, AllowedSigners trust, Instant now) {
        String name = file.getFileName().toString();
        SshSig.Parsed parsed;
        try {
            parsed = SshSig.parse(read(sig));
        } catch (SshWire.Malformed e) {
            throw CorezfsException.verification(
                    name + ": its signature " + sig.getFileName() + " is unreadable: " + e.getMessage());
        }
        if (!parsed.namespace().equals(SshSig.NAMESPACE)) {
            throw CorezfsException.verification(
                    name + ": signature by " + parsed.key().fingerprint()
                            + " is for namespace '" + io.corezfs.Text.printable(parsed.namespace(), 40) + "', not "
                            + SshSig.NAMESPACE);
        }
        boolean ok;
        try {
            ok = SshSig.verifies(parsed, file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!ok) {
            throw CorezfsException.verification(
                    name + ": signature by " + parsed.key().fingerprint()
                            + " does not match the file's bytes (changed after signing, or the .sig of another file)");
        }
        AllowedSigners.Verdict v = trust.judge(parsed.key(), now);
        if (v instanceof AllowedSigners.Verdict.Trusted t) {
            return new Signer(t.entry().principals(), parsed.key().fingerprint());
        }
        throw CorezfsException.verification(
                name + ": signature not trusted: " + ((AllowedSigners.Verdict.Refused) v).why());
    }

    private static String read(Path sig) throws SshWire.Malformed {
        try {
            BasicFileAttributes a = Files.readAttributes(sig, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isRegularFile()) {
                throw new SshWire.Malformed("not a regular file");
            }
            if (a.size() > SshSig.MAX_SIG_BYTES) {
                throw new SshWire.Malformed("larger than " + SshSig.MAX_SIG_BYTES + " bytes");
            }
            return new String(Files.readAllBytes(sig), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new SshWire.Malformed(e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }
}
