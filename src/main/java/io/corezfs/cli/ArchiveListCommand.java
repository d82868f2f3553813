package io.corezfs.cli;

import io.corezfs.archive.ArchiveReader;
import io.corezfs.archive.store.ArchiveStore;
import io.corezfs.host.HostFacts;
import io.corezfs.host.RootFs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "list",
        mixinStandardHelpOptions = true,
        description =
                "Lists the archives in a store and marks the one install would pick for this host (same board and OS version, built for the same kernel, newest ZFS).",
        footerHeading = "%nExample:%n",
        footer = "  corezfs archive list --archive-dir /var/lib/corezfs/archives")
final class ArchiveListCommand extends BaseCommand implements Callable<Integer> {
    @Option(
            names = "--archive-dir",
            paramLabel = "DIR",
            converter = OptionValues.AnyPath.class,
            description = "The store to list (default: $COREZFS_ARCHIVE_DIR, else ./archives).")
    Path dir;

    @Mixin
    HostOptions host;

    @Option(names = "--json", description = "Print a JSON array on stdout.")
    boolean json;

    ArchiveListCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        Path store = dir != null ? ctx.resolve(dir) : ctx.defaultArchiveDir();
        HostFacts f = Hosts.detect(ctx, new RootFs(ctx.resolve(host.root)), host.kernel());
        ArchiveStore s = new ArchiveStore(new ArchiveReader(ctx.limits()));
        List<ArchiveStore.Candidate> all = s.list(store, f);
        Optional<ArchiveStore.Candidate> pick = s.find(store, f);
        if (json) {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (ArchiveStore.Candidate c : all) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("archive", c.path().getFileName().toString());
                o.put("zfsVersion", c.name().zfsVersion().orElse(null));
                o.put("kernel", c.manifest() == null ? null : c.manifest().kernel());
                o.put("fit", c.fit().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
                o.put("selected", pick.isPresent() && pick.get().path().equals(c.path()));
                o.put("note", c.note());
                rows.add(o);
            }
            out().println(Json.write(rows));
            return 0;
        }
        out().printf("Host: %s %s %s, kernel %s; store %s%n", f.os(), f.version(), f.board(), f.kernel(), store);
        if (all.isEmpty()) {
            out().println("No archives.");
            return 0;
        }
        for (ArchiveStore.Candidate c : all) {
            boolean chosen = pick.isPresent() && pick.get().path().equals(c.path());
            out().printf("%s %s  %s%n", chosen ? "*" : " ", c.path().getFileName(), c.note());
        }
        out().println(pick.isPresent() ? "* = what install would use" : "No archive matches this host.");
        return 0;
    }
}
