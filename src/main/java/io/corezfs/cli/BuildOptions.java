package io.corezfs.cli;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Reporter;
import io.corezfs.archive.Manifest;
import io.corezfs.archive.store.ArchiveName;
import io.corezfs.compile.Builder;
import io.corezfs.devcontainer.DevContainerSource;
import io.corezfs.docker.Docker;
import io.corezfs.host.HostFacts;
import io.corezfs.host.RootFs;
import io.corezfs.net.Downloader;
import io.corezfs.zfs.ZfsReleases;
import io.corezfs.zfs.ZfsSource;
import io.corezfs.zfs.ZfsSourceResolver;
import picocli.CommandLine.Option;

import java.net.URI;
import java.nio.file.Path;
import java.time.format.DateTimeFormatter;
import java.util.Optional;

/**
 * How to build an archive when one is needed: shared by {@code build} and by {@code install}, which builds when no
 * archive matches the host.
 */
public final class BuildOptions {
    @Option(names = "--zfs-version", paramLabel = "X", converter = OptionValues.Version.class, description = "OpenZFS release (default: the newest pinned release that supports the kernel).")
    String zfsVersion;

    @Option(names = "--zfs-source", paramLabel = "FILE|URL", converter = OptionValues.SourceRef.class, description = "A release tarball to build instead of downloading one.")
    String zfsSource;

    @Option(names = "--insecure-source", description = "Accept a --zfs-source whose sha256 is not pinned by corezfs.")
    boolean insecureSource;

    @Option(names = "--release-mirror", paramLabel = "URL", converter = OptionValues.MirrorBase.class, description = "Base URL of a mirror of the OS release server (same path layout).")
    URI releaseMirror;

    @Option(names = "--zfs-mirror", paramLabel = "URL", converter = OptionValues.MirrorBase.class, description = "Base URL of a mirror of the OpenZFS release downloads (same path layout).")
    URI zfsMirror;

    @Option(names = "--dev-image", paramLabel = "IMAGE", converter = OptionValues.DockerImage.class, description = "Use this local Docker image (with kernel headers) instead of the developer container.")
    String devImage;

    @Option(names = "--keyring", paramLabel = "FILE", converter = OptionValues.RegularFile.class, description = "OpenPGP keyring to verify the developer container with.")
    Path keyring;

    @Option(names = "--cache-dir", paramLabel = "DIR", defaultValue = "/var/cache/corezfs", converter = OptionValues.AnyPath.class,
            description = "Downloads, build logs and scratch space (default: ${DEFAULT-VALUE}).")
    Path cacheDir;

    @Option(names = "--keep-build", description = "Keep the build's scratch tree in the cache directory.")
    boolean keepBuild;

    @Option(names = "--jobs", paramLabel = "N", converter = OptionValues.Jobs.class,
            description = "Parallel compile jobs, 1 to 1024 (default: the number of CPUs).")
    Integer jobs;

    /**
     * Builds the archive for {@code facts} and writes it to {@code archive}, or under its versioned name into
     * {@code dir} when {@code archive} is null.
     *
     * @param targetRoot the host whose base image decides which libraries are bundled
     * @return the archive written
     */
    Path build(Context ctx, Reporter reporter, Downloader.Limits downloads, HostFacts facts, RootFs targetRoot, Path archive,
               Path dir) {
        Path cache = ctx.resolve(cacheDir);
        // The cheapest checks first: an unsupported kernel fails before Docker or any download of the image.
        ZfsSource source = resolveSource(ctx, reporter, downloads, facts, cache);
        Docker docker = ctx.docker().get();
        docker.ping();
        String image = devImage != null ? checkedImage(docker) : ctx.devImages().create(docker, cache, reporter, ctx.downloader(reporter, downloads))
                .imageFor(DevContainerSource.of(facts.os(), facts.channelOrNone(), facts.board(), facts.version(),
                        Optional.ofNullable(releaseMirror)), Optional.ofNullable(keyring).map(ctx::resolve));
        Path out = archive != null ? archive : dir.resolve(ArchiveName.of(facts, source.version().text()).fileName());
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(java.time.ZoneOffset.UTC)
                .format(ctx.env().clock().instant());
        long epoch = sourceDateEpoch(ctx).orElse(source.sourceDateEpoch());
        Manifest m = new Builder(docker, reporter, ctx.toolVersion(), ctx.env()).build(image, facts, targetRoot,
                source.version().text(), source.files(), source.topDir(), epoch,
                jobs != null ? jobs : Runtime.getRuntime().availableProcessors(),
                cache.resolve("build/" + stamp), cache.resolve("logs/build-" + stamp + ".log"), out, keepBuild);
        reporter.info("built " + out.getFileName() + ": " + m.entries().size() + " entries for kernel " + facts.kernel());
        return out;
    }

    private static Optional<Long> sourceDateEpoch(Context ctx) {
        Optional<String> v = ctx.env().getenv("SOURCE_DATE_EPOCH");
        if (v.isPresent() && !v.get().strip().matches("[0-9]{1,18}")) {
            throw new CorezfsException(ExitCode.USAGE, "SOURCE_DATE_EPOCH is not a number of seconds: '"
                    + OptionValues.printable(v.get()) + "'");
        }
        return v.map(s -> Long.parseLong(s.strip()));
    }

    private ZfsSource resolveSource(Context ctx, Reporter reporter, Downloader.Limits downloads, HostFacts facts, Path cache) {
        if (zfsVersion != null && zfsSource != null) {
            throw new CorezfsException(ExitCode.USAGE, "--zfs-version and --zfs-source exclude each other");
        }
        ZfsSourceResolver.Request req = ZfsSourceResolver.Request.forKernel(facts.kernel());
        if (zfsVersion != null) {
            req = req.withVersion(zfsVersion);
        }
        if (zfsSource != null) {
            req = req.withSource(zfsSource.contains("://") ? zfsSource : ctx.resolve(Path.of(zfsSource)).toString());
        }
        if (zfsMirror != null) {
            req = req.withMirror(zfsMirror);
        }
        if (insecureSource) {
            req = req.insecure();
        }
        ZfsSource s = new ZfsSourceResolver(ZfsReleases.shipped(), ctx.downloader(reporter, downloads), cache).resolve(req);
        if (!s.pinned()) {
            reporter.warn("building from a source whose sha256 corezfs does not pin (--insecure-source)");
        }
        return s;
    }

    private String checkedImage(Docker docker) {
        if (docker.image(devImage).isEmpty()) {
            throw new CorezfsException(ExitCode.PRECONDITION, "no local Docker image " + devImage
                    + " (corezfs never pulls; import or build it first)");
        }
        return devImage;
    }
}
