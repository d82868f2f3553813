package io.corezfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.corezfs.testing.Lab;
import io.corezfs.testing.Requirements;
import io.corezfs.testing.VmBoot;
import io.corezfs.testing.VmLab;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * A Flatcar node through an OS update, in the lab VM with real kernels (issue 13's VM scenarios). The image carries
 * the lab kernel and the next target's (lab/vm-image.sh), as a node has the running and the updated OS on its two
 * /usr partitions; {@link VmLab#kernel} picks which one boots. What the update brings besides the kernel is staged in
 * the guest by update-lib.sh: a stand-in {@code update_engine_client} that prints update_engine's status lines, and
 * the release files of the new version (rewritten under /usr before the reboot). The node's mirror is a
 * {@code file://} directory on the inject disk, made here with {@code corezfs publish}.
 *
 * <p>The archives are lab/vm-archive.sh's, one per target (cached; a cold cache compiles OpenZFS twice).
 */
@Timeout(value = 120, unit = TimeUnit.MINUTES)
@Execution(ExecutionMode.CONCURRENT) // a VM class: runs beside one other class (pom.xml, failsafe)
class UpdateIT {
    /** Per boot: boot + several CLI calls under TCG on a shared 2-core host (see LiveInstallIT). */
    static final Duration BOOT = Duration.ofMinutes(30);

    /** Where the guest finds the inject disk's copy (vm-image.sh's lab-test copies it to /root/inject). */
    static final String GUEST_MIRROR = "/root/inject/mirror";

    static Path bundle;
    static Path current;
    static Path next;

    @BeforeAll
    @Timeout(value = 90, unit = TimeUnit.MINUTES) // a cold cache compiles OpenZFS for both targets
    static void payload() throws Exception {
        VmLab.requireVm();
        Requirements.need(
                Files.isRegularFile(VmLab.imageDir().resolve("vmlinuz-" + Lab.nextKernel())),
                "the lab VM image with the kernel " + Lab.nextKernel() + " (run: sudo lab/vm-image.sh)");
        Lab.requireBuilt();
        Lab.requireDocker();
        bundle = Lab.bundle();
        current = archive();
        next = archive("--target", "next");
        assertTrue(
                next.getFileName().toString().contains("_" + Lab.nextFlatcarVersion() + "_"),
                () -> "the next target's archive is for " + Lab.nextFlatcarVersion() + ": " + next);
        assertTrue(
                next.getFileName().toString().contains("zfs-" + Lab.nextZfsVersion()),
                () -> "the next target's archive has ZFS " + Lab.nextZfsVersion() + ": " + next);
    }

    /** lab/vm-archive.sh's archive for a target: cached, built on a cold cache (root + Docker). */
    static Path archive(String... args) throws IOException, InterruptedException {
        return LiveInstallIT.vmArchive(args);
    }

    /**
     * A mirror directory for the inject disk: {@code archives} linked in, then {@code corezfs publish DIR} writes its
     * index.json, the way an operator pre-publishes archives. No archives: a mirror that answers but has nothing.
     */
    static Path mirror(VmLab vm, Path... archives) throws IOException, InterruptedException {
        Path dir = vm.inject().resolve("mirror");
        Files.createDirectories(dir);
        for (Path a : archives) {
            vm.file(a, "mirror/" + a.getFileName());
        }
        Path tool = VmLab.repo().resolve("target/corezfs/bin/corezfs");
        LiveInstallIT.Result r = LiveInstallIT.run(Duration.ofMinutes(2), tool.toString(), "publish", dir.toString());
        assertEquals(0, r.code(), () -> "corezfs publish " + dir + "\n" + r.out() + r.err());
        assertTrue(Files.isRegularFile(dir.resolve("index.json")), () -> "no index.json in " + dir);
        return dir;
    }

    static VmLab vm(String label, String script, String mode) {
        VmLab vm = VmLab.create(label);
        return vm.script("vmlib.sh", "vmlib.sh")
                .script("update-lib.sh", "update-lib.sh")
                .script(script, "run.sh")
                .file(bundle, "corezfs-bundle.tar.gz")
                .file(current, "archives/" + current.getFileName())
                .env(
                        "BUNDLE", "corezfs-bundle.tar.gz",
                        "ARCHIVE", current.getFileName().toString(),
                        "NEXT_ARCHIVE", next.getFileName().toString(),
                        "MODE", mode,
                        "MIRROR_DIR", GUEST_MIRROR,
                        "CURRENT_VERSION", Lab.flatcarVersion(),
                        "CURRENT_KERNEL", Lab.kernel(),
                        "CURRENT_ZFS", Lab.zfsVersion(),
                        "NEXT_VERSION", Lab.nextFlatcarVersion(),
                        "NEXT_KERNEL", Lab.nextKernel(),
                        "NEXT_ZFS", Lab.nextZfsVersion());
    }

    /**
     * Scenarios 1 and 3 (update-prepared.sh): the next version's archive is prepared from the mirror before the
     * reboot, the node comes up on the new kernel with the new ZFS before the pool imports, and a rollback to the
     * previous version gets the previous ZFS back from the store.
     */
    @Test
    void anUpdateWithAPreparedArchiveThenARollback() throws Exception {
        try (VmLab vm = vm("update", "update-prepared.sh", "sysext")) {
            mirror(vm, next);
            VmBoot first = vm.kernel(Lab.kernel()).start(BOOT);
            first.assertChecks(
                    "boot1-kernel",
                    "boot1-os-version",
                    "install-rc",
                    "boot1-module-loaded",
                    "boot1-tools-version",
                    "boot1-module-version",
                    "pool-created",
                    "boot1-boot-unit-matched",
                    "check-running-rc",
                    "check-before-rc",
                    "prepare-timer-enabled",
                    "prepare-unit",
                    "store-has-next",
                    "prepare-again-rc",
                    "check-pending-rc",
                    "boot1-after-prepare-module-version",
                    "release-files-" + Lab.nextFlatcarVersion());
            assertTrue(
                    first.cliOutput("prepare-again").contains("already prepared"),
                    () -> "a second prepare finds the archive in the store\n" + first);
            assertInstalled(first.json("boot1"), Lab.zfsVersion(), Lab.kernel());

            VmBoot second = vm.kernel(Lab.nextKernel()).reboot(BOOT);
            second.assertChecks(
                    "boot2-kernel",
                    "boot2-os-version",
                    "boot2-boot-unit-ran",
                    "boot2-boot-unit-not-failed",
                    "boot2-module-loaded",
                    "boot2-libraries-resolved",
                    "boot2-tools-version",
                    "boot2-kmod-version",
                    "boot2-module-version",
                    "boot2-active-before-import",
                    "pool-import-unit-ran",
                    "pool-imported",
                    "dataset-mounted",
                    "checksum-identical",
                    "check-after-update-rc",
                    "store-keeps-previous",
                    "release-files-" + Lab.flatcarVersion());
            assertTrue(
                    second.checks().keySet().stream().anyMatch(k -> k.startsWith("boot2-stock-module-")),
                    second::toString);
            JsonNode s2 = second.json("boot2");
            assertInstalled(s2, Lab.nextZfsVersion(), Lab.nextKernel());
            assertLive(s2, Lab.nextZfsVersion());
            assertEquals(
                    "file://" + GUEST_MIRROR + "/",
                    s2.path("config").path("MIRRORS").path("value").asText(),
                    s2::toPrettyString);
            assertFalse(
                    s2.path("config").path("MIRRORS").path("source").asText().isEmpty(), s2::toPrettyString);

            VmBoot third = vm.kernel(Lab.kernel()).reboot(BOOT);
            third.assertChecks(
                    "boot3-kernel",
                    "boot3-os-version",
                    "boot3-boot-unit-ran",
                    "boot3-boot-unit-not-failed",
                    "boot3-module-loaded",
                    "boot3-tools-version",
                    "boot3-kmod-version",
                    "boot3-module-version",
                    "boot3-active-before-import",
                    "pool-imported",
                    "checksum-identical");
            JsonNode s3 = third.json("boot3");
            assertInstalled(s3, Lab.zfsVersion(), Lab.kernel());
            assertLive(s3, Lab.zfsVersion());
        }
    }

    /**
     * Issue 13's scenario 2 and issue 14's VM case (update-untrusted.sh): an update for which no usable archive
     * exists. The node trusts the builder's key; its mirror was rewritten by someone holding another key (the next
     * version's archive tampered with, signed by that key, under an index signed by that key). The gate says what is
     * missing before the reboot; the node still boots the new version, without ZFS, refuses the mirror naming the key,
     * changes nothing and says what is missing. A manual install of the tampered archive is refused the same way; the
     * builder's signed archive then activates without a reboot, and the pool imports and mounts by itself.
     */
    @Test
    void anUpdateWithoutAUsableArchiveBootsWithoutZfsThenTheSignedArchiveInstallsLive() throws Exception {
        try (VmLab vm = vm("update-untrusted", "update-untrusted.sh", "overlay")) {
            Path keys = vm.inject().resolveSibling("keys");
            Files.createDirectories(keys);
            Path builder = sshKey(keys, "builder");
            Path evil = sshKey(keys, "evil");
            Files.writeString(
                    vm.inject().resolve("trusted-keys"),
                    "builds@corezfs.lab " + Files.readString(keys.resolve("builder.pub")));
            vm.file(next, "archives/" + next.getFileName());
            sign(vm.inject().resolve("archives/" + current.getFileName()), builder, "");
            sign(vm.inject().resolve("archives/" + next.getFileName()), builder, "");
            Path tampered = tamperedCopy(next, vm.inject().resolve("evil"), keys.resolve("tree"));
            Path stale = vm.inject().resolve("stale/" + next.getFileName());
            Files.createDirectories(stale.getParent());
            Files.copy(tampered, stale);
            sign(tampered, evil, "");
            Files.copy(
                    vm.inject().resolve("archives/" + next.getFileName() + ".sig"),
                    Path.of(stale + ".sig")); // the builder's signature of the genuine archive
            Path mirror = vm.inject().resolve("mirror");
            Files.createDirectories(mirror);
            Files.copy(tampered, mirror.resolve(next.getFileName()));
            Files.copy(Path.of(tampered + ".sig"), mirror.resolve(next.getFileName() + ".sig"));
            sign(mirror, evil, "publish");
            vm.env("EVIL_FINGERPRINT", fingerprint(keys.resolve("evil.pub")));

            VmBoot first = vm.kernel(Lab.kernel()).start(BOOT);
            first.assertChecks(
                    "boot1-kernel",
                    "install-rc",
                    "install-checked-signature",
                    "boot1-module-version",
                    "pool-created",
                    "check-missing-rc",
                    "check-missing-names-version");
            VmBoot second = vm.kernel(Lab.nextKernel()).reboot(BOOT);
            second.assertChecks(
                    "boot2-kernel",
                    "boot2-os-version",
                    "boot2-boot-unit-ran",
                    "boot2-boot-unit-exit",
                    "booted-to-multi-user",
                    "boot2-journal-names-key",
                    "boot2-journal-says-missing",
                    "boot2-no-module",
                    "boot2-pool-untouched",
                    "boot2-installed-unchanged",
                    "install-stale-sig-rc",
                    "install-stale-sig-changed-nothing",
                    "install-tampered-rc",
                    "install-tampered-names-key",
                    "install-tampered-changed-nothing",
                    "install-tampered-no-module",
                    "install-signed-rc",
                    "boot2-module-loaded",
                    "boot2-libraries-resolved",
                    "boot2-tools-version",
                    "boot2-module-version",
                    "pool-import-unit-ran",
                    "pool-imported",
                    "dataset-mounted",
                    "checksum-identical");
            JsonNode off = second.json("boot2-off");
            assertFalse(off.path("live").path("active").asBoolean(true), off::toPrettyString);
            assertTrue(off.toString().contains(Lab.nextFlatcarVersion()), off::toPrettyString);
            JsonNode s2 = second.json("boot2");
            assertInstalled(s2, Lab.nextZfsVersion(), Lab.nextKernel());
            assertLive(s2, Lab.nextZfsVersion());
        }
    }

    /**
     * What someone who can write the mirror, but lacks the builder's key, would serve: the archive's tree with one
     * file changed, packed again with {@code corezfs archive pack} so that its manifest and hashes are consistent, and
     * under the same name. Only a signature can tell it from the real one.
     */
    static Path tamperedCopy(Path archive, Path dir, Path tree) throws IOException, InterruptedException {
        Files.createDirectories(tree);
        Files.createDirectories(dir);
        LiveInstallIT.Result x = LiveInstallIT.run(
                Duration.ofMinutes(2),
                "tar",
                "-xzf",
                archive.toString(),
                "-C",
                tree.toString(),
                "--exclude",
                "corezfs-manifest.json");
        assertEquals(0, x.code(), () -> "tar -x " + archive + "\n" + x.out() + x.err());
        Path changed = tree.resolve("etc/default/zfs");
        Files.writeString(changed, "\n# not the builder's\n", StandardOpenOption.APPEND);
        Path out = dir.resolve(archive.getFileName());
        String tool = VmLab.repo().resolve("target/corezfs/bin/corezfs").toString();
        LiveInstallIT.Result p = LiveInstallIT.run(
                Duration.ofMinutes(5),
                tool,
                "archive",
                "pack",
                tree.toString(),
                "--zfs-version",
                Lab.nextZfsVersion(),
                "--root",
                Lab.dir().resolve("hostroot-" + Lab.nextFlatcarVersion()).toString(),
                "-o",
                out.toString());
        assertEquals(0, p.code(), () -> "corezfs archive pack\n" + p.out() + p.err());
        return out;
    }

    /** An ed25519 key pair NAME, NAME.pub made by the real ssh-keygen, as an operator makes one. */
    static Path sshKey(Path dir, String name) throws IOException, InterruptedException {
        Path key = dir.resolve(name);
        LiveInstallIT.Result r = LiveInstallIT.run(
                Duration.ofMinutes(1), "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key.toString());
        assertEquals(0, r.code(), () -> "ssh-keygen\n" + r.out() + r.err());
        return key;
    }

    /** {@code corezfs archive sign FILE --key KEY}, or {@code corezfs publish DIR --sign-key KEY} with "publish". */
    static void sign(Path what, Path key, String how) throws IOException, InterruptedException {
        String tool = VmLab.repo().resolve("target/corezfs/bin/corezfs").toString();
        LiveInstallIT.Result r = how.equals("publish")
                ? LiveInstallIT.run(
                        Duration.ofMinutes(2), tool, "publish", what.toString(), "--sign-key", key.toString())
                : LiveInstallIT.run(
                        Duration.ofMinutes(2), tool, "archive", "sign", what.toString(), "--key", key.toString());
        assertEquals(0, r.code(), () -> "corezfs " + how + " " + what + "\n" + r.out() + r.err());
    }

    /** The key's SHA256 fingerprint as ssh-keygen -l prints it (and corezfs's refusals name it). */
    static String fingerprint(Path pub) throws IOException, InterruptedException {
        LiveInstallIT.Result r = LiveInstallIT.run(Duration.ofMinutes(1), "ssh-keygen", "-l", "-f", pub.toString());
        assertEquals(0, r.code(), () -> "ssh-keygen -l\n" + r.out() + r.err());
        return r.out().trim().split("\\s+")[1];
    }

    static void assertInstalled(JsonNode status, String zfs, String kernel) {
        assertEquals(zfs, status.path("installed").path("zfsVersion").asText(), status::toPrettyString);
        assertEquals(kernel, status.path("installed").path("kernel").asText(), status::toPrettyString);
    }

    static void assertLive(JsonNode status, String zfs) {
        JsonNode live = status.path("live");
        assertTrue(live.path("active").asBoolean(false), status::toPrettyString);
        assertTrue(live.path("moduleLoaded").asBoolean(false), status::toPrettyString);
        assertTrue(live.path("zfsVersion").asText().contains(zfs), status::toPrettyString);
        assertTrue(live.path("kmodVersion").asText().contains(zfs), status::toPrettyString);
        boolean seen = false;
        for (JsonNode pool : live.path("pools")) {
            if (pool.path("name").asText().equals(LiveInstallIT.POOL)) {
                assertEquals("ONLINE", pool.path("health").asText(), status::toPrettyString);
                seen = true;
            }
        }
        assertTrue(seen, () -> "pool " + LiveInstallIT.POOL + " listed: " + status.toPrettyString());
    }
}
