package io.corezfs.cli;

import io.corezfs.Reporter;
import io.corezfs.compile.BuildService;
import io.corezfs.net.Downloader;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import picocli.CommandLine.Option;

/**
 * How to build an archive when one is needed: shared by {@code build} and by {@code install}, which builds when no
 * archive matches the host. The build itself is {@link BuildService}'s.
 */
public final class BuildOptions {
    @Option(
            names = "--zfs-version",
            paramLabel = "X",
            converter = OptionValues.Version.class,
            description = "OpenZFS release (default: the newest pinned release that supports the kernel and that the"
                    + " source, --zfs-mirror or GitHub, serves).")
    String zfsVersion;

    @Option(
            names = "--zfs-source",
            paramLabel = "FILE|URL",
            converter = OptionValues.SourceRef.class,
            description = "A release tarball to build instead of downloading one.")
    String zfsSource;

    @Option(
            names = "--insecure-source",
            description = "Accept a source whose sha256 is not pinned by corezfs and that no bundled OpenZFS"
                    + " release key signed.")
    boolean insecureSource;

    @Option(
            names = "--release-mirror",
            paramLabel = "URL",
            converter = OptionValues.MirrorBase.class,
            description = "Base URL of a mirror of the OS release server (same path layout).")
    URI releaseMirror;

    @Option(
            names = "--zfs-mirror",
            paramLabel = "URL",
            converter = OptionValues.MirrorBase.class,
            description = "Base URL of a mirror of the OpenZFS release downloads (same path layout).")
    URI zfsMirror;

    @Option(
            names = "--dev-image",
            paramLabel = "IMAGE",
            converter = OptionValues.DockerImage.class,
            description = "Use this local Docker image (with kernel headers) instead of the developer container.")
    String devImage;

    @Option(
            names = "--keyring",
            paramLabel = "FILE",
            converter = OptionValues.RegularFile.class,
            description = "OpenPGP keyring to verify the developer container with.")
    Path keyring;

    @Option(
            names = "--cache-dir",
            paramLabel = "DIR",
            defaultValue = "/var/cache/corezfs",
            converter = OptionValues.AnyPath.class,
            description = "Downloads, build logs and scratch space (default: ${DEFAULT-VALUE}).")
    Path cacheDir;

    @Option(names = "--keep-build", description = "Keep the build's scratch tree in the cache directory.")
    boolean keepBuild;

    @Option(
            names = "--jobs",
            paramLabel = "N",
            converter = OptionValues.Jobs.class,
            description = "Parallel compile jobs, 1 to 1024 (default: the number of CPUs).")
    Integer jobs;

    /** The build these options ask for, with paths resolved against the working directory. */
    BuildService.Request request(Context ctx) {
        return new BuildService.Request(
                Optional.ofNullable(zfsVersion),
                Optional.ofNullable(zfsSource)
                        .map(z ->
                                z.contains("://") ? z : ctx.resolve(Path.of(z)).toString()),
                insecureSource,
                Optional.ofNullable(releaseMirror),
                Optional.ofNullable(zfsMirror),
                Optional.ofNullable(devImage),
                Optional.ofNullable(keyring).map(ctx::resolve),
                ctx.resolve(cacheDir),
                keepBuild,
                jobs != null ? OptionalInt.of(jobs) : OptionalInt.empty());
    }

    /** The root of a target named rather than present (a release, a remote node): no base image to leave libraries to. */
    static io.corezfs.host.RootFs noTargetRoot(Context ctx) {
        return new io.corezfs.host.RootFs(ctx.resolve(Path.of("/nonexistent-target-root")));
    }

    /** Signs {@code built} with {@code signer}, if there is one, and says so. */
    static void sign(Optional<io.corezfs.trust.Signer> signer, Path built, Reporter reporter) {
        signer.ifPresent(sg -> reporter.info("signed " + sg.sign(built).getFileName() + " with key "
                + sg.publicKey().fingerprint()));
    }

    /** The build service of one command run, downloading within {@code downloads}. */
    static BuildService service(Context ctx, Reporter reporter, Downloader.Limits downloads) {
        return new BuildService(
                ctx.env(),
                ctx.toolVersion(),
                ctx.docker(),
                ctx.devImages(),
                () -> ctx.downloader(reporter, downloads),
                reporter);
    }
}
