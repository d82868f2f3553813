package io.corezfs;

import com.fasterxml.jackson.databind.JsonNode;
import io.corezfs.testing.Lab;
import io.corezfs.testing.VmBoot;
import io.corezfs.testing.VmLab;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sudo corezfs install} on a booted Flatcar-like node, end to end: the lab VM (lab/vm-image.sh, qemu TCG, no
 * NIC) gets the self-contained bundle and the ZFS archive lab/vm-archive.sh built for its exact OS and kernel, and a
 * scenario script (src/test/resources/io/corezfs/vm/) runs the tool as root over one or more boots of the same disks.
 * The scripts print {@code CHECK name ok|FAIL}, {@code RC}, {@code TIME} and JSON blocks; the assertions here are on
 * those, so a failure names the expectation that broke. Each test is one VM run, deleted afterwards (logs are kept
 * under target/vm-it/).
 *
 * <p>Slow by nature: the JVM runs under TCG emulation in the guest (a {@code corezfs --version} takes 10-40 s
 * there), and the first run of the class may compile OpenZFS for the archive (5-10 min).
 */
@Timeout(value = 75, unit = TimeUnit.MINUTES)
class LiveInstallIT {
    /** Per boot: boot + unpacking the tool + several CLI calls under TCG on a shared 2-core host. */
    static final Duration BOOT = Duration.ofMinutes(30);
    static final String POOL = "labpool";
    /** A kernel release the lab VM never runs. */
    static final String OTHER_KERNEL = "6.1.0-55-cloud-amd64";

    static Path bundle;
    static Path archive;
    static Path wrongArchive;

    @BeforeAll
    @Timeout(value = 60, unit = TimeUnit.MINUTES)   // a cold cache compiles OpenZFS for the archive
    static void payload() throws Exception {
        VmLab.requireVm();
        Lab.requireBuilt();
        bundle = VmSmokeIT.bundle();
        Path tool = VmLab.repo().resolve("target/corezfs/bin/corezfs");
        assertTrue(Files.isExecutable(tool), "no " + tool + " (mvn package)");
        // The archive for the VM's OS and kernel: cached by lab/vm-archive.sh, built on a cold cache (root + Docker).
        Lab.requireDocker();
        Result r = run(Duration.ofMinutes(45), "bash", VmLab.repo().resolve("lab/vm-archive.sh").toString());
        assertEquals(0, r.code, () -> "lab/vm-archive.sh failed\n" + r.out + r.err);
        List<String> lines = r.out.strip().lines().toList();
        archive = Path.of(lines.get(lines.size() - 1));
        assertTrue(Files.isRegularFile(archive), () -> "lab/vm-archive.sh printed no archive: " + r.out + r.err);

        // A valid archive for the same OS version and board, built for another kernel.
        Path work = Files.createDirectories(VmLab.repo().resolve("target/vm-it"));
        Path tree = Files.createTempDirectory(work, "wrong-tree");
        Files.createDirectories(tree.resolve("opt/corezfs/usr/sbin"));
        Files.writeString(tree.resolve("opt/corezfs/kernel-release"), OTHER_KERNEL + "\n");
        Files.writeString(tree.resolve("opt/corezfs/usr/sbin/zfs"), "#!/bin/sh\necho wrong kernel\n");
        wrongArchive = work.resolve("wrong-kernel.tar.gz");
        Files.deleteIfExists(wrongArchive);
        Result p = run(Duration.ofMinutes(2), tool.toString(), "archive", "pack", tree.toString(), "--root",
                Lab.hostRoot().toString(), "--kernel", OTHER_KERNEL, "--zfs-version", Lab.zfsVersion(), "-o", wrongArchive.toString());
        assertEquals(0, p.code, () -> p.out + p.err);
    }

    static VmLab vm(String label, String script, String... env) {
        VmLab vm = VmLab.create(label);
        List<String> e = new ArrayList<>(List.of("BUNDLE", "corezfs-bundle.tar.gz", "ARCHIVE", archive.getFileName().toString(),
                "WRONG_ARCHIVE", "wrong-kernel.tar.gz"));
        e.addAll(List.of(env));
        return vm.script("vmlib.sh", "vmlib.sh").script(script, "run.sh").file(bundle, "corezfs-bundle.tar.gz")
                .file(archive, "archives/" + archive.getFileName()).file(wrongArchive, "archives/wrong-kernel.tar.gz")
                .env(e.toArray(String[]::new));
    }

    /** S1: overlay mode, a pool with a dataset, zvol, snapshot and clone, imported again by the units after a reboot. */
    @Test
    void overlayInstallKeepsAPoolAcrossAReboot() {
        installPoolReboot("overlay");
    }

    /** S2: the same through systemd-sysext. */
    @Test
    void sysextInstallKeepsAPoolAcrossAReboot() {
        installPoolReboot("sysext");
    }

    void installPoolReboot(String mode) {
        try (VmLab vm = vm("s-" + mode, "install-pool.sh", "MODE", mode)) {
            VmBoot first = vm.start(BOOT);
            assertEquals(0, first.rc("install"), () -> "install --mode " + mode + "\n" + first);
            first.assertChecks("install-rc", "boot1-module-loaded", "boot1-zfs-version", "boot1-libraries-resolved",
                    "boot1-enabled-zfs-import-cache.service", "boot1-enabled-zfs-mount.service", "boot1-enabled-zfs.target",
                    "reinstall-rc", "pool-created", "zvol-device", "snapshot-created", "clone-created", "clone-matches-origin");
            assertTrue(first.cliOutput("reinstall").contains("unchanged"), () -> "the second install says 'unchanged'\n" + first);
            // "< 1 s" on a real node; under TCG the JVM's start alone takes seconds, so: at most 5 s beyond a --version.
            double extra = first.time("reinstall") - first.time("version");
            assertTrue(extra < 5.0, () -> "reinstall took " + extra + " s more than --version\n" + first);
            assertLive(first.json("boot1"), mode, true);

            VmBoot second = vm.reboot(BOOT);
            second.assertChecks("boot2-module-loaded", "boot2-zfs-version", "pool-import-unit-ran", "pool-imported",
                    "dataset-mounted", "snapshot-kept", "clone-kept", "checksum-identical");
            JsonNode status = second.json("boot2");
            assertLive(status, mode, true);
            JsonNode installed = status.path("installed");
            assertEquals(Lab.zfsVersion(), installed.path("zfsVersion").asText(), status::toPrettyString);
            assertEquals(Lab.kernel(), installed.path("kernel").asText(), status::toPrettyString);
            assertEquals(archive.getFileName().toString(), Path.of(installed.path("archive").asText()).getFileName().toString(),
                    status::toPrettyString);
        }
    }

    /** S4: an archive for another kernel is refused; an installed one that no longer matches the kernel stays inactive. */
    @Test
    void aKernelMismatchIsRefusedAndNeverActivated() {
        try (VmLab vm = vm("s4-kernel", "wrong-kernel.sh")) {
            VmBoot first = vm.start(BOOT);
            assertEquals(5, first.rc("wrong"), () -> "an archive for " + OTHER_KERNEL + " is refused with exit 5\n" + first);
            first.assertChecks("wrong-rc", "wrong-changed-nothing", "wrong-no-module", "wrong-no-leftovers", "install-rc",
                    "boot1-module-loaded");

            VmBoot second = vm.reboot(BOOT);
            second.assertChecks("booted-to-multi-user", "swapped-no-module", "swapped-unit-inactive", "swapped-no-usr-overlay",
                    "swapped-journal-says-why");
            JsonNode live = second.json("boot2").path("live");
            assertFalse(live.path("active").asBoolean(true), live::toPrettyString);
            assertFalse(live.path("moduleLoaded").asBoolean(true), live::toPrettyString);
        }
    }

    /** S5: uninstall refuses with imported pools, --export goes through, and after a reboot /usr is the base again. */
    @Test
    void uninstallLeavesTheBaseSystemAsItWas() {
        try (VmLab vm = vm("s5-uninstall", "uninstall.sh")) {
            VmBoot first = vm.start(BOOT);
            assertEquals(3, first.rc("uninstall-busy"), () -> "uninstall with an imported pool\n" + first);
            assertEquals(0, first.rc("uninstall"), () -> "uninstall --export\n" + first);
            first.assertChecks("install-rc", "boot1-module-loaded", "pool-created", "uninstall-busy-rc", "busy-pool-still-imported",
                    "busy-still-installed", "uninstall-rc", "boot1-no-usr-overlay", "boot1-no-extension-merged", "boot1-no-opt-corezfs",
                    "boot1-no-zfs-units");
            JsonNode installed = first.json("installed").path("live");
            assertTrue(installed.path("mode").isTextual(), () -> "auto picked a mode: " + installed.toPrettyString());

            VmBoot second = vm.reboot(BOOT);
            second.assertChecks("boot2-no-module", "boot2-no-usr-overlay", "boot2-no-extension-merged", "boot2-no-opt-corezfs",
                    "boot2-no-zfs-units", "boot2-no-zfs-unit-files", "usr-identical-to-base", "etc-systemd-as-before",
                    "pool-disk-untouched");
            JsonNode status = second.json("boot2");
            assertTrue(status.path("installed").isNull(), status::toPrettyString);
            JsonNode live = status.path("live");
            assertTrue(live.path("mode").isNull() || live.path("mode").isMissingNode(), live::toPrettyString);
            assertFalse(live.path("active").asBoolean(false), live::toPrettyString);
            assertFalse(live.path("moduleLoaded").asBoolean(false), live::toPrettyString);
        }
    }

    /** S6: an install killed with SIGKILL part-way; the next one converges, and so does the next boot. */
    @Test
    void aKilledInstallConvergesOnTheNextRun() {
        try (VmLab vm = vm("s6-crash", "crash.sh")) {
            VmBoot first = vm.start(BOOT);
            first.assertChecks("killed-mid-install", "status-after-crash-rc", "rerun-rc", "boot1-module-loaded", "boot1-zfs-version",
                    "boot1-overlay-unit-active", "no-leftovers", "third-rc");
            assertTrue(first.cliOutput("third").contains("unchanged"), () -> "converged: a third install changes nothing\n" + first);
            assertLive(first.json("boot1"), "overlay");

            VmBoot second = vm.reboot(BOOT);
            second.assertChecks("boot2-module-loaded", "boot2-zfs-version", "boot2-overlay-unit-active", "boot2-no-leftovers");
            assertLive(second.json("boot2"), "overlay");
        }
    }

    /** The "live" part of status --json on a node where ZFS is active in {@code mode} (and, if any, the lab pool is healthy). */
    static void assertLive(JsonNode status, String mode) {
        assertLive(status, mode, false);
    }

    static void assertLive(JsonNode status, String mode, boolean withPool) {
        JsonNode live = status.path("live");
        assertEquals(mode, live.path("mode").asText(), status::toPrettyString);
        assertTrue(live.path("active").asBoolean(false), status::toPrettyString);
        assertTrue(live.path("moduleLoaded").asBoolean(false), status::toPrettyString);
        assertTrue(live.path("zfsVersion").asText().contains(Lab.zfsVersion()), status::toPrettyString);
        assertTrue(live.path("kmodVersion").asText().contains(Lab.zfsVersion()), status::toPrettyString);
        assertTrue(live.path("pools").isArray(), status::toPrettyString);
        boolean seen = false;
        for (JsonNode pool : live.path("pools")) {
            if (pool.path("name").asText().equals(POOL)) {
                assertEquals("ONLINE", pool.path("health").asText(), status::toPrettyString);
                seen = true;
            }
        }
        assertEquals(withPool, seen, () -> "pool " + POOL + " listed: " + status.toPrettyString());
    }

    record Result(int code, String out, String err) {
    }

    static Result run(Duration timeout, String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("vm-it", ".out");
        Path err = Files.createTempFile("vm-it", ".err");
        try {
            Process p = new ProcessBuilder(command).directory(VmLab.repo().toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                p.destroy();
                p.waitFor(30, TimeUnit.SECONDS);
                throw new AssertionError("timed out after " + timeout + ": " + String.join(" ", command));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
