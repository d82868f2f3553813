package io.corezfs.cli;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.host.HostFacts;
import io.corezfs.host.RootFs;
import io.corezfs.install.RootInstaller;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "install", mixinStandardHelpOptions = true,
        description = "Installs an archive into the host under --root, all or nothing: it is extracted and verified in staging first, then moved into place. Files under /etc that were changed locally are kept, with the new version beside them as *.corezfs-new. Units are enabled as 'systemctl --root' would, honouring presets. Live activation (without --root) comes in a later release.",
        footerHeading = "%nExample:%n",
        footer = {"  corezfs install --root /mnt/image \\", "      --archive corezfs_amd64-usr_3975.2.0_stable_zfs-2.2.6.tar.gz"})
final class InstallCommand extends BaseCommand implements Callable<Integer> {
    @Option(names = "--archive", required = true, paramLabel = "FILE", description = "The archive to install.")
    Path archive;

    @Option(names = "--root", paramLabel = "DIR", description = "Install offline into the host tree under DIR.")
    Path root;

    @Option(names = "--kernel", paramLabel = "RELEASE", description = "The target's kernel release, if not the running one.")
    String kernel;

    @Option(names = "--force", description = "Install even though the archive was built for another kernel (warns).")
    boolean force;

    InstallCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        if (root == null) {
            throw new CorezfsException(ExitCode.PRECONDITION,
                    "live install (without --root) is not available in this version; nothing was changed."
                            + " Use --root DIR to install into an image or mounted root");
        }
        RootFs fs = new RootFs(ctx.resolve(root));
        HostFacts f = Hosts.detect(ctx, fs, Optional.ofNullable(kernel));
        RootInstaller installer = new RootInstaller(new ArchiveReader(ctx.limits()), ctx.fileOps(), reporter(),
                ctx.env().clock(), ctx.toolVersion());
        RootInstaller.Result r = installer.install(ctx.resolve(archive), fs.root(), f, force);
        switch (r.outcome()) {
            case INSTALLED -> out().println("installed " + r.archive() + " into " + fs.root());
            case REPLACED -> out().println("replaced the previous install with " + r.archive() + " in " + fs.root());
            case UNCHANGED -> out().println("unchanged: " + r.archive() + " is already installed in " + fs.root());
        }
        return 0;
    }
}
