package io.corezfs.cli;

import io.corezfs.CorezfsException;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.archive.store.NodeStore;
import io.corezfs.host.HostFacts;
import io.corezfs.host.NodeConfig;
import io.corezfs.host.RootFs;
import io.corezfs.install.InstallLock;
import io.corezfs.net.Downloader;
import io.corezfs.trust.TrustPolicy;
import io.corezfs.update.BootReconciler;
import io.corezfs.update.BootRecord;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "boot",
        mixinStandardHelpOptions = true,
        description = {
            "Run by corezfs-boot.service early at every boot, before ZFS is activated or a pool imported: makes the"
                    + " installed ZFS match the running kernel and OS version. Nothing to do when it matches; else the"
                    + " matching archive from the node store (/var/lib/corezfs/archives) is applied; else the mirrors"
                    + " on a local disk (file:// in MIRRORS, /etc/corezfs/corezfs.conf) are asked; else, when MIRRORS names"
                    + " network mirrors or BUILD=boot, corezfs-boot-late.service runs `corezfs boot --late` once the"
                    + " network is up: it asks those mirrors for at most BOOT_FETCH_TIMEOUT seconds, then builds one"
                    + " (BUILD=boot only), activates it and imports the pools.",
            "",
            "It never applies a module built for another kernel: with nothing matching, ZFS stays off for this boot,"
                    + " `corezfs status` says why and what to run, and it exits 3. The boot itself goes on."
        },
        footerHeading = "%nExample:%n",
        footer = {"  sudo corezfs boot", "  corezfs status --json"})
final class BootCommand extends BaseCommand implements Callable<Integer> {
    @Option(
            names = "--late",
            description = "The second half, run by corezfs-boot-late.service after the network is up: network mirrors,"
                    + " then a build with BUILD=boot; what it gets is activated at once and the pools imported.")
    boolean late;

    @Mixin
    BuildOptions build;

    BootCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        var files = ctx.rootInstaller(reporter());
        var live = ctx.liveInstaller(files, reporter());
        live.checkPreconditions();
        RootFs fs = new RootFs(ctx.live().root());
        NodeConfig config = NodeConfig.load(fs);
        HostFacts host = Hosts.detect(ctx, fs, Optional.empty());
        BootReconciler reconciler = new BootReconciler(
                fs.root(),
                ctx.live().system(),
                live,
                new ArchiveReader(ctx.limits()),
                new NodeStore(fs.root()),
                this::fetch,
                BootReconciler.Waiting.REAL,
                ctx.env().clock(),
                reporter(),
                TrustPolicy.forNode(fs, config, Optional.empty(), ctx.env().clock()));
        BootReconciler.Result r;
        try (InstallLock lock = InstallLock.acquire(
                fs.root(), "corezfs boot", InstallLock.waitFrom(ctx.env().getenv("COREZFS_LOCK_WAIT")))) {
            r = late
                    ? reconciler.reconcileLate(
                            host,
                            config,
                            (h, dir) -> BuildOptions.service(ctx, reporter(), Downloader.Limits.DEFAULT)
                                    .build(build.request(ctx), h, fs, Optional.empty(), dir))
                    : reconciler.reconcile(host, config);
        }
        BootRecord rec = r.record();
        out().println("corezfs boot: " + rec.outcome() + ": " + rec.detail());
        if (!rec.command().isEmpty()) {
            out().println("corezfs boot: "
                    + (rec.zfsOff()
                                    && rec.kind() != BootRecord.Outcome.BUILDING
                                    && rec.kind() != BootRecord.Outcome.WAITING
                            ? "to get ZFS back, run: "
                            : "follow it with: ")
                    + rec.command());
        }
        return r.exitCode();
    }

    /**
     * A mirror's file: {@code file://} is read from a local directory (a disk of archives), {@code http(s)://} is
     * downloaded with the usual bounds, but waits for the server to answer no longer than the boot's budget allows.
     */
    private Path fetch(URI url, Path target, long maxBytes, Duration connectWithin) {
        if ("file".equalsIgnoreCase(url.getScheme())) {
            Path source = Path.of(url);
            try {
                if (!Files.isRegularFile(source)) {
                    throw CorezfsException.precondition(url + ": no such file");
                }
                if (Files.size(source) > maxBytes) {
                    throw CorezfsException.invalidArchive(
                            url + ": larger than the " + maxBytes + " bytes allowed; nothing was kept");
                }
                Files.createDirectories(target.getParent());
                Path part = target.resolveSibling(target.getFileName() + ".part");
                Files.copy(source, part, StandardCopyOption.REPLACE_EXISTING);
                if (Files.size(part) > maxBytes) {
                    Files.delete(part);
                    throw CorezfsException.invalidArchive(url + ": grew past " + maxBytes + " bytes while read");
                }
                Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                return target;
            } catch (IOException e) {
                throw CorezfsException.precondition("cannot read " + url + ": " + e.getMessage());
            }
        }
        Downloader.Limits d = Downloader.Limits.DEFAULT;
        Duration header = connectWithin.compareTo(d.headerTimeout()) < 0 ? connectWithin : d.headerTimeout();
        Downloader.Limits limits = new Downloader.Limits(
                header,
                d.stallWindow(),
                d.minRate(),
                d.deadline(),
                d.deadlineRate(),
                d.maxBytes(),
                d.maxRedirects(),
                false);
        return ctx.downloader(reporter(), limits).fetchBounded(url, target, maxBytes);
    }
}
