package io.corezfs.cli;

import io.corezfs.archive.ArchiveReader;
import io.corezfs.archive.ArchiveSink;
import io.corezfs.archive.Manifest;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "verify",
        mixinStandardHelpOptions = true,
        description =
                "Checks an archive's structure, safety and every file's sha256 against its manifest, and prints what it was built for. Exit 4: malformed or unsafe; exit 5: a hash does not match.",
        footerHeading = "%nExample:%n",
        footer = "  corezfs archive verify corezfs_amd64-usr_3975.2.0_stable_zfs-2.2.6.tar.gz")
final class ArchiveVerifyCommand extends BaseCommand implements Callable<Integer> {
    @Parameters(
            paramLabel = "FILE",
            converter = OptionValues.RegularFile.class,
            description = "The archive (a regular file).")
    Path file;

    @Option(names = "--json", description = "Print the metadata as JSON on stdout.")
    boolean json;

    ArchiveVerifyCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        ArchiveReader.Loaded l = new ArchiveReader(ctx.limits()).read(ctx.resolve(file), ArchiveSink.DISCARD);
        Manifest m = l.manifest();
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("archive", file.getFileName().toString());
        o.put("valid", true);
        o.put("os", m.os());
        o.put("osVersion", m.osVersion());
        o.put("board", m.board());
        o.put("channel", m.channel());
        o.put("kernel", m.kernel());
        o.put("arch", m.arch());
        o.put("zfsVersion", m.zfsVersion());
        o.put("toolVersion", m.toolVersion());
        o.put("buildEpoch", m.buildEpoch());
        o.put("entries", m.entries().size());
        o.put("manifestSha256", l.sha256());
        if (json) {
            out().println(Json.write(o));
        } else {
            out().printf("%s: OK%n", file.getFileName());
            out().printf(
                            "  built for  %s %s %s (%s), channel %s%n",
                            m.os(),
                            m.osVersion(),
                            m.board(),
                            m.arch(),
                            m.channel() == null || m.channel().isEmpty() ? "-" : m.channel());
            out().printf("  kernel     %s%n", m.kernel());
            out().printf("  zfs        %s%n", m.zfsVersion());
            out().printf("  entries    %d, all hashes verified%n", m.entries().size());
            out().printf("  made by    corezfs %s, epoch %d%n", m.toolVersion(), m.buildEpoch());
        }
        return 0;
    }
}
