package io.corezfs.cli;

import io.corezfs.CorezfsException;
import io.corezfs.flexvolume.DriverConfig;
import io.corezfs.flexvolume.DriverInstaller;
import io.corezfs.host.RootFs;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "install",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Places the FlexVolume driver corezfs/zfs where the kubelet looks for it, PLUGIN_DIR/corezfs~zfs/zfs, and"
                    + " writes its configuration, " + DriverConfig.PATH + " (PARENT=POOL/DATASET). The driver is a"
                    + " small script that runs this corezfs's launcher, so updating corezfs updates the driver. Both"
                    + " files are replaced whole; running it again changes the parent.",
            "",
            "The default plugin directory is " + DriverInstaller.DEFAULT_PLUGIN_DIR + " because Flatcar's /usr is"
                    + " read-only: start the kubelet with --volume-plugin-dir set to it. Create the parent dataset"
                    + " (with a mountpoint) before the first pod mounts."
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  sudo zfs create tank/kube",
            "  sudo corezfs flexvolume install --parent tank/kube",
            "  corezfs flexvolume install --parent tank/kube --root /mnt/node \\",
            "      --launcher /opt/corezfs-tool/bin/corezfs"
        })
final class FlexVolumeInstallCommand extends BaseCommand implements Callable<Integer> {
    @Option(
            names = "--parent",
            required = true,
            paramLabel = "POOL/DATASET",
            description = "The dataset under which pods' volumes are created; pods name only the child.")
    String parent;

    @Option(
            names = "--plugin-dir",
            paramLabel = "DIR",
            defaultValue = DriverInstaller.DEFAULT_PLUGIN_DIR,
            description = "The kubelet's --volume-plugin-dir. Default: ${DEFAULT-VALUE}")
    String pluginDir;

    @Option(
            names = "--launcher",
            paramLabel = "FILE",
            description = "The installed corezfs launcher the driver runs. Default: the one running this command.")
    String launcher;

    @Option(
            names = "--root",
            paramLabel = "DIR",
            converter = OptionValues.ExistingDir.class,
            description = "Install into the host tree under DIR (an image or a mounted root) instead of this host.")
    Path root;

    FlexVolumeInstallCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        DriverConfig config = new DriverConfig(parent);
        String run = launcher != null
                ? launcher
                : ctx.live()
                        .launcher()
                        .map(Path::toString)
                        .orElseThrow(() -> CorezfsException.precondition("this corezfs was not started from its"
                                + " launcher, so the driver has nothing to run; give --launcher"));
        Path r = root != null ? ctx.resolve(root) : ctx.live().root();
        DriverInstaller.Installed done = new DriverInstaller(new RootFs(r)).install(pluginDir, config, run);
        reporter()
                .info("installed the FlexVolume driver " + DriverInstaller.DRIVER_NAME + " at " + done.driver()
                        + " (runs " + run + "); volumes are created under " + parent + " (" + done.config() + ")");
        return 0;
    }
}
