package io.corezfs.devcontainer;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Reporter;
import io.corezfs.docker.Docker;
import io.corezfs.net.Downloader;
import io.corezfs.system.HostCommands;
import io.corezfs.trust.BundledKeys;
import io.corezfs.trust.DigestsFile;
import io.corezfs.trust.SignatureVerifier;
import io.corezfs.zfs.ZfsTarball;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.commons.io.file.PathUtils;

/**
 * The vendor's developer container as a Docker image: downloaded (resumably), verified (detached OpenPGP signature,
 * then the SHA512 in {@code .DIGESTS}), decompressed sparse, its ROOT partition found in the GPT, loop-mounted
 * read-only and streamed as a tar straight into {@code docker import}. The image is tagged
 * {@code corezfs/devcontainer:<os>-<version>} and labelled with the verified file's sha256; a later build finds it
 * and neither downloads nor imports again.
 *
 * <p>Nothing unverified is kept under its real name or imported: the download lands as {@code *.unverified} and is
 * deleted when a check fails.
 */
public final class DevContainerImages implements DevImages {
    public static final String REPOSITORY = "corezfs/devcontainer";
    public static final String SHA_LABEL = "corezfs.source-sha256";

    private final Docker docker;
    private final Downloader downloader;
    private final HostCommands commands;
    private final Path cacheDir;
    private final Reporter reporter;

    public DevContainerImages(
            Docker docker, Downloader downloader, HostCommands commands, Path cacheDir, Reporter reporter) {
        this.docker = docker;
        this.downloader = downloader;
        this.commands = commands;
        this.cacheDir = cacheDir;
        this.reporter = reporter;
    }

    public static String tag(DevContainerSource s) {
        return s.osId() + "-" + s.version();
    }

    @Override
    public String imageFor(DevContainerSource source, Optional<Path> keyring) {
        String ref = REPOSITORY + ":" + tag(source);
        Optional<Docker.Image> cached = docker.image(ref);
        if (cached.isPresent() && cached.get().labels().containsKey(SHA_LABEL)) {
            reporter.info("using the imported developer container " + ref);
            return ref;
        }
        SignatureVerifier verifier = verifierFor(source, keyring);
        Path dir = cacheDir.resolve("devcontainer").resolve(source.board()).resolve(source.version());
        Path verified = fetchVerified(source, verifier, dir);
        String sha = sha256(verified);
        importImage(verified, dir, ref, sha);
        return ref;
    }

    /**
     * The operator's --keyring, else the vendor key bundled with corezfs (Flatcar's). A bundled key can go stale when
     * the vendor rotates its signing subkey; a failure with it says how to pass a newer one.
     */
    private SignatureVerifier verifierFor(DevContainerSource source, Optional<Path> keyring) {
        if (keyring.isPresent()) {
            try {
                return SignatureVerifier.fromKeyring(keyring.get());
            } catch (IOException e) {
                throw CorezfsException.precondition("cannot read the keyring " + keyring.get() + ": " + e.getMessage());
            }
        }
        if (!source.osId().equals("flatcar")) {
            throw new CorezfsException(
                    ExitCode.PRECONDITION,
                    "no signing key for " + source.osId() + " is bundled with this corezfs; pass --keyring FILE with"
                            + " the vendor's image signing key");
        }
        SignatureVerifier bundled = BundledKeys.load(BundledKeys.FLATCAR)
                .orElseThrow(() -> new IllegalStateException("the jar's Flatcar key file holds no key"));
        return bundled.withHint("checked with the Flatcar image signing key bundled with corezfs; if Flatcar has"
                + " rotated its signing subkey since, pass the current key with --keyring FILE (from"
                + " https://www.flatcar.org/security/image-signing-key/Flatcar_Image_Signing_Key.asc)");
    }

    private Path fetchVerified(DevContainerSource source, SignatureVerifier verifier, Path dir) {
        Path finalName = dir.resolve(source.fileName());
        Path sig = dir.resolve(source.fileName() + ".sig");
        Path digests = dir.resolve(source.fileName() + ".DIGESTS");
        try {
            Files.createDirectories(dir);
            downloader.fetchAgain(source.signature(), sig);
            boolean haveDigests = downloader.exists(source.digests());
            if (haveDigests) {
                downloader.fetchAgain(source.digests(), digests);
            }
            if (Files.isRegularFile(finalName)) {
                // Verified when it was cached; checked again, since a signature costs a second.
                verify(verifier, finalName, sig, haveDigests ? digests : null, source.fileName());
                return finalName;
            }
            Path unverified = dir.resolve(source.fileName() + ".unverified");
            downloader.fetch(source.image(), unverified);
            try {
                verify(verifier, unverified, sig, haveDigests ? digests : null, source.fileName());
            } catch (RuntimeException e) {
                Files.deleteIfExists(unverified);
                throw e;
            }
            Files.move(unverified, finalName, StandardCopyOption.ATOMIC_MOVE);
            return finalName;
        } catch (IOException e) {
            throw new CorezfsException(
                    ExitCode.PRECONDITION, "cannot fetch the developer container: " + e.getMessage());
        }
    }

    private void verify(SignatureVerifier verifier, Path file, Path sig, Path digests, String listedName)
            throws IOException {
        SignatureVerifier.Verified v = verifier.verify(file, sig);
        reporter.info("signature OK: " + listedName + " signed by " + v.fingerprint()
                + v.userId().map(u -> " (" + u + ")").orElse(""));
        if (digests != null) {
            DigestsFile.read(digests).verifySha512(file, listedName);
            reporter.info("SHA512 matches " + digests.getFileName());
        }
    }

    private void importImage(Path bz2, Path dir, String ref, String sha) {
        Path raw = dir.resolve("developer-container.raw");
        Path mnt = dir.resolve("mnt");
        try {
            unmountStale(dir);
            reporter.info("decompressing " + bz2.getFileName());
            new SparseBz2Decompressor().decompress(bz2, raw);
            GptPartition root = GptReader.read(raw).findRoot();
            Files.createDirectories(mnt);
            commands.run(List.of(
                    "mount",
                    "-o",
                    "loop,ro,offset=" + root.byteOffset() + ",sizelimit=" + root.byteLength(),
                    raw.toString(),
                    mnt.toString()));
            try {
                reporter.info("importing the ROOT partition as " + ref);
                HostCommands.Running tar =
                        commands.start(List.of("tar", "--numeric-owner", "--xattrs", "-C", mnt.toString(), "-c", "."));
                try (InputStream stream = tar.stdout()) {
                    int colon = ref.lastIndexOf(':');
                    docker.importImage(
                            stream, ref.substring(0, colon), ref.substring(colon + 1), Map.of(SHA_LABEL, sha));
                } catch (RuntimeException e) {
                    tar.kill();
                    throw e;
                }
                tar.finish();
            } finally {
                commands.run(List.of("umount", mnt.toString()));
            }
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("No space left on device")) {
                throw new CorezfsException(
                        ExitCode.PRECONDITION, "disk full while unpacking the developer container in " + dir);
            }
            throw new CorezfsException(
                    ExitCode.PRECONDITION, "cannot import the developer container: " + e.getMessage());
        } finally {
            try {
                Files.deleteIfExists(raw);
                if (Files.isDirectory(mnt) && PathUtils.isEmptyDirectory(mnt)) {
                    Files.delete(mnt);
                }
            } catch (IOException ignored) {
                // leftovers are cleaned up at the next import
            }
        }
    }

    /** A crashed import may have left the image mounted; unmount it before reusing the directory. */
    private void unmountStale(Path dir) throws IOException {
        Path mnt = dir.resolve("mnt");
        if (!Files.isDirectory(mnt)) {
            return;
        }
        for (Path mounted : commands.mountPoints()) {
            if (mounted.equals(mnt.toAbsolutePath())) {
                reporter.warn("unmounting " + mnt + " left by an interrupted import");
                commands.run(List.of("umount", mnt.toString()));
            }
        }
    }

    private static String sha256(Path p) {
        try {
            return ZfsTarball.sha256(p);
        } catch (Exception e) {
            throw new CorezfsException(ExitCode.PRECONDITION, "cannot hash " + p + ": " + e.getMessage());
        }
    }
}
