package io.corezfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.corezfs.testing.Lab;
import io.corezfs.testing.VmBoot;
import io.corezfs.testing.VmLab;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

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
@Execution(ExecutionMode.CONCURRENT) // a VM class: runs beside one other class (pom.xml, failsafe)
class LiveInstallIT {
    /** Per boot: boot + unpacking the tool + several CLI calls under TCG on a shared 2-core host. */
    static final Duration BOOT = Duration.ofMinutes(30);

    static final String POOL = "labpool";
    /** A kernel release the lab VM never runs. */
    static final String OTHER_KERNEL = "6.1.0-55-cloud-amd64";

    static Path bundle;
    static Path archive;
    static Path wrongArchive;
    static Path upgrade;

    @BeforeAll
    @Timeout(value = 60, unit = TimeUnit.MINUTES) // a cold cache compiles OpenZFS for the archive
    static void payload() throws Exception {
        VmLab.requireVm();
        Lab.requireBuilt();
        bundle = Lab.bundle();
        Path tool = VmLab.repo().resolve("target/corezfs/bin/corezfs");
        assertTrue(Files.isExecutable(tool), "no " + tool + " (mvn package)");
        // The archive for the VM's OS and kernel: cached by lab/vm-archive.sh, built on a cold cache (root + Docker).
        Lab.requireDocker();
        archive = vmArchive();

        // A valid archive for the same OS version and board, built for another kernel.
        Path work = Files.createDirectories(VmLab.repo().resolve("target/vm-it"));
        Path tree = Files.createTempDirectory(work, "wrong-tree");
        Files.createDirectories(tree.resolve("opt/corezfs/usr/sbin"));
        Files.writeString(tree.resolve("opt/corezfs/kernel-release"), OTHER_KERNEL + "\n");
        Files.writeString(tree.resolve("opt/corezfs/usr/sbin/zfs"), "#!/bin/sh\necho wrong kernel\n");
        wrongArchive = work.resolve("wrong-kernel.tar.gz");
        Files.deleteIfExists(wrongArchive);
        Result p = run(
                Duration.ofMinutes(2),
                tool.toString(),
                "archive",
                "pack",
                tree.toString(),
                "--root",
                Lab.hostRoot().toString(),
                "--kernel",
                OTHER_KERNEL,
                "--zfs-version",
                Lab.zfsVersion(),
                "-o",
                wrongArchive.toString());
        assertEquals(0, p.code, () -> p.out + p.err);

        // An upgrade for the same node: the VM's archive repacked with one more file, which tells on the node which
        // of the two trees /usr presents.
        Path up = Files.createTempDirectory(work, "upgrade-tree");
        Result x = run(
                Duration.ofMinutes(2),
                "tar",
                "-xzf",
                archive.toString(),
                "-C",
                up.toString(),
                "--exclude",
                "corezfs-manifest.json");
        assertEquals(0, x.code, () -> x.out + x.err);
        Files.createDirectories(up.resolve("opt/corezfs/usr/share/corezfs-lab"));
        Files.writeString(up.resolve("opt/corezfs/usr/share/corezfs-lab/release"), "upgraded\n");
        upgrade = work.resolve("upgrade.tar.gz");
        Files.deleteIfExists(upgrade);
        Result u = run(
                Duration.ofMinutes(5),
                tool.toString(),
                "archive",
                "pack",
                up.toString(),
                "--root",
                Lab.hostRoot().toString(),
                "--kernel",
                Lab.kernel(),
                "--zfs-version",
                Lab.zfsVersion(),
                "-o",
                upgrade.toString());
        assertEquals(0, u.code, () -> u.out + u.err);
    }

    static VmLab vm(String label, String script, String... env) {
        VmLab vm = VmLab.create(label);
        List<String> e = new ArrayList<>(List.of(
                "BUNDLE",
                "corezfs-bundle.tar.gz",
                "ARCHIVE",
                archive.getFileName().toString(),
                "WRONG_ARCHIVE",
                "wrong-kernel.tar.gz",
                "UPGRADE",
                "upgrade.tar.gz"));
        e.addAll(List.of(env));
        return vm.script("vmlib.sh", "vmlib.sh")
                .script(script, "run.sh")
                .file(bundle, "corezfs-bundle.tar.gz")
                .file(archive, "archives/" + archive.getFileName())
                .file(wrongArchive, "archives/wrong-kernel.tar.gz")
                .file(upgrade, "archives/upgrade.tar.gz")
                .env(e.toArray(String[]::new));
    }

    /**
     * S3: a node with no archive anywhere gets one built. lab/vm-archive.sh makes the VM's archive exactly so, on the
     * lab host against the VM's facts (Docker inside a TCG guest would take hours): {@code corezfs install --root} into
     * a copy of the host root, with an empty store, builds through Docker and then installs. Its record is checked
     * here; the archive it built is the one every VM scenario below installs.
     */
    @Test
    void aNodeWithoutAnArchiveGetsOneBuiltThenInstalled() throws IOException {
        String record = Files.readString(archive.resolveSibling("install.record"));
        assertTrue(record.contains("no archive for flatcar " + Lab.flatcarVersion()), record);
        assertTrue(record.contains("building one through Docker"), record);
        assertTrue(record.contains("installed " + archive.getFileName() + " into "), record);
    }

    /**
     * S1, S4, S5 and S6 in overlay mode, as one node's life over four boots (see lifecycle.sh): a wrong-kernel archive
     * refused; an install killed part-way, rerun, converged; a pool kept across a reboot; uninstall refused with the
     * pool imported, then with --export, and /usr back to the base after a reboot; finally a kernel that no longer
     * matches the installed archive, and a boot without ZFS that says why.
     */
    @Test
    void overlayNodeLifecycle() {
        try (VmLab vm = vm("overlay", "lifecycle.sh")) {
            VmBoot first = vm.start(BOOT);
            assertEquals(
                    5,
                    first.rc("wrong"),
                    () -> "S4: an archive for " + OTHER_KERNEL + " is refused with exit 5\n" + first);
            first.assertChecks(
                    "wrong-rc",
                    "wrong-changed-nothing",
                    "wrong-no-module",
                    "killed-mid-install",
                    "status-after-crash-rc",
                    "rerun-rc",
                    "boot1-module-loaded",
                    "boot1-zfs-version",
                    "boot1-libraries-resolved",
                    "boot1-overlay-unit-active",
                    "boot1-usr-overlay-mounted",
                    "boot1-enabled-zfs-import-cache.service",
                    "boot1-enabled-zfs-mount.service",
                    "boot1-enabled-zfs.target",
                    "no-leftovers",
                    "reinstall-rc",
                    "pool-created",
                    "zvol-device",
                    "snapshot-created",
                    "clone-created",
                    "clone-matches-origin");
            assertTrue(
                    first.cliOutput("reinstall").contains("unchanged"),
                    () -> "the same archive again says 'unchanged'\n" + first);
            // Its time is not asserted here: under TCG a JVM start alone takes 10-15 s. bench/vm-install.sh measures
            // it.
            assertLive(first.json("boot1"), "overlay", true);

            VmBoot second = vm.reboot(BOOT);
            second.assertChecks(
                    "boot2-module-loaded",
                    "boot2-zfs-version",
                    "boot2-overlay-unit-active",
                    "pool-import-unit-ran",
                    "pool-imported",
                    "dataset-mounted",
                    "snapshot-kept",
                    "clone-kept",
                    "checksum-identical",
                    "uninstall-busy-rc",
                    "busy-pool-still-imported",
                    "busy-still-installed",
                    "uninstall-rc",
                    "uninstalled-no-usr-overlay",
                    "uninstalled-no-extension-merged",
                    "uninstalled-no-opt-corezfs",
                    "uninstalled-no-zfs-units",
                    "uninstalled-no-leftovers");
            JsonNode status = second.json("boot2");
            assertLive(status, "overlay", true);
            assertEquals(
                    Lab.zfsVersion(),
                    status.path("installed").path("zfsVersion").asText(),
                    status::toPrettyString);
            assertEquals(Lab.kernel(), status.path("installed").path("kernel").asText(), status::toPrettyString);

            VmBoot third = vm.reboot(BOOT);
            third.assertChecks(
                    "boot3-no-module",
                    "boot3-no-usr-overlay",
                    "boot3-no-extension-merged",
                    "boot3-no-opt-corezfs",
                    "boot3-no-zfs-units",
                    "boot3-no-zfs-unit-files",
                    "usr-identical-to-base",
                    "etc-systemd-as-before",
                    "pool-disk-untouched",
                    "again-rc",
                    "again-module-loaded");
            JsonNode gone = third.json("boot3");
            assertTrue(gone.path("installed").isNull(), gone::toPrettyString);
            assertFalse(gone.path("live").path("moduleLoaded").asBoolean(true), gone::toPrettyString);

            VmBoot fourth = vm.reboot(BOOT);
            fourth.assertChecks(
                    "booted-to-multi-user",
                    "swapped-no-module",
                    "swapped-unit-inactive",
                    "swapped-no-usr-overlay",
                    "swapped-journal-says-why");
            JsonNode live = fourth.json("boot4").path("live");
            assertFalse(live.path("active").asBoolean(true), live::toPrettyString);
            assertFalse(live.path("moduleLoaded").asBoolean(true), live::toPrettyString);
        }
    }

    /** S2: the same install, pool and reboot through systemd-sysext. */
    @Test
    void sysextInstallKeepsAPoolAcrossAReboot() {
        try (VmLab vm = vm("sysext", "install-pool.sh", "MODE", "sysext")) {
            VmBoot first = vm.start(BOOT);
            assertEquals(0, first.rc("install"), () -> "install --mode sysext\n" + first);
            first.assertChecks(
                    "install-rc",
                    "boot1-module-loaded",
                    "boot1-zfs-version",
                    "boot1-libraries-resolved",
                    "boot1-sysext-unit-active",
                    "boot1-extension-link",
                    "boot1-sysext-lists-corezfs",
                    "boot1-enabled-zfs-import-cache.service",
                    "boot1-enabled-zfs-mount.service",
                    "boot1-enabled-zfs.target",
                    "reinstall-rc",
                    "pool-created",
                    "zvol-device",
                    "snapshot-created",
                    "clone-created",
                    "clone-matches-origin");
            assertTrue(
                    first.cliOutput("reinstall").contains("unchanged"),
                    () -> "the second install says 'unchanged'\n" + first);
            assertLive(first.json("boot1"), "sysext", true);

            VmBoot second = vm.reboot(BOOT);
            second.assertChecks(
                    "boot2-module-loaded",
                    "boot2-zfs-version",
                    "boot2-sysext-unit-active",
                    "boot2-sysext-lists-corezfs",
                    "pool-import-unit-ran",
                    "pool-imported",
                    "dataset-mounted",
                    "snapshot-kept",
                    "clone-kept",
                    "checksum-identical");
            assertLive(second.json("boot2"), "sysext", true);
        }
    }

    /**
     * Lifecycle in sysext mode, the mode a Flatcar node gets by default: an upgrade while a pool is imported is staged
     * and applied by corezfs-pending.service at the next boot, before ZFS comes up; then a power cut (sysrq b: no sync,
     * no unmount) right after an install's commit rename leaves a node that boots with one whole ZFS or none, and a
     * rerun converges; finally a tree built for another kernel is refused at boot (S4 in sysext mode). See
     * upgrade-powercut.sh.
     */
    @Test
    void aStagedUpgradeAppliesAtBootAndAPowerCutMidInstallLeavesZfsWholeOrAbsent() {
        try (VmLab vm = vm("upgrade", "upgrade-powercut.sh", "MODE", "sysext")) {
            VmBoot first = vm.start(BOOT);
            first.assertChecks(
                    "install-rc",
                    "boot1-sysext-unit-active",
                    "pool-created",
                    "upgrade-rc",
                    "pending-unit-enabled",
                    "old-tree-still-live",
                    "state-still-old",
                    "boot1-module-loaded",
                    "boot1-zfs-version");
            assertTrue(
                    first.cliOutput("upgrade").contains("next boot"),
                    () -> "the command says the upgrade waits for the next boot\n" + first);
            assertEquals(
                    archive.getFileName().toString(),
                    first.json("boot1").path("installed").path("archive").asText(),
                    () -> first.json("boot1").toPrettyString());

            VmBoot second = vm.reboot(BOOT);
            second.assertChecksThenReset(
                    "upgrade-applied-at-boot",
                    "state-is-upgrade",
                    "pending-archive-gone",
                    "boot2-module-loaded",
                    "boot2-zfs-version",
                    "boot2-libraries-resolved",
                    "boot2-sysext-unit-active",
                    "boot2-sysext-lists-corezfs",
                    "pool-import-unit-ran",
                    "pool-imported",
                    "checksum-identical",
                    "uninstall-busy-rc",
                    "pool-exported",
                    "power-cut-mid-install");
            assertEquals(
                    "upgrade.tar.gz",
                    second.json("boot2").path("installed").path("archive").asText(),
                    () -> second.json("boot2").toPrettyString());

            VmBoot third = vm.reboot(BOOT);
            third.assertChecks(
                    "cut-consistent",
                    "rerun-rc",
                    "rerun-tree",
                    "rerun-module-loaded",
                    "rerun-zfs-version",
                    "rerun-sysext-unit-active",
                    "rerun-no-leftovers",
                    "pool-reimported",
                    "checksum-identical");
            assertLive(third.json("boot3"), "sysext", true);
            third.assertChecks("pool-exported-again");

            VmBoot fourth = vm.reboot(BOOT);
            fourth.assertChecks(
                    "booted-to-multi-user",
                    "swapped-no-module",
                    "swapped-unit-inactive",
                    "swapped-no-extension-merged",
                    "swapped-extension-link-removed",
                    "swapped-no-zfs-in-usr",
                    "swapped-journal-says-why");
            JsonNode live = fourth.json("boot4").path("live");
            assertFalse(live.path("active").asBoolean(true), live::toPrettyString);
            assertFalse(live.path("moduleLoaded").asBoolean(true), live::toPrettyString);
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

    record Result(int code, String out, String err) {}

    /**
     * {@code bash lab/SCRIPT ARGS}, and the path it printed last: what the script made or found in the lab's cache.
     * Any exit but 0, or no output, fails the test with the script's output.
     */
    static Path labProduct(Duration timeout, String script, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(
                List.of("bash", VmLab.repo().resolve("lab/" + script).toString()));
        cmd.addAll(List.of(args));
        Result r = run(timeout, cmd.toArray(String[]::new));
        String what = String.join(" ", cmd.subList(1, cmd.size()));
        assertEquals(0, r.code, () -> what + " failed\n" + r.out + r.err);
        List<String> lines = r.out.strip().lines().toList();
        assertFalse(lines.isEmpty(), () -> what + " printed nothing\n" + r.err);
        return Path.of(lines.get(lines.size() - 1));
    }

    /** lab/vm-archive.sh's archive for the target its arguments name (none: the VM's): cached, built when cold. */
    static Path vmArchive(String... args) throws IOException, InterruptedException {
        Path a = labProduct(Duration.ofMinutes(60), "vm-archive.sh", args);
        assertTrue(Files.isRegularFile(a), () -> "lab/vm-archive.sh printed no archive: " + a);
        return a;
    }

    static Result run(Duration timeout, String... command) throws IOException, InterruptedException {
        return run(null, timeout, command);
    }

    /**
     * {@code command} in the repository, its output in files, stdin empty; with {@code home}, HOME is that and no
     * ssh-agent is reachable, so nothing of this machine's ~/.ssh is read. Past the timeout the whole process tree is
     * killed and the test fails.
     */
    static Result run(Path home, Duration timeout, String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("vm-it", ".out");
        Path err = Files.createTempFile("vm-it", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(command)
                    .directory(VmLab.repo().toFile())
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            if (home != null) {
                pb.environment().put("HOME", home.toString());
                pb.environment().remove("SSH_AUTH_SOCK");
            }
            Process p = pb.start();
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
                throw new AssertionError("timed out after " + timeout + ": " + String.join(" ", command));
            }
            return new Result(
                    p.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
