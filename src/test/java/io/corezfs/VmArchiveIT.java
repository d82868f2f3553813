package io.corezfs;

import com.fasterxml.jackson.databind.JsonNode;
import io.corezfs.testing.Lab;
import io.corezfs.testing.VmBoot;
import io.corezfs.testing.VmLab;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The archive lab/vm-archive.sh builds, on the node it was built for, through the offline install the tool has had
 * all along ({@code install --root /}, no systemctl): the archive's own units must activate ZFS at the next boot
 * (overlay on /usr, {@code modprobe zfs} through the archive's module index, the bundled libraries) and import the
 * pool at the boot after that. This separates "the archive is right" from "the live installer is right"
 * (LiveInstallIT).
 */
@Timeout(value = 75, unit = TimeUnit.MINUTES)
class VmArchiveIT {
    @BeforeAll
    @Timeout(value = 60, unit = TimeUnit.MINUTES)   // a cold cache compiles OpenZFS for the archive
    static void payload() throws Exception {
        LiveInstallIT.payload();
    }

    @Test
    void theArchiveActivatesZfsAtBootAndKeepsAPool() {
        try (VmLab vm = LiveInstallIT.vm("archive", "offline-root.sh")) {
            Duration boot = LiveInstallIT.BOOT;
            vm.start(boot).assertChecks("install-rc", "usr-read-only", "usr-untouched-by-install", "overlay-unit-enabled");

            VmBoot second = vm.reboot(boot);
            second.assertChecks("boot2-module-loaded", "boot2-zfs-version", "boot2-libraries-resolved", "boot2-overlay-unit-active",
                    "boot2-usr-overlay-mounted", "boot2-enabled-zfs-import-cache.service", "boot2-enabled-zfs-mount.service",
                    "boot2-enabled-zfs.target", "stock-module-loads", "pool-created", "zvol-device", "clone-matches-origin");
            JsonNode installed = second.json("boot2").path("installed");
            assertEquals(Lab.kernel(), installed.path("kernel").asText(), installed::toPrettyString);
            assertEquals(Lab.zfsVersion(), installed.path("zfsVersion").asText(), installed::toPrettyString);

            vm.reboot(boot).assertChecks("boot3-module-loaded", "pool-import-unit-ran", "pool-imported", "dataset-mounted", "snapshot-kept", "clone-kept",
                    "checksum-identical");
        }
    }
}
