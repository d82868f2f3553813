package io.corezfs.trust;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Reporter;
import io.corezfs.host.NodeConfig;
import io.corezfs.host.RootFs;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * What a node demands of an archive's or an index's signature before it uses it ({@code SIGNATURES=} in
 * {@code /etc/corezfs/corezfs.conf}):
 *
 * <ul>
 *   <li>{@code require}: a valid signature by a trusted key, for everything fetched from a mirror and for a local
 *       {@code --archive} (unless {@code --allow-unsigned}, which warns). The default whenever trusted keys are
 *       configured.
 *   <li>{@code if-present}: an unsigned file is accepted; a signed one must verify. The default otherwise.
 *   <li>{@code off}: signatures are not demanded; one that is present must still verify.
 * </ul>
 *
 * <p>Under every policy a signature that is present but wrong (other bytes, another file's, an untrusted or expired
 * key) is refused with exit 5: a bad signature is evidence of tampering, never something to shrug off.
 */
public final class TrustPolicy {
    /** The policy's three levels. */
    public enum Level {
        REQUIRE,
        IF_PRESENT,
        OFF;

        public String text() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        public static Optional<Level> parse(String s) {
            for (Level l : values()) {
                if (l.text().equals(s)) {
                    return Optional.of(l);
                }
            }
            return Optional.empty();
        }
    }

    private final Level level;
    private final AllowedSigners trust;
    private final Instant now;

    public TrustPolicy(Level level, AllowedSigners trust, Instant now) {
        this.level = level;
        this.trust = trust;
        this.now = now;
    }

    /**
     * The node's policy: keys from {@code trustFile} ({@code --trust}) or {@link AllowedSigners#NODE_FILE}, the level
     * from {@code SIGNATURES=} or, unset, {@link #defaultFor}.
     */
    public static TrustPolicy forNode(RootFs fs, NodeConfig config, Optional<Path> trustFile, java.time.Clock clock) {
        AllowedSigners keys;
        if (trustFile.isPresent()) {
            keys = AllowedSigners.parse(
                    RootFs.readText(trustFile.get(), trustFile.get().toString()),
                    trustFile.get().toString(),
                    clock.getZone());
        } else {
            keys = fs.readIfExists(AllowedSigners.NODE_FILE)
                    .map(t -> AllowedSigners.parse(t, AllowedSigners.NODE_FILE, clock.getZone()))
                    .orElseGet(() -> AllowedSigners.parse("", AllowedSigners.NODE_FILE, clock.getZone()));
        }
        Level level = config.signatures().value().flatMap(Level::parse).orElseGet(() -> defaultFor(keys));
        return new TrustPolicy(level, keys, clock.instant());
    }

    /** Nothing trusted, nothing demanded: for tools that only read archives (and for tests). */
    public static TrustPolicy none(Instant now) {
        return new TrustPolicy(Level.OFF, AllowedSigners.parse("", "no trusted keys", java.time.ZoneOffset.UTC), now);
    }

    /** The default level for a node: {@code require} when it trusts any key. */
    public static Level defaultFor(AllowedSigners trust) {
        return trust.isEmpty() ? Level.IF_PRESENT : Level.REQUIRE;
    }

    public Level level() {
        return level;
    }

    public AllowedSigners trust() {
        return trust;
    }

    /**
     * Checks {@code file} (fetched from {@code origin}, or given locally) against its signature at {@code sig}.
     *
     * @param allowUnsigned {@code --allow-unsigned}: a local file without a signature passes {@code require} with a
     *     warning; never a fetched one, and never a file whose signature is present but wrong
     * @return who signed it, when it was signed
     */
    public Optional<SignedFile.Signer> check(
            Path file, Path sig, String origin, boolean fetched, boolean allowUnsigned, Reporter reporter) {
        if (Files.exists(sig, LinkOption.NOFOLLOW_LINKS)) {
            SignedFile.Signer s = SignedFile.check(file, sig, trust, now);
            reporter.info("signature OK: " + file.getFileName() + " signed by " + s.principals() + " ("
                    + s.fingerprint() + ")");
            return Optional.of(s);
        }
        if (level != Level.REQUIRE) {
            return Optional.empty();
        }
        if (!fetched && allowUnsigned) {
            reporter.warn(file.getFileName() + " has no signature; installing it anyway (--allow-unsigned)");
            return Optional.empty();
        }
        throw new CorezfsException(
                ExitCode.VERIFICATION_FAILED,
                file.getFileName() + " from " + origin + " has no signature (" + sig.getFileName()
                        + ") and this node requires one (SIGNATURES=require"
                        + (fetched ? "" : "; --allow-unsigned accepts a local file anyway") + ")");
    }
}
