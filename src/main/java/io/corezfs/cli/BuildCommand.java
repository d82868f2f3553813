package io.corezfs.cli;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.archive.ArchiveName;
import io.corezfs.archive.Manifest;
import io.corezfs.build.Builder;
import io.corezfs.build.DevContainerSource;
import io.corezfs.build.Docker;
import io.corezfs.build.ZfsReleases;
import io.corezfs.build.ZfsSource;
import io.corezfs.build.ZfsSourceResolver;
import io.corezfs.host.Arch;
import io.corezfs.host.HostFacts;
import io.corezfs.host.RootFs;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.URI;
import java.nio.file.Path;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "build", mixinStandardHelpOptions = true,
        description = "Compiles OpenZFS for a host's exact kernel inside the OS vendor's developer container (through"
                + " Docker, without network) and packs the result into a versioned archive. The developer container"
                + " is downloaded, its signature and digests verified, and imported once; later builds reuse it.",
        footerHeading = "%nExample:%n",
        footer = {"  corezfs build --archive-dir /var/lib/corezfs/archives",
                "  corezfs build --os-version 3975.2.0 --board amd64-usr --channel stable \\",
                "      --kernel 6.6.95-flatcar --release-mirror http://mirror.local/flatcar"})
final class BuildCommand extends BaseCommand implements Callable<Integer> {
    @Mixin
    HostOptions host;

    @ArgGroup(exclusive = false)
    Target target;

    static final class Target {
        @Option(names = "--os-version", required = true, paramLabel = "V", description = "Build for this OS version instead of the --root host.")
        String version;

        @Option(names = "--board", defaultValue = "amd64-usr", paramLabel = "B", description = "Board of that version (default: ${DEFAULT-VALUE}).")
        String board;

        @Option(names = "--channel", defaultValue = "stable", paramLabel = "C", description = "Channel it was released on (default: ${DEFAULT-VALUE}).")
        String channel;

        @Option(names = "--os", defaultValue = "flatcar", paramLabel = "ID", description = "flatcar or coreos (default: ${DEFAULT-VALUE}).")
        String os;
    }

    @Option(names = "--zfs-version", paramLabel = "X", description = "OpenZFS release (default: the newest pinned release that supports the kernel).")
    String zfsVersion;

    @Option(names = "--zfs-source", paramLabel = "FILE|URL", description = "A release tarball to build instead of downloading one.")
    String zfsSource;

    @Option(names = "--insecure-source", description = "Accept a --zfs-source whose sha256 is not pinned by corezfs.")
    boolean insecureSource;

    @Option(names = "--release-mirror", paramLabel = "URL", description = "Base URL of a mirror of the OS release server (same path layout).")
    URI releaseMirror;

    @Option(names = "--zfs-mirror", paramLabel = "URL", description = "Base URL of a mirror of the OpenZFS release downloads (same path layout).")
    URI zfsMirror;

    @Option(names = "--dev-image", paramLabel = "IMAGE", description = "Use this local Docker image (with kernel headers) instead of the developer container.")
    String devImage;

    @Option(names = "--keyring", paramLabel = "FILE", description = "OpenPGP keyring to verify the developer container with.")
    Path keyring;

    @ArgGroup(exclusive = true)
    Output output;

    static final class Output {
        @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the archive to FILE.")
        Path file;

        @Option(names = "--archive-dir", paramLabel = "DIR", description = "Write it under its versioned name into DIR (default: the archives/ store).")
        Path dir;
    }

    @Option(names = "--cache-dir", paramLabel = "DIR", defaultValue = "/var/cache/corezfs",
            description = "Downloads, build logs and scratch space (default: ${DEFAULT-VALUE}).")
    Path cacheDir;

    @Option(names = "--keep-build", description = "Keep the build's scratch tree in the cache directory.")
    boolean keepBuild;

    @Option(names = "--jobs", paramLabel = "N", description = "Parallel compile jobs (default: the number of CPUs).")
    Integer jobs;

    BuildCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        HostFacts facts = facts();
        Path cache = ctx.resolve(cacheDir);
        // The cheapest checks first: an unsupported kernel fails before Docker or any download of the image.
        ZfsSource source = resolveSource(facts, cache);
        Docker docker = ctx.docker().get();
        docker.ping();
        String image = devImage != null ? checkedImage(docker) : ctx.devImages().create(docker, cache, reporter(), ctx.downloader(reporter()))
                .imageFor(DevContainerSource.of(facts.os(), facts.channelOrNone(), facts.board(), facts.version(),
                        Optional.ofNullable(releaseMirror)), Optional.ofNullable(keyring).map(ctx::resolve));
        Path archive = output != null && output.file != null ? ctx.resolve(output.file)
                : (output != null && output.dir != null ? ctx.resolve(output.dir) : ctx.defaultArchiveDir())
                .resolve(ArchiveName.of(facts, source.version().text()).fileName());
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(java.time.ZoneOffset.UTC)
                .format(ctx.env().clock().instant());
        long epoch = ctx.env().getenv("SOURCE_DATE_EPOCH").map(Long::parseLong).orElse(source.sourceDateEpoch());
        Manifest m = new Builder(docker, reporter(), ctx.toolVersion()).build(image, facts, targetRoot(),
                source.version().text(), source.files(), source.topDir(), epoch,
                jobs != null ? jobs : Runtime.getRuntime().availableProcessors(),
                cache.resolve("build/" + stamp), cache.resolve("logs/build-" + stamp + ".log"), archive, keepBuild);
        reporter().info("built " + archive.getFileName() + ": " + m.entries().size() + " entries for kernel " + facts.kernel());
        out().println(archive);
        return 0;
    }

    private HostFacts facts() {
        if (target == null) {
            return Hosts.detect(ctx, new RootFs(ctx.resolve(host.root)), host.kernel());
        }
        if (host.kernel == null) {
            throw new CorezfsException(ExitCode.USAGE, "--os-version needs --kernel: the kernel of that release cannot be detected from here");
        }
        if (!target.version.matches("[0-9]+(\\.[0-9]+)*")) {
            throw new CorezfsException(ExitCode.USAGE, "--os-version: malformed version '" + target.version + "'");
        }
        String arch = Optional.ofNullable(Arch.fromBoard(target.board)).orElse(ctx.env().machineArch());
        return new HostFacts(target.os, target.version, target.board, target.channel, target.channel, host.kernel, arch);
    }

    /** The host whose base image decides which libraries to bundle; for a named target, none is known. */
    private RootFs targetRoot() {
        return target == null ? new RootFs(ctx.resolve(host.root)) : new RootFs(ctx.resolve(Path.of("/nonexistent-target-root")));
    }

    private ZfsSource resolveSource(HostFacts facts, Path cache) {
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
        ZfsSource s = new ZfsSourceResolver(ZfsReleases.shipped(), ctx.downloader(reporter()), cache).resolve(req);
        if (!s.pinned()) {
            reporter().warn("building from a source whose sha256 corezfs does not pin (--insecure-source)");
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
