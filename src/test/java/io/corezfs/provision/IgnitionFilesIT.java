package io.corezfs.provision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.host.NodeConfig;
import io.corezfs.testing.Cli;
import io.corezfs.testing.Requirements;
import io.corezfs.testing.StaticHttpServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real Ignition (Debian's 2.14, the binary its dracut module runs) applies a generated config: its {@code fetch}
 * and {@code files} stages with {@code -platform file -root DIR}, downloading from a server on 127.0.0.1. Every file
 * lands byte for byte, the units and their presets are written, and a tampered bundle or archive is refused by
 * Ignition's own hash check with nothing of corezfs's units written, so the node would not start any of it.
 *
 * <p>Debian builds Ignition to relabel for SELinux after the files stage: it reads {@code /etc/selinux/config} in the
 * root and runs {@code setfiles}. The root gets a config with SELinux disabled and {@code setfiles} is a stub that
 * reads its list and does nothing: labels are no part of what is tested, and Debian has no setfiles without SELinux.
 */
class IgnitionFilesIT {
    static final Path IGNITION = Path.of("/usr/lib/dracut/modules.d/30ignition/ignition");
    static final String ARCHIVE = ProvisionCommandTest.ARCHIVE;

    @TempDir
    Path dir;

    Path served;
    Path root;
    Path bin;

    @BeforeEach
    void setUp() throws Exception {
        Requirements.need(Files.isExecutable(IGNITION), IGNITION + " (Debian package ignition, contrib)");
        served = Files.createDirectories(dir.resolve("served"));
        Files.write(served.resolve("corezfs-bundle.tar.gz"), bytes("the self-contained corezfs", 300_000));
        Files.write(served.resolve(ARCHIVE), bytes("a ZFS archive", 500_000));
        Files.writeString(
                served.resolve(ARCHIVE + ".sig"), "-----BEGIN SSH SIGNATURE-----\nx\n-----END SSH SIGNATURE-----\n");
        root = Files.createDirectories(dir.resolve("root/etc/selinux"))
                .getParent()
                .getParent();
        Files.writeString(root.resolve("etc/selinux/config"), "SELINUX=disabled\nSELINUXTYPE=targeted\n");
        bin = Files.createDirectories(dir.resolve("bin"));
        Path setfiles = Files.writeString(bin.resolve("setfiles"), "#!/bin/sh\ncat >/dev/null\n");
        Files.setPosixFilePermissions(setfiles, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    static byte[] bytes(String seed, int n) {
        byte[] b = new byte[n];
        byte[] s = seed.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (s[i % s.length] + i / s.length);
        }
        return b;
    }

    String config(StaticHttpServer http) throws Exception {
        byte[] raw = new byte[32];
        raw[5] = 9;
        Path keys = Files.writeString(
                dir.resolve("keys"), "ops@example.com " + new io.corezfs.trust.SshKeys.PublicKey(raw).text() + "\n");
        Cli.Run r = new Cli(dir)
                .run(
                        "provision",
                        "ignition",
                        "--bundle-url",
                        http.base() + "/corezfs-bundle.tar.gz",
                        "--bundle",
                        served.resolve("corezfs-bundle.tar.gz").toString(),
                        "--archive-url",
                        http.base() + "/" + ARCHIVE,
                        "--archive",
                        served.resolve(ARCHIVE).toString(),
                        "--mirror",
                        http.base() + "/mirror",
                        "--trust",
                        keys.toString());
        assertEquals(0, r.exitCode(), r.err());
        return r.out();
    }

    record Run(int code, String log) {}

    Run ignition(String config, String stage) throws Exception {
        Path file = Files.writeString(dir.resolve("config.ign"), config);
        ProcessBuilder pb = new ProcessBuilder(
                        IGNITION.toString(),
                        "-platform",
                        "file",
                        "-stage",
                        stage,
                        "-root",
                        root.toString(),
                        "-log-to-stdout",
                        "-config-cache",
                        dir.resolve("cache.json").toString(),
                        "-state-file",
                        dir.resolve("state").toString(),
                        "-neednet",
                        dir.resolve("neednet").toString())
                .redirectErrorStream(true);
        pb.environment().put("IGNITION_CONFIG_FILE", file.toString());
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process p = pb.start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        return new Run(p.exitValue(), log);
    }

    Path at(String nodePath) {
        return root.resolve(nodePath.substring(1));
    }

    @Test
    void theRealIgnitionPlacesEveryFileAndUnitOfTheConfig() throws Exception {
        try (StaticHttpServer http = new StaticHttpServer(served)) {
            String config = config(http);
            Run fetch = ignition(config, "fetch");
            assertEquals(0, fetch.code(), fetch.log());
            Run files = ignition(config, "files");
            assertEquals(0, files.code(), files.log());
            assertTrue(files.log().contains("Ignition finished successfully"), files.log());
        }
        assertArrayEquals(
                Files.readAllBytes(served.resolve("corezfs-bundle.tar.gz")),
                Files.readAllBytes(at(Provisioner.BUNDLE)));
        assertArrayEquals(
                Files.readAllBytes(served.resolve(ARCHIVE)),
                Files.readAllBytes(at("/var/lib/corezfs/archives/" + ARCHIVE)));
        assertEquals(
                Files.readString(served.resolve(ARCHIVE + ".sig")),
                Files.readString(at("/var/lib/corezfs/archives/" + ARCHIVE + ".sig")));
        assertTrue(Files.readString(at("/etc/corezfs/trusted-keys")).startsWith("ops@example.com ssh-ed25519 "));
        NodeConfig conf = NodeConfig.parse(Files.readString(at(NodeConfig.PATH)), "placed by Ignition");
        assertTrue(conf.mirrors().value().get(0).toString().endsWith("/mirror"));
        assertEquals(
                "rwxr-xr-x",
                PosixFilePermissions.toString(Files.getPosixFilePermissions(at(Provisioner.UNPACK_SCRIPT))));
        for (String unit : List.of(
                "corezfs-unpack.service",
                "corezfs-boot.service",
                "corezfs-boot-late.service",
                "corezfs-prepare.service")) {
            assertTrue(Files.isRegularFile(at("/etc/systemd/system/" + unit)), unit);
        }
        assertTrue(Files.readString(at("/etc/systemd/system/corezfs-boot.service"))
                .contains("ExecStart=" + Provisioner.LAUNCHER + " boot\n"));
        String presets = Files.readString(at("/etc/systemd/system-preset/20-ignition.preset"));
        for (String line : List.of(
                "enable corezfs-unpack.service", "enable corezfs-boot.service", "enable corezfs-prepare.timer")) {
            assertTrue(presets.lines().anyMatch(line::equals), line + " in:\n" + presets);
        }
        assertFalse(presets.contains("disable"), "nothing is disabled: " + presets);
    }

    @Test
    void aTamperedBundleOrArchiveIsRefusedByIgnitionAndNoUnitOfCorezfsIsWritten() throws Exception {
        for (String tampered : List.of("corezfs-bundle.tar.gz", ARCHIVE)) {
            setUp();
            String config;
            try (StaticHttpServer http = new StaticHttpServer(served)) {
                config = config(http);
                byte[] b = Files.readAllBytes(served.resolve(tampered));
                b[1000] ^= 1;
                Files.write(served.resolve(tampered), b);
                assertEquals(0, ignition(config, "fetch").code());
                Run files = ignition(config, "files");
                assertNotEquals(0, files.code(), tampered + ": " + files.log());
                assertTrue(files.log().contains("hash verification failed"), files.log());
            }
            assertFalse(Files.exists(at("/etc/systemd/system/corezfs-boot.service")), tampered);
            assertFalse(Files.exists(at("/etc/systemd/system/corezfs-unpack.service")), tampered);
            assertFalse(Files.exists(at("/etc/systemd/system-preset/20-ignition.preset")), tampered);
            assertFalse(
                    Files.exists(
                            at(tampered.equals(ARCHIVE) ? "/var/lib/corezfs/archives/" + ARCHIVE : Provisioner.BUNDLE)),
                    "the tampered file is not left on the node: " + tampered);
            Files.walk(dir)
                    .sorted(java.util.Comparator.reverseOrder())
                    .forEach(p -> p.toFile().delete());
            Files.createDirectories(dir);
        }
    }
}
