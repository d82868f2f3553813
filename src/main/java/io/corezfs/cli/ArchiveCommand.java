package io.corezfs.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;

@Command(
        name = "archive",
        mixinStandardHelpOptions = true,
        description = "Packs, verifies and lists versioned corezfs archives.",
        subcommands = {
            ArchivePackCommand.class,
            ArchiveVerifyCommand.class,
            ArchiveListCommand.class,
            ArchiveSignCommand.class
        },
        footerHeading = "%nExample:%n",
        footer = "  corezfs archive verify corezfs_amd64-usr_3975.2.0_stable_zfs-2.2.6.tar.gz")
final class ArchiveCommand extends BaseCommand implements Runnable {
    ArchiveCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "a subcommand is required: pack, verify, list or sign");
    }
}
