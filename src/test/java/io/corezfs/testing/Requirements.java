package io.corezfs.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A test's outside requirement (a tool, a filesystem feature). On a developer's machine a missing one skips the
 * test; in CI (CI=true) it fails it, because CI installs everything and a skip there would hide a broken set-up.
 */
public final class Requirements {
    private Requirements() {}

    public static void need(boolean present, String what) {
        if (present) {
            return;
        }
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail("CI=true and a test requirement is missing: " + what);
        }
        Assumptions.assumeTrue(false, what);
    }

    /** The executable {@code tool} on the PATH or in the sbin directories, if any. */
    public static Optional<Path> which(String tool) {
        List<String> dirs = new java.util.ArrayList<>(
                List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin"));
        return dirs.stream()
                .filter(d -> !d.isEmpty())
                .map(d -> Path.of(d, tool))
                .filter(Files::isExecutable)
                .findFirst();
    }
}
