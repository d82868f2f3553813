package io.corezfs.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A test's outside requirement (a tool, a filesystem feature). On a developer's machine a missing one skips the
 * test; in CI (CI=true) it fails it, because CI installs everything and a skip there would hide a broken set-up.
 */
public final class Requirements {
    private Requirements() {
    }

    public static void need(boolean present, String what) {
        if (present) {
            return;
        }
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail("CI=true and a test requirement is missing: " + what);
        }
        Assumptions.assumeTrue(false, what);
    }
}
