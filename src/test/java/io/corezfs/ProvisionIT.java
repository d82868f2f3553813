package io.corezfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.testing.Cli;
import io.corezfs.testing.Lab;
import io.corezfs.testing.StaticHttpServer;
import io.corezfs.testing.VmBoot;
import io.corezfs.testing.VmLab;
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
 * Issue 15 end to end: a fresh lab VM node gets a config from {@code corezfs provision ignition}, the real Ignition
 * (Debian's 2.14) applies it at the node's first boot, and the node comes up with ZFS with nobody running anything
 * on it.
 *
 * <p>Ignition runs where it runs on Flatcar: in the initrd, a dracut initrd with Debian's ignition module built for
 * the VM's kernel (lab/vm-ignition-initrd.sh), with {@code ignition.firstboot ignition.platform.id=qemu} on the kernel
 * command line and the config in qemu's fw_cfg under {@code opt/com.coreos/config}. It downloads from a server on
 * 127.0.0.1 that the guest reaches only as 10.0.2.100:8080, through qemu's user networking with restrict=on and one
 * guestfwd rule. The node's /etc/machine-id says "uninitialized", as a Flatcar image's first boot has none, so systemd
 * applies Ignition's presets at that boot. Later boots use the image's own initrd.
 *
 * <ul>
 *   <li>A: the archive is delivered by Ignition into the node store. Boot 1: the tool is unpacked, the first install
 *       runs, ZFS is live, {@code zfs version} matches, a pool is made; boot 2: the pool imports by itself, same bytes.
 *   <li>B: the config names a mirror and no archive; the node's corezfs fetches it at first boot (through the same
 *       guestfwd) and activates it.
 *   <li>C: the bundle on the server is tampered with: Ignition refuses it (hash mismatch, on the console from the
 *       initrd's journal) and the boot stops there; booted again without Ignition, the node has nothing of corezfs.
 * </ul>
 */
@Execution(ExecutionMode.CONCURRENT) // a VM class: runs beside one other class (pom.xml, failsafe)
class ProvisionIT {
    /** The host's server as the guest reaches it. */
    static final String GUEST_BASE = "http://10.0.2.100:8080";

    /** Ignition at the first boot, as Flatcar on QEMU runs it; the journal on the console shows its failures. */
    static final String[] FIRST_BOOT = {
        "ignition.firstboot",
        "ignition.platform.id=qemu",
        "rd.neednet=1",
        "ip=dhcp",
        // A failed Ignition powers the VM off (dracut's emergency action applies only without its shell).
        "rd.shell=0",
        "rd.emergency=poweroff",
        "systemd.show_status=1",
        "systemd.journald.forward_to_console=1"
    };

    static Path bundle;
    static Path archive;
    static Path served;
    static Path initrd;

    @BeforeAll
    @Timeout(value = 60, unit = TimeUnit.MINUTES)
    static void payload() throws Exception {
        VmLab.requireVm();
        Lab.requireBuilt();
        bundle = Lab.bundle();
        Lab.requireDocker();
        archive = LiveInstallIT.vmArchive();

        Path work = Files.createDirectories(VmLab.repo().resolve("target/vm-it"));
        served = Files.createTempDirectory(work, "provision-served");
        Files.createLink(served.resolve("corezfs-bundle.tar.gz"), bundle.toRealPath());
        Files.createLink(served.resolve(archive.getFileName()), archive.toRealPath());
        Files.createDirectories(served.resolve("mirror"));
        Files.createLink(served.resolve("mirror").resolve(archive.getFileName()), archive.toRealPath());
        Path tool = VmLab.repo().resolve("target/corezfs/bin/corezfs");
        LiveInstallIT.Result p = LiveInstallIT.run(
                Duration.ofMinutes(5),
                tool.toString(),
                "publish",
                served.resolve("mirror").toString());
        assertEquals(0, p.code(), () -> p.out() + p.err());

        initrd = LiveInstallIT.labProduct(Duration.ofMinutes(30), "vm-ignition-initrd.sh")
                .resolve("initrd-ignition.img");
    }

    static Path config(Path dir, List<String> extra) throws Exception {
        List<String> args = new ArrayList<>(List.of(
                "provision",
                "ignition",
                "--bundle-url",
                GUEST_BASE + "/corezfs-bundle.tar.gz",
                "--bundle",
                bundle.toString(),
                "-o",
                dir.resolve("node.ign").toString()));
        args.addAll(extra);
        Cli.Run r = new Cli(dir).run(args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        return dir.resolve("node.ign");
    }

    static VmLab vm(String label, String scenario) {
        VmLab vm = VmLab.create(label);
        vm.script("vmlib.sh", "vmlib.sh")
                .script("provision.sh", "run.sh")
                .env("SCENARIO", scenario, "ZFS_VERSION", Lab.zfsVersion());
        return vm;
    }

    /** A fresh run on the Ignition image whose first boot runs Ignition with {@code config} (guestfwd to port). */
    static void provisioned(VmLab vm, Path config, int port) {
        vm.prepare();
        assertEquals(
                0,
                vm.lab(
                        Duration.ofMinutes(30),
                        "bash",
                        VmLab.repo().resolve("lab/vm-ignition-initrd.sh").toString(),
                        "--run",
                        vm.name()));
        vm.guestfwd(port)
                .bootOptions(
                        "--initrd",
                        initrd.toString(),
                        "--fw-cfg",
                        config.toAbsolutePath().toString());
    }

    static void allHeld(VmBoot b) {
        assertEquals(0, b.exitCode(), b::toString);
    }

    @Test
    void a_theArchiveDeliveredByIgnitionGivesZfsAtFirstBootAndThePoolComesBack() throws Exception {
        try (StaticHttpServer http = new StaticHttpServer(served);
                VmLab vm = vm("prov-a", "A")) {
            Path cfg = config(
                    vm.inject().getParent(),
                    List.of(
                            "--archive-url",
                            GUEST_BASE + "/" + archive.getFileName(),
                            "--archive",
                            archive.toString(),
                            "--build",
                            "never"));
            provisioned(vm, cfg, http.base().getPort());
            VmBoot first = vm.firstBoot(Duration.ofMinutes(25), FIRST_BOOT);
            allHeld(first);
            assertTrue(http.count("GET", "/" + archive.getFileName()) > 0, "Ignition fetched it: " + http.requests);
            vm.bootOptions();
            allHeld(vm.reboot(Duration.ofMinutes(15)));
        }
    }

    @Test
    void b_withOnlyAMirrorTheNodeFetchesItsArchiveAtFirstBoot() throws Exception {
        try (StaticHttpServer http = new StaticHttpServer(served);
                VmLab vm = vm("prov-b", "B")) {
            // The lab image configures no network for the booted system; a node's own Ignition config does, merged
            // with corezfs's.
            Path base = Files.writeString(vm.inject().getParent().resolve("network.ign"), """
                    {"ignition": {"version": "3.3.0"},
                     "storage": {"files": [{"path": "/etc/systemd/network/50-lab.network", "mode": 420,
                       "contents": {"source": "data:,%5BMatch%5D%0AName%3De%2A%0A%5BNetwork%5D%0ADHCP%3Dipv4%0A"}}]},
                     "systemd": {"units": [{"name": "systemd-networkd.service", "enabled": true},
                                           {"name": "systemd-networkd-wait-online.service", "enabled": true}]}}
                    """);
            Path cfg = config(
                    vm.inject().getParent(),
                    List.of("--mirror", GUEST_BASE + "/mirror", "--build", "never", "--merge", base.toString()));
            provisioned(vm, cfg, http.base().getPort());
            VmBoot first = vm.firstBoot(Duration.ofMinutes(25), FIRST_BOOT);
            allHeld(first);
            assertTrue(http.count("GET", "/mirror/index.json") > 0, "the node asked the mirror: " + http.requests);
            assertTrue(first.output().contains("fetched"), first.output());
        }
    }

    @Test
    void c_aTamperedBundleIsRefusedByIgnitionAndTheNodeHasNothingOfCorezfs() throws Exception {
        Path tampered = Files.createTempDirectory(served.getParent(), "provision-tampered");
        byte[] b = Files.readAllBytes(bundle);
        b[b.length / 2] ^= 1;
        Files.write(tampered.resolve("corezfs-bundle.tar.gz"), b);
        try (StaticHttpServer http = new StaticHttpServer(tampered);
                VmLab vm = vm("prov-c", "C")) {
            // The hash in the config is the real bundle's; the server has other bytes.
            Path cfg = config(vm.inject().getParent(), List.of("--build", "never"));
            provisioned(vm, cfg, http.base().getPort());
            VmBoot refused = vm.firstBoot(Duration.ofMinutes(10), FIRST_BOOT);
            assertEquals(125, refused.exitCode(), () -> "Ignition failed, the initrd powered off: " + refused);
            String console = Files.readString(vm.runDir().resolve("boot-1.console.log"));
            assertTrue(console.contains("hash verification failed"), "Ignition's journal on the console");
            assertTrue(console.contains("ignition-files.service"), "the boot stopped in Ignition's files stage");
            vm.bootOptions();
            // Injected again: the refused boot never reached the test unit that copies the scenario onto the disk.
            allHeld(vm.firstBoot(Duration.ofMinutes(10)));
        }
    }
}
