package io.corezfs.cli;

import io.corezfs.activation.LiveInstaller;
import io.corezfs.archive.store.NodeStore;
import io.corezfs.install.InstallLock;
import io.corezfs.install.InstallState;
import io.corezfs.install.RootInstaller;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "uninstall",
        mixinStandardHelpOptions = true,
        description =
                "Stops and disables the ZFS units, withdraws the /usr overlay or system extension, unloads the module"
                        + " and removes what corezfs installed. Pools and their data are never touched: while pools are imported"
                        + " it refuses, unless --export is given, which exports them first. With --root DIR it removes an offline"
                        + " install from the tree under DIR.",
        footerHeading = "%nExample:%n",
        footer = {
            "  sudo corezfs uninstall",
            "  sudo corezfs uninstall --export",
            "  corezfs uninstall --root /mnt/image"
        })
final class UninstallCommand extends BaseCommand implements Callable<Integer> {
    @Option(names = "--export", description = "Export imported pools first (they stay intact on their disks).")
    boolean export;

    @Option(
            names = "--root",
            paramLabel = "DIR",
            converter = OptionValues.ExistingDir.class,
            description = "Remove an offline install from the host tree under DIR.")
    Path root;

    UninstallCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        RootInstaller files = ctx.rootInstaller(reporter());
        java.time.Duration wait = InstallLock.waitFrom(ctx.env().getenv("COREZFS_LOCK_WAIT"));
        if (root != null) {
            Path r = ctx.resolve(root);
            try (InstallLock lock = InstallLock.acquire(r, "corezfs uninstall --root " + r, wait)) {
                if (InstallState.read(r).isEmpty()) {
                    out().println("nothing to uninstall: corezfs is not installed in " + r);
                    return 0;
                }
                files.remove(r);
                emptyNodeStore(r);
            }
            out().println("removed corezfs from " + r);
            return 0;
        }
        LiveInstaller live = ctx.liveInstaller(files, reporter());
        live.checkPreconditions();
        Optional<List<String>> removed;
        try (InstallLock lock = InstallLock.acquire(ctx.live().root(), "corezfs uninstall", wait)) {
            removed = live.uninstall(export);
            if (removed.isPresent()) {
                emptyNodeStore(ctx.live().root());
            }
        }
        if (removed.isEmpty()) {
            out().println("nothing to uninstall: corezfs is not installed on this host");
            return 0;
        }
        List<String> kept = removed.get();
        out().println(
                        "uninstalled corezfs: ZFS units disabled, /usr as the OS ships it, /opt/corezfs removed; pools untouched"
                                + (kept.isEmpty() ? "" : "; kept " + kept.size() + " locally changed file(s) in /etc"));
        return 0;
    }

    /** The archives kept for rollbacks go with the install; ZFS is already gone, so a failure here only warns. */
    private void emptyNodeStore(Path root) {
        try {
            List<Path> gone = new NodeStore(root).removeAll();
            if (!gone.isEmpty()) {
                reporter().info("removed " + gone.size() + " archive(s) from the node store /" + NodeStore.DIR);
            }
        } catch (io.corezfs.CorezfsException e) {
            reporter().warn("the node store /" + NodeStore.DIR + " was not emptied: " + e.getMessage());
        }
    }
}
