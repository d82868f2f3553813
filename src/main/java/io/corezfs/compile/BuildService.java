package io.corezfs.compile;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Reporter;
import io.corezfs.archive.Manifest;
import io.corezfs.archive.store.ArchiveName;
import io.corezfs.devcontainer.DevContainerSource;
import io.corezfs.devcontainer.DevImages;
import io.corezfs.docker.Docker;
import io.corezfs.host.Environment;
import io.corezfs.host.HostFacts;
import io.corezfs.host.RootFs;
import io.corezfs.net.Downloader;
import io.corezfs.zfs.ZfsReleases;
import io.corezfs.zfs.ZfsSource;
import io.corezfs.zfs.ZfsSourceResolver;
import java.net.URI;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Supplier;

/**
 * One build of an archive for a host: the OpenZFS source is resolved first (the cheapest checks), then the
 * developer image is found or imported, then the compile runs in it and its tree is packed.
 */
public final class BuildService {
    /**
     * What the operator asked for; paths are absolute.
     *
     * @param zfsSource a local tarball path or an http(s) URL
     * @param devImage  a local Docker image to build in instead of the developer container
     * @param keyring   the OpenPGP keyring to verify the developer container with; empty means the bundled key
     * @param cacheDir  downloads, build logs and scratch space
     * @param jobs      parallel compile jobs; empty means the number of CPUs
     */
    public record Request(
            Optional<String> zfsVersion,
            Optional<String> zfsSource,
            boolean insecureSource,
            Optional<URI> releaseMirror,
            Optional<URI> zfsMirror,
            Optional<String> devImage,
            Optional<Path> keyring,
            Path cacheDir,
            boolean keepBuild,
            OptionalInt jobs) {}

    private final Environment env;
    private final String toolVersion;
    private final Supplier<Docker> docker;
    private final DevImages.Factory devImages;
    private final Supplier<Downloader> downloader;
    private final Reporter reporter;

    /**
     * @param docker     the engine, created only when a build starts
     * @param downloader a downloader with the run's limits, made where one is needed
     */
    public BuildService(
            Environment env,
            String toolVersion,
            Supplier<Docker> docker,
            DevImages.Factory devImages,
            Supplier<Downloader> downloader,
            Reporter reporter) {
        this.env = env;
        this.toolVersion = toolVersion;
        this.docker = docker;
        this.devImages = devImages;
        this.downloader = downloader;
        this.reporter = reporter;
    }

    /**
     * An OS release to build for whose kernel may not be known from here (a version the node does not run yet).
     *
     * @param kernel its kernel release when known (e.g. {@code --kernel}); empty means read it from the release's
     *               developer image
     */
    public record OsRelease(
            String os, String version, String board, String channel, String arch, Optional<String> kernel) {
        HostFacts withKernel(String k) {
            return new HostFacts(os, version, board, channel, channel, k, arch);
        }
    }

    /**
     * Builds the archive for {@code facts} and writes it to {@code archive}, or under its versioned name into
     * {@code dir} when {@code archive} is empty.
     *
     * @param targetRoot the host whose base image decides which libraries are bundled
     * @return the archive written
     */
    public Path build(Request r, HostFacts facts, RootFs targetRoot, Optional<Path> archive, Path dir) {
        checkRequest(r);
        Path cache = r.cacheDir();
        // The cheapest checks first: an unsupported kernel fails before Docker or any download of the image.
        ZfsSource source = resolveSource(r, facts.kernel(), cache);
        Docker engine = docker.get();
        engine.ping();
        String image = image(r, facts.os(), facts.channelOrNone(), facts.board(), facts.version(), engine);
        return compile(r, facts, source, engine, image, targetRoot, archive, dir);
    }

    /**
     * As {@link #build(Request, HostFacts, RootFs, Optional, Path)} for a release whose kernel may be unknown: it is
     * then read from the developer image (the one kernel tree under its {@code /usr/lib/modules} with a
     * {@code build/Makefile}) before the source is chosen for it.
     */
    public Path build(Request r, OsRelease release, RootFs targetRoot, Optional<Path> archive, Path dir) {
        if (release.kernel().isPresent()) {
            return build(r, release.withKernel(release.kernel().get()), targetRoot, archive, dir);
        }
        checkRequest(r);
        Docker engine = docker.get();
        engine.ping();
        String image = image(r, release.os(), release.channel(), release.board(), release.version(), engine);
        String kernel = ImageKernel.read(engine, env, image);
        reporter.info("kernel " + kernel + ": the one kernel tree in " + image + " (" + release.os() + " "
                + release.version() + "'s developer image)");
        HostFacts facts = release.withKernel(kernel);
        ZfsSource source = resolveSource(r, kernel, r.cacheDir());
        return compile(r, facts, source, engine, image, targetRoot, archive, dir);
    }

    private String image(Request r, String os, String channel, String board, String version, Docker engine) {
        return r.devImage().isPresent()
                ? checkedImage(engine, r.devImage().get())
                : devImages
                        .create(engine, r.cacheDir(), reporter, downloader.get())
                        .imageFor(DevContainerSource.of(os, channel, board, version, r.releaseMirror()), r.keyring());
    }

    private Path compile(
            Request r,
            HostFacts facts,
            ZfsSource source,
            Docker engine,
            String image,
            RootFs targetRoot,
            Optional<Path> archive,
            Path dir) {
        Path cache = r.cacheDir();
        Path out = archive.orElseGet(
                () -> dir.resolve(ArchiveName.of(facts, source.version().text()).fileName()));
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                .withZone(ZoneOffset.UTC)
                .format(env.clock().instant());
        long epoch = sourceDateEpoch().orElse(source.sourceDateEpoch());
        Manifest m = new Builder(engine, reporter, toolVersion, env)
                .build(
                        image,
                        facts,
                        targetRoot,
                        source.version().text(),
                        source.files(),
                        source.topDir(),
                        epoch,
                        r.jobs().orElse(Runtime.getRuntime().availableProcessors()),
                        cache.resolve("build/" + stamp),
                        cache.resolve("logs/build-" + stamp + ".log"),
                        out,
                        r.keepBuild());
        reporter.info(
                "built " + out.getFileName() + ": " + m.entries().size() + " entries for kernel " + facts.kernel());
        return out;
    }

    private Optional<Long> sourceDateEpoch() {
        Optional<String> v = env.getenv("SOURCE_DATE_EPOCH");
        if (v.isPresent() && !v.get().strip().matches("[0-9]{1,18}")) {
            throw new CorezfsException(
                    ExitCode.USAGE, "SOURCE_DATE_EPOCH is not a number of seconds: '" + printable(v.get()) + "'");
        }
        return v.map(s -> Long.parseLong(s.strip()));
    }

    private static void checkRequest(Request r) {
        if (r.zfsVersion().isPresent() && r.zfsSource().isPresent()) {
            throw new CorezfsException(ExitCode.USAGE, "--zfs-version and --zfs-source exclude each other");
        }
    }

    private ZfsSource resolveSource(Request r, String kernel, Path cache) {
        ZfsSourceResolver.Request req = ZfsSourceResolver.Request.forKernel(kernel);
        if (r.zfsVersion().isPresent()) {
            req = req.withVersion(r.zfsVersion().get());
        }
        if (r.zfsSource().isPresent()) {
            req = req.withSource(r.zfsSource().get());
        }
        if (r.zfsMirror().isPresent()) {
            req = req.withMirror(r.zfsMirror().get());
        }
        if (r.insecureSource()) {
            req = req.insecure();
        }
        ZfsSource s = new ZfsSourceResolver(ZfsReleases.shipped(), downloader.get(), cache).resolve(req);
        if (!s.why().isEmpty()) {
            reporter.info(s.why());
        }
        if (!s.verified()) {
            reporter.warn("building from a source whose sha256 corezfs does not pin (--insecure-source)");
        }
        return s;
    }

    private static String checkedImage(Docker docker, String devImage) {
        if (docker.image(devImage).isEmpty()) {
            throw new CorezfsException(
                    ExitCode.PRECONDITION,
                    "no local Docker image " + devImage + " (corezfs never pulls; import or build it first)");
        }
        return devImage;
    }

    /** The value as one line of at most 80 characters, as the option checks show a bad value. */
    private static String printable(String s) {
        return io.corezfs.Text.printable(s, 80);
    }
}
