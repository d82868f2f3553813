package io.corezfs.cli;

import io.corezfs.CorezfsException;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.archive.store.MirrorIndex;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(
        name = "publish",
        mixinStandardHelpOptions = true,
        description =
                "Writes DIR/index.json describing every valid archive in DIR (OS, version, board, kernel, ZFS version,"
                        + " sha256), so DIR served over HTTP works as `corezfs install --mirror URL` for a whole fleet. Invalid"
                        + " archives are left out and named.",
        footerHeading = "%nExample:%n",
        footer = {"  corezfs publish /srv/www/corezfs", "  sudo corezfs install --mirror http://archives.internal:8080/"
        })
final class PublishCommand extends BaseCommand implements Callable<Integer> {
    @Parameters(
            paramLabel = "DIR",
            converter = OptionValues.ExistingDir.class,
            description = "The directory of archives to describe.")
    Path dir;

    PublishCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        Path d = ctx.resolve(dir);
        if (!Files.isDirectory(d)) {
            throw CorezfsException.precondition(d + ": not a directory");
        }
        List<String> skipped = new ArrayList<>();
        MirrorIndex index = MirrorIndex.of(d, new ArchiveReader(ctx.limits()), skipped);
        try {
            index.write(d);
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot write " + d.resolve(MirrorIndex.FILE) + ": " + e.getMessage());
        }
        for (String s : skipped) {
            reporter().warn("left out " + s);
        }
        out().println("wrote " + d.resolve(MirrorIndex.FILE) + ": "
                + index.archives().size() + " archive(s)");
        return 0;
    }
}
