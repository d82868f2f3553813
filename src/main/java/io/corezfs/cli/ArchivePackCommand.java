package io.corezfs.cli;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.archive.ArchiveWriter;
import io.corezfs.archive.Manifest;
import io.corezfs.archive.store.ArchiveName;
import io.corezfs.host.HostFacts;
import io.corezfs.host.RootFs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "pack",
        mixinStandardHelpOptions = true,
        description =
                "Packs an install tree (etc/… and opt/corezfs/usr/…) into a reproducible, versioned archive for the host under --root. The same tree and metadata always give the same bytes: entry times come from SOURCE_DATE_EPOCH, else from the newest file in the tree.",
        footerHeading = "%nExample:%n",
        footer = "  corezfs archive pack destdir --zfs-version 2.2.6 --archive-dir archives")
final class ArchivePackCommand extends BaseCommand implements Callable<Integer> {
    @Parameters(
            paramLabel = "TREE",
            converter = OptionValues.ExistingDir.class,
            description = "Directory holding etc/ and opt/corezfs/.")
    Path tree;

    @Mixin
    HostOptions host;

    @Option(
            names = "--zfs-version",
            required = true,
            paramLabel = "VERSION",
            description = "OpenZFS version in the tree.")
    String zfsVersion;

    @ArgGroup(exclusive = true)
    Output output;

    static final class Output {
        @Option(
                names = {"-o", "--output"},
                paramLabel = "FILE",
                converter = OptionValues.AnyPath.class,
                description = "Write the archive to FILE (never inside TREE).")
        Path file;

        @Option(
                names = "--archive-dir",
                paramLabel = "DIR",
                converter = OptionValues.AnyPath.class,
                description = "Write it under its versioned name into DIR (default: the archives/ store).")
        Path dir;
    }

    ArchivePackCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() throws IOException {
        if (!zfsVersion.matches("[0-9][A-Za-z0-9.~+-]*")) {
            throw new CorezfsException(ExitCode.USAGE, "--zfs-version: malformed version '" + zfsVersion + "'");
        }
        Path src = ctx.resolve(tree);
        HostFacts f = Hosts.detect(ctx, new RootFs(ctx.resolve(host.root)), host.kernel());
        long epoch = epoch(src);
        Manifest header = new Manifest(
                Manifest.FORMAT,
                f.os(),
                f.version(),
                f.board(),
                f.channel(),
                f.kernel(),
                f.arch(),
                zfsVersion,
                ctx.toolVersion(),
                epoch,
                java.util.List.of());
        Path target = output != null && output.file != null
                ? ctx.resolve(output.file)
                : (output != null && output.dir != null ? ctx.resolve(output.dir) : ctx.defaultArchiveDir())
                        .resolve(ArchiveName.of(f, zfsVersion).fileName());
        refuseInside(src, target);
        Manifest m = new ArchiveWriter(Runtime.getRuntime().availableProcessors()).pack(src, header, target);
        reporter()
                .info("packed " + m.entries().size() + " entries for " + f.os() + " " + f.version() + " (kernel "
                        + f.kernel() + ")");
        out().println(target);
        return 0;
    }

    /**
     * The archive must not land in the tree it packs: it would be scanned half-written, or end up inside the next
     * archive. Compared after every symlink and {@code ..} is followed, also in parts that do not exist yet.
     */
    private static void refuseInside(Path tree, Path target) {
        Path t;
        Path real;
        try {
            t = tree.toRealPath();
            real = OptionValues.wouldResolveTo(target);
        } catch (IOException e) {
            throw new CorezfsException(ExitCode.USAGE, "cannot tell where " + target + " leads: " + e.getMessage());
        }
        if (real.startsWith(t)) {
            throw new CorezfsException(
                    ExitCode.USAGE,
                    "the archive " + target + " would be written inside the tree being packed (" + t
                            + "); write it elsewhere (-o or --archive-dir)");
        }
    }

    private long epoch(Path src) throws IOException {
        var sde = ctx.env().getenv("SOURCE_DATE_EPOCH");
        if (sde.isPresent()) {
            try {
                return Long.parseLong(sde.get().strip());
            } catch (NumberFormatException e) {
                throw new CorezfsException(ExitCode.USAGE, "SOURCE_DATE_EPOCH is not a number: " + sde.get());
            }
        }
        if (!Files.isDirectory(src)) {
            throw CorezfsException.invalidArchive(src + ": not a directory");
        }
        try (var s = Files.walk(src)) {
            return s.mapToLong(p -> {
                        try {
                            return Files.getLastModifiedTime(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                                            .toMillis()
                                    / 1000;
                        } catch (IOException e) {
                            return 0;
                        }
                    })
                    .max()
                    .orElse(0);
        }
    }
}
