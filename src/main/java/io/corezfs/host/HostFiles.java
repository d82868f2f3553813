package io.corezfs.host;

import java.util.List;
import java.util.Optional;

/**
 * The few reads host detection needs, wherever the host's files are: under a local root ({@link RootFs}) or on
 * another machine (fleet reads them over SSH). One detector reads both, so a node is identified by the same rules
 * whether corezfs runs on it or reaches it.
 */
public interface HostFiles {
    /**
     * The text of a small host file, or empty when it does not exist; a file that is not a regular UTF-8 file of at
     * most {@link RootFs#MAX_FILE_BYTES} is refused (exit 3).
     */
    Optional<String> readIfExists(String hostPath);

    boolean exists(String hostPath);

    /** How to name a host file in messages. */
    String describe(String hostPath);

    /** Whether this is a running host's root, where /proc tells the kernel, not an image's tree. */
    boolean isMachineRoot();

    /**
     * The names of the directories in {@code hostPath}, sorted; empty when it is not a directory. Used on image
     * roots, which have no /proc but ship one kernel's modules.
     */
    List<String> directories(String hostPath);

    /** The machine's architecture in uname form, if this view knows it better than the local environment. */
    default Optional<String> machineArch() {
        return Optional.empty();
    }
}
