package io.corezfs;

import com.fasterxml.jackson.databind.JsonNode;
import io.corezfs.testing.Lab;
import io.corezfs.testing.Requirements;
import io.corezfs.testing.VmBoot;
import io.corezfs.testing.VmLab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mechanics of the VM tests, without ZFS: a booted Flatcar-like node (lab/vm-image.sh) without Java gets the
 * self-contained bundle on the inject disk, unpacks it and runs {@code corezfs --version} and {@code status --json}
 * on the bundled runtime; a second boot of the same disks still has it. If this fails, LiveInstallIT cannot say
 * anything about the installer.
 */
class VmSmokeIT {
    static final String VERSION = System.getProperty("corezfs.version", "");

    static Path bundle() {
        Path b = Path.of(System.getProperty("corezfs.bundle", "target/corezfs-" + VERSION + "-linux-x86_64.tar.gz"));
        assertFalse(VERSION.isEmpty(), "failsafe sets corezfs.version");
        Requirements.need(Files.isRegularFile(b), "the bundle " + b + " (mvn package on Linux x86_64)");
        return b;
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void theBundleRunsOnANodeWithoutJava() {
        VmLab.requireVm();
        Path bundle = bundle();
        try (VmLab vm = VmLab.create("smoke")) {
            vm.script("vmlib.sh", "vmlib.sh").script("smoke.sh", "run.sh").file(bundle, "corezfs-bundle.tar.gz")
                    .env("VERSION", VERSION);
            VmBoot first = vm.start(Duration.ofMinutes(8));
            first.assertChecks("no-java-on-node", "version-rc", "version-output", "status-rc");
            JsonNode status = first.json("status");
            assertEquals("flatcar", status.path("os").asText(), status::toString);
            assertEquals(Lab.flatcarVersion(), status.path("version").asText(), status::toString);
            assertEquals(Lab.board(), status.path("board").asText(), status::toString);
            assertEquals(Lab.kernel(), status.path("kernel").asText(), status::toString);
            assertTrue(status.has("installed") && status.get("installed").isNull(), "nothing installed yet: " + status);

            // The same disks again: the tool unpacked on the first boot is still there, and still runs.
            VmBoot second = vm.reboot(Duration.ofMinutes(8));
            second.assertChecks("version-rc", "version-output", "status-rc");
            assertTrue(second.output().lines().noneMatch(l -> l.startsWith("TIME unpack-tool")), "not unpacked again");
        }
    }
}
