package io.corezfs.cli;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.compile.BuildService;
import io.corezfs.host.Arch;
import io.corezfs.host.HostFacts;
import io.corezfs.host.RootFs;
import io.corezfs.trust.Signer;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "build",
        mixinStandardHelpOptions = true,
        description = "Compiles OpenZFS for a host's exact kernel inside the OS vendor's developer container (through"
                + " Docker, without network) and packs the result into a versioned archive. The developer container"
                + " is downloaded, its signature and digests verified, and imported once; later builds reuse it."
                + " Downloads follow redirects (release servers use CDNs) and are bounded by --header-timeout, --min-rate"
                + " over every --stall-timeout, --download-deadline and --max-download-size: exit 3 for network failures"
                + " and timeouts (run again to resume), exit 4 for oversize content.",
        footerHeading = "%nExample:%n",
        footer = {
            "  corezfs build --archive-dir /var/lib/corezfs/archives",
            "  corezfs build --os-version 3975.2.0 --board amd64-usr --channel stable \\",
            "      --release-mirror http://mirror.local/flatcar"
        })
final class BuildCommand extends BaseCommand implements Callable<Integer> {
    @Mixin
    HostOptions host;

    @ArgGroup(exclusive = false)
    Target target;

    static final class Target {
        @Option(
                names = "--os-version",
                required = true,
                paramLabel = "V",
                description = "Build for this OS version instead of the --root host; its kernel is read from that"
                        + " version's developer container unless --kernel names it.")
        String version;

        @Option(
                names = "--board",
                defaultValue = "amd64-usr",
                paramLabel = "B",
                converter = OptionValues.Name.class,
                description = "Board of that version (default: ${DEFAULT-VALUE}).")
        String board;

        @Option(
                names = "--channel",
                defaultValue = "stable",
                paramLabel = "C",
                converter = OptionValues.Name.class,
                description = "Channel it was released on (default: ${DEFAULT-VALUE}).")
        String channel;

        @Option(
                names = "--os",
                defaultValue = "flatcar",
                paramLabel = "ID",
                converter = OptionValues.Name.class,
                description = "flatcar or coreos (default: ${DEFAULT-VALUE}).")
        String os;
    }

    @Mixin
    BuildOptions build;

    @Mixin
    DownloadOptions downloads;

    @ArgGroup(exclusive = true)
    Output output;

    static final class Output {
        @Option(
                names = {"-o", "--output"},
                paramLabel = "FILE",
                converter = OptionValues.AnyPath.class,
                description = "Write the archive to FILE.")
        Path file;

        @Option(
                names = "--archive-dir",
                paramLabel = "DIR",
                converter = OptionValues.AnyPath.class,
                description = "Write it under its versioned name into DIR (default: the archives/ store).")
        Path dir;
    }

    @Option(
            names = "--sign-key",
            paramLabel = "KEY",
            description =
                    "Sign the new archive (FILE.sig) with this ed25519 ssh key; see `corezfs archive sign --help`.")
    Path signKey;

    BuildCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        Path file = output != null && output.file != null ? ctx.resolve(output.file) : null;
        Path dir = output != null && output.dir != null ? ctx.resolve(output.dir) : ctx.defaultArchiveDir();
        // Loaded before the build: a bad key must not cost a 10-minute compile first.
        Optional<Signer> signer = Optional.ofNullable(signKey).map(k -> Signer.load(ctx.resolve(k)));
        Path built;
        if (target == null) {
            HostFacts facts = Hosts.detect(ctx, new RootFs(ctx.resolve(host.root)), host.kernel());
            built = BuildOptions.service(ctx, reporter(), downloads.limits(true))
                    .build(build.request(ctx), facts, targetRoot(), Optional.ofNullable(file), dir);
        } else {
            built = BuildOptions.service(ctx, reporter(), downloads.limits(true))
                    .build(build.request(ctx), release(), targetRoot(), Optional.ofNullable(file), dir);
        }
        BuildOptions.sign(signer, built, reporter());
        out().println(built);
        return 0;
    }

    /** The named release; without --kernel its kernel is read from its developer image, never from this host. */
    private BuildService.OsRelease release() {
        if (!target.version.matches("[0-9]+(\\.[0-9]+)*")) {
            throw new CorezfsException(ExitCode.USAGE, "--os-version: malformed version '" + target.version + "'");
        }
        String arch = Optional.ofNullable(Arch.fromBoard(target.board))
                .orElse(ctx.env().machineArch());
        return new BuildService.OsRelease(
                target.os, target.version, target.board, target.channel, arch, Optional.ofNullable(host.kernel));
    }

    /** The host whose base image decides which libraries to bundle; for a named target, none is known. */
    private RootFs targetRoot() {
        return target == null ? new RootFs(ctx.resolve(host.root)) : BuildOptions.noTargetRoot(ctx);
    }
}
