package io.corezfs.provision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corezfs.testing.Cli;
import io.corezfs.testing.Requirements;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every Ignition config {@code corezfs provision} writes passes the real validator, Debian's {@code ignition-validate}
 * (package ignition, contrib; the lab's set-up installs it), and a broken one fails it, which shows it ran.
 *
 * <p>Debian ships Ignition 2.14, which reads spec 3.3.0 and treats 3.4.0 as experimental ("unsupported config
 * version"). A 3.4.0 output uses nothing 3.3.0 lacks, so it is validated with its version set to 3.3.0, and the test
 * records that the validator refuses the 3.4.0 label itself.
 */
class IgnitionValidateTest {
    @TempDir
    Path dir;

    Path validator;
    Cli cli;
    Path bundle;
    Path archive;

    @BeforeEach
    void setUp() throws Exception {
        var found = Requirements.which("ignition-validate");
        Requirements.need(found.isPresent(), "ignition-validate (Debian package ignition, contrib)");
        validator = found.get();
        cli = new Cli(dir);
        bundle = Files.writeString(dir.resolve("bundle.tar.gz"), "bundle");
        archive = Files.writeString(dir.resolve(ProvisionCommandTest.ARCHIVE), "archive");
        Files.writeString(dir.resolve(ProvisionCommandTest.ARCHIVE + ".sig"), "sig\n");
    }

    record Validation(int code, String output) {}

    Validation validate(String config) throws Exception {
        Path file = Files.writeString(dir.resolve("config.ign"), config);
        Process p = new ProcessBuilder(validator.toString(), file.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Validation(p.exitValue(), out);
    }

    Map<String, String> generated() throws Exception {
        byte[] raw = new byte[32];
        raw[0] = 7;
        Path keys = Files.writeString(
                dir.resolve("keys"), "ops@example.com " + new io.corezfs.trust.SshKeys.PublicKey(raw).text() + "\n");
        Path existing = Files.writeString(dir.resolve("existing.ign"), """
                {"ignition": {"version": "3.3.0"},
                 "passwd": {"users": [{"name": "core", "sshAuthorizedKeys": ["ssh-ed25519 AAAA"]}]},
                 "storage": {"files": [{"path": "/etc/hostname", "mode": 420, "contents": {"source": "data:,node1"}}]},
                 "systemd": {"units": [{"name": "docker.service", "enabled": true}]}}
                """);
        String[] bundleArgs = {"--bundle-url", ProvisionCommandTest.BUNDLE_URL, "--bundle", bundle.toString()};
        String[] archiveArgs = {"--archive-url", ProvisionCommandTest.ARCHIVE_URL, "--archive", archive.toString()};
        Map<String, List<String>> cases = new LinkedHashMap<>();
        cases.put("bundle and mirror", List.of("--mirror", "http://10.0.2.100:8080/archives"));
        cases.put("archive delivered", List.of(archiveArgs));
        cases.put(
                "every setting",
                List.of(
                        "--archive-url",
                        ProvisionCommandTest.ARCHIVE_URL,
                        "--archive",
                        archive.toString(),
                        "--mirror",
                        "https://a.example.com/z",
                        "--mirror",
                        "file:///var/mnt/archives",
                        "--mode",
                        "overlay",
                        "--build",
                        "boot",
                        "--keep",
                        "5",
                        "--trust",
                        keys.toString()));
        cases.put("merged", List.of("--mirror", "http://m.example.com/z", "--merge", existing.toString()));
        Map<String, String> out = new LinkedHashMap<>();
        for (String spec : Ignition.SPECS) {
            for (var c : cases.entrySet()) {
                List<String> args = new ArrayList<>(List.of("provision", "ignition", "--spec", spec));
                args.addAll(List.of(bundleArgs));
                args.addAll(c.getValue());
                Cli.Run r = cli.run(args.toArray(String[]::new));
                assertEquals(0, r.exitCode(), c.getKey() + ": " + r.err());
                out.put(c.getKey() + " (spec " + spec + ")", r.out());
            }
        }
        return out;
    }

    @Test
    void everyGeneratedConfigPassesIgnitionValidate() throws Exception {
        for (var e : generated().entrySet()) {
            ObjectNode config = Ignition.parse(e.getValue());
            String version = config.path("ignition").path("version").asText();
            if (version.equals("3.4.0")) {
                Validation label = validate(e.getValue());
                assertNotEquals(0, label.code(), e.getKey());
                assertTrue(label.output().contains("unsupported config version"), e.getKey() + ": " + label.output());
                ((ObjectNode) config.get("ignition")).put("version", "3.3.0");
            }
            Validation v = validate(Ignition.write(config));
            assertEquals(0, v.code(), e.getKey() + ": " + v.output());
            assertEquals("", v.output().strip(), e.getKey() + ": no warning either");
        }
    }

    @Test
    void aBrokenConfigFailsTheValidatorSoItReallyRan() throws Exception {
        String good = generated().values().iterator().next();
        ObjectNode config = Ignition.parse(good);
        ((ObjectNode) config.path("storage").path("files").get(0)).put("path", "var/lib/relative");
        Validation v = validate(Ignition.write(config));
        assertNotEquals(0, v.code(), v.output());
        ObjectNode badHash = Ignition.parse(good);
        ((ObjectNode) badHash.path("storage")
                        .path("files")
                        .get(0)
                        .path("contents")
                        .path("verification"))
                .put("hash", "sha512-nothex");
        assertNotEquals(0, validate(Ignition.write(badHash)).code());
    }
}
