package io.corezfs.cli;

import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Which host a command is about: the running one, or the one whose files live under {@code --root}. */
public final class HostOptions {
    @Option(
            names = "--root",
            paramLabel = "DIR",
            defaultValue = "/",
            converter = OptionValues.ExistingDir.class,
            description = "The host whose files live under DIR (an image or a mounted root). Default: ${DEFAULT-VALUE}")
    Path root;

    @Option(
            names = "--kernel",
            paramLabel = "RELEASE",
            converter = OptionValues.KernelRelease.class,
            description = "Kernel release to match instead of the running one (/proc/sys/kernel/osrelease).")
    String kernel;

    Optional<String> kernel() {
        return Optional.ofNullable(kernel);
    }
}
