package io.corezfs.cli;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParameterException;

@Command(
        name = "corezfs",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description =
                "Puts OpenZFS on Flatcar Container Linux and CoreOS hosts: detects the OS, finds or packs a versioned archive for its exact kernel, and installs it without touching read-only /usr.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:ok",
            "1:unexpected error",
            "2:invalid usage",
            "3:host not supported or precondition failed",
            "4:archive invalid or unsafe",
            "5:verification failed (hash, OS version, kernel)",
            "6:build failed",
            "7:fleet partially failed",
            "8:activation failed (rolled back)"
        },
        footerHeading = "%nExample:%n",
        footer = "  corezfs status --root /mnt/flatcar-image --kernel 6.6.95-flatcar --json")
public final class CorezfsCommand extends BaseCommand implements Runnable {
    /**
     * The commands, in the order help lists them. Not in {@code @Command(subcommands)}: picocli would build the model
     * of every one of them on each start, which is most of the start-up time; {@link Main} adds what a run needs.
     */
    static final List<Class<? extends BaseCommand>> COMMANDS = List.of(
            StatusCommand.class,
            ArchiveCommand.class,
            BuildCommand.class,
            InstallCommand.class,
            PrepareCommand.class,
            UninstallCommand.class,
            PublishCommand.class,
            ProvisionCommand.class,
            BootCommand.class,
            FleetCommand.class,
            FlexVolumeCommand.class,
            ProvisionerCommand.class);

    /** Declared once here; their inherited scope puts them on every command below. */
    @Mixin
    GlobalOptions global;

    CorezfsCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "a command is required (see corezfs --help)");
    }
}
