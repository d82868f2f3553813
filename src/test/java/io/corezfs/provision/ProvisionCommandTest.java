package io.corezfs.provision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.corezfs.host.NodeConfig;
import io.corezfs.testing.Cli;
import io.corezfs.trust.SshKeys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code corezfs provision}: what a fresh node is given, in each of the three formats, and what is refused. */
class ProvisionCommandTest {
    static final String ARCHIVE = "corezfs_amd64-usr_9999.0.0_stable_zfs-2.1.11.tar.gz";
    static final String BUNDLE_URL = "http://10.0.2.100:8080/corezfs-0.1.0-linux-x86_64.tar.gz";
    static final String ARCHIVE_URL = "http://10.0.2.100:8080/archives/" + ARCHIVE;
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @TempDir
    Path dir;

    Cli cli;
    Path bundle;
    Path archive;

    @BeforeEach
    void setUp() throws Exception {
        cli = new Cli(dir);
        bundle = Files.write(dir.resolve("bundle.tar.gz"), "the bundle's bytes".getBytes(StandardCharsets.UTF_8));
        archive = Files.write(dir.resolve(ARCHIVE), "the archive's bytes".getBytes(StandardCharsets.UTF_8));
    }

    static String sha512(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-512").digest(Files.readAllBytes(p)));
    }

    Cli.Run provision(String... args) {
        List<String> all = new ArrayList<>(List.of("provision"));
        all.addAll(List.of(args));
        return cli.run(all.toArray(String[]::new));
    }

    String[] withBundle(String format, String... more) {
        List<String> all = new ArrayList<>(List.of(format, "--bundle-url", BUNDLE_URL, "--bundle", bundle.toString()));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    /** Path → (mode, source or inline text, hash); units name → (enabled, contents): what a format says the node gets. */
    record Node(Map<String, List<Object>> files, Map<String, List<Object>> units) {}

    static Node fromIgnition(JsonNode c) {
        Map<String, List<Object>> files = new LinkedHashMap<>();
        for (JsonNode f : c.path("storage").path("files")) {
            String source = f.path("contents").path("source").asText();
            Optional<String> inline = Ignition.decodeData(source, Optional.empty());
            files.put(
                    f.path("path").asText(),
                    List.of(
                            f.path("mode").asInt(),
                            inline.isPresent() ? "inline:" + inline.get() : "source:" + source,
                            f.path("contents").path("verification").path("hash").asText("")));
        }
        Map<String, List<Object>> units = new LinkedHashMap<>();
        for (JsonNode u : c.path("systemd").path("units")) {
            units.put(
                    u.path("name").asText(),
                    List.of(u.path("enabled").asBoolean(), u.path("contents").asText("")));
        }
        return new Node(files, units);
    }

    static Node fromButane(JsonNode b) {
        Map<String, List<Object>> files = new LinkedHashMap<>();
        for (JsonNode f : b.path("storage").path("files")) {
            JsonNode c = f.path("contents");
            files.put(
                    f.path("path").asText(),
                    List.of(
                            f.path("mode").asInt(),
                            c.has("inline")
                                    ? "inline:" + c.path("inline").asText()
                                    : "source:" + c.path("source").asText(),
                            c.path("verification").path("hash").asText("")));
        }
        Map<String, List<Object>> units = new LinkedHashMap<>();
        for (JsonNode u : b.path("systemd").path("units")) {
            units.put(
                    u.path("name").asText(),
                    List.of(u.path("enabled").asBoolean(), u.path("contents").asText("")));
        }
        return new Node(files, units);
    }

    @Test
    void theIgnitionConfigDownloadsTheBundleAndArchiveVerifiedWritesTheConfigAndEnablesTheBootUnit() throws Exception {
        Cli.Run r = provision(withBundle(
                "ignition",
                "--archive-url",
                ARCHIVE_URL,
                "--archive",
                archive.toString(),
                "--mirror",
                "https://zfs.example.com/corezfs",
                "--build",
                "never",
                "--keep",
                "3"));
        assertEquals(0, r.exitCode(), r.err());
        ObjectNode c = Ignition.parse(r.out());
        assertEquals("3.3.0", c.path("ignition").path("version").asText(), "3.3.0 is the default spec");
        Node n = fromIgnition(c);
        assertEquals(
                List.of(420, "source:" + BUNDLE_URL, "sha512-" + sha512(bundle)),
                n.files().get(Provisioner.BUNDLE),
                "the bundle is downloaded and checked against the sha512 computed from --bundle");
        assertEquals(
                List.of(420, "source:" + ARCHIVE_URL, "sha512-" + sha512(archive)),
                n.files().get("/var/lib/corezfs/archives/" + ARCHIVE),
                "the archive lands in the node store under its own name");
        for (JsonNode f : c.path("storage").path("files")) {
            String source = f.path("contents").path("source").asText();
            assertTrue(
                    source.startsWith("data:")
                            || f.path("contents")
                                    .path("verification")
                                    .path("hash")
                                    .asText()
                                    .startsWith("sha512-"),
                    "every URL carries verification.hash: " + f);
        }
        String conf = (String) n.files().get(NodeConfig.PATH).get(1);
        NodeConfig parsed = NodeConfig.parse(conf.substring("inline:".length()), "test");
        assertEquals(
                "https://zfs.example.com/corezfs",
                parsed.mirrors().value().get(0).toString());
        assertEquals(NodeConfig.BuildPolicy.NEVER, parsed.build().value());
        assertEquals(3, parsed.keep().value());

        assertEquals(true, n.units().get("corezfs-boot.service").get(0), "corezfs-boot.service is enabled");
        String boot = (String) n.units().get("corezfs-boot.service").get(1);
        assertTrue(boot.contains("ExecStart=" + Provisioner.LAUNCHER + " boot"), boot);
        assertTrue(boot.contains("TimeoutStartSec=960"), "BOOT_FETCH_TIMEOUT's default plus the headroom: " + boot);
        assertFalse(boot.contains("@"), "every placeholder is filled: " + boot);
        String unpack = (String) n.units().get(Provisioner.UNPACK_UNIT).get(1);
        assertEquals(true, n.units().get(Provisioner.UNPACK_UNIT).get(0));
        assertTrue(unpack.contains("Before=corezfs-boot.service"), "the tool is unpacked before it runs: " + unpack);
        assertEquals(false, n.units().get("corezfs-boot-late.service").get(0), "the late unit is started, not enabled");
        assertEquals(List.of(true, ""), n.units().get(Provisioner.TIMER), "a mirror lets the prepare timer work");
        String script = (String) n.files().get(Provisioner.UNPACK_SCRIPT).get(1);
        assertTrue(script.contains(sha512(bundle)), "the unpack step checks the bundle again");
    }

    @Test
    void specThreeFourIsWrittenWhenAskedAndOtherSpecsAreRefused() {
        Cli.Run r = provision(withBundle("ignition", "--spec", "3.4.0"));
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(
                "3.4.0",
                Ignition.parse(r.out()).path("ignition").path("version").asText());
        Cli.Run bad = provision(withBundle("ignition", "--spec", "3.5.0"));
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("--spec must be 3.3.0 or 3.4.0"), bad.err());
    }

    @Test
    void withoutAMirrorOrABuildPolicyTheTimerIsLeftToTheArchivesPreset() {
        Cli.Run r = provision(withBundle(
                "ignition", "--archive-url", ARCHIVE_URL, "--archive", archive.toString(), "--build", "never"));
        assertEquals(0, r.exitCode(), r.err());
        assertFalse(fromIgnition(Ignition.parse(r.out())).units().containsKey(Provisioner.TIMER));
    }

    @Test
    void butaneDescribesExactlyTheSameFilesAndUnitsAsIgnitionFieldByField() throws Exception {
        Files.writeString(
                dir.resolve(ARCHIVE + ".sig"), "-----BEGIN SSH SIGNATURE-----\nabc\n-----END SSH SIGNATURE-----\n");
        Path keys = trustFile();
        for (String[] spec : new String[][] {{"3.3.0", "1.0.0"}, {"3.4.0", "1.1.0"}}) {
            String[] common = {
                "--archive-url",
                ARCHIVE_URL,
                "--archive",
                archive.toString(),
                "--mirror",
                "http://mirror.example.com/zfs",
                "--mode",
                "sysext",
                "--trust",
                keys.toString(),
                "--spec",
                spec[0]
            };
            Cli.Run ign = provision(withBundle("ignition", common));
            Cli.Run but = provision(withBundle("butane", common));
            assertEquals(0, ign.exitCode(), ign.err());
            assertEquals(0, but.exitCode(), but.err());
            JsonNode b = YAML.readTree(but.out());
            assertEquals("flatcar", b.path("variant").asText());
            assertEquals(spec[1], b.path("version").asText());
            Node fromIgn = fromIgnition(Ignition.parse(ign.out()));
            Node fromBut = fromButane(b);
            assertEquals(fromIgn.files().keySet(), fromBut.files().keySet());
            for (String path : fromIgn.files().keySet()) {
                assertEquals(fromIgn.files().get(path), fromBut.files().get(path), path);
            }
            assertEquals(fromIgn.units(), fromBut.units());
            assertTrue(fromIgn.files().containsKey("/etc/corezfs/trusted-keys"), "--trust reaches the node");
            assertTrue(fromIgn.files().containsKey("/var/lib/corezfs/archives/" + ARCHIVE + ".sig"));
        }
    }

    @Test
    void theCloudConfigDownloadsInAOneshotAndChecksEverySha512BeforeUnpacking() throws Exception {
        Cli.Run r = provision(withBundle(
                "cloud-config",
                "--archive-url",
                ARCHIVE_URL,
                "--archive",
                archive.toString(),
                "--trust",
                trustFile().toString(),
                "--archive-sha512",
                "x"));
        assertEquals(2, r.exitCode(), "--archive and --archive-sha512 are one or the other: " + r.err());

        Files.writeString(dir.resolve(ARCHIVE + ".sig"), "sig\n");
        r = provision(withBundle(
                "cloud-config",
                "--archive-url",
                ARCHIVE_URL,
                "--archive",
                archive.toString(),
                "--trust",
                trustFile().toString()));
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().startsWith("#cloud-config\n"), r.out());
        JsonNode c = YAML.readTree(r.out());
        Map<String, String> written = new LinkedHashMap<>();
        for (JsonNode f : c.path("write_files")) {
            written.put(f.path("path").asText(), f.path("content").asText());
            assertTrue(f.path("permissions").asText().matches("0[0-7]{3}"), f.toString());
        }
        assertTrue(written.containsKey(NodeConfig.PATH));
        assertTrue(written.containsKey("/etc/corezfs/trusted-keys"));
        String fetch = written.get(CloudConfig.FETCH_SCRIPT);
        assertTrue(fetch.contains("fetch '" + Provisioner.BUNDLE + "' '" + BUNDLE_URL + "' " + sha512(bundle)), fetch);
        assertTrue(
                fetch.contains(
                        "fetch '/var/lib/corezfs/archives/" + ARCHIVE + "' '" + ARCHIVE_URL + "' " + sha512(archive)),
                fetch);
        assertTrue(
                fetch.indexOf("fetch '") < fetch.indexOf("exec /bin/sh " + Provisioner.UNPACK_SCRIPT),
                "nothing is unpacked before every file is checked");
        List<String> started = new ArrayList<>();
        Map<String, Boolean> enabled = new LinkedHashMap<>();
        for (JsonNode u : c.path("coreos").path("units")) {
            if (u.path("command").asText().equals("start")) {
                started.add(u.path("name").asText());
            }
            enabled.put(u.path("name").asText(), u.path("enable").asBoolean());
        }
        assertEquals(List.of(CloudConfig.FETCH_UNIT), started);
        assertEquals(true, enabled.get("corezfs-boot.service"), "later boots reconcile like any node");
        // The same files as the Ignition output: inline ones written, downloaded ones fetched.
        Node ign = fromIgnition(Ignition.parse(provision(withBundle(
                        "ignition",
                        "--archive-url",
                        ARCHIVE_URL,
                        "--archive",
                        archive.toString(),
                        "--trust",
                        trustFile().toString()))
                .out()));
        for (var e : ign.files().entrySet()) {
            String how = (String) e.getValue().get(1);
            if (how.startsWith("inline:")) {
                assertEquals(how.substring(7), written.get(e.getKey()), e.getKey());
            } else {
                assertTrue(
                        fetch.contains("fetch '" + e.getKey() + "' '" + how.substring(7) + "' "
                                + e.getValue().get(2).toString().substring(7)),
                        e.getKey());
            }
        }
    }

    @Test
    void theHashesGivenAreUsedAsTheyAre() {
        String hex = "ab".repeat(64);
        Cli.Run r = provision("ignition", "--bundle-url", BUNDLE_URL, "--bundle-sha512", hex);
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(
                "sha512-" + hex,
                fromIgnition(Ignition.parse(r.out()))
                        .files()
                        .get(Provisioner.BUNDLE)
                        .get(2));
    }

    @Test
    void outputGoesToTheFileNamedWithDashO() throws Exception {
        Path out = dir.resolve("node.ign");
        Cli.Run r = provision(withBundle("ignition", "-o", out.toString()));
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("", r.out());
        assertEquals(
                "3.3.0",
                Ignition.parse(Files.readString(out))
                        .path("ignition")
                        .path("version")
                        .asText());
    }

    @Test
    void badInputIsOneLineAndExitTwo() throws Exception {
        String hex = "ab".repeat(64);
        Files.writeString(dir.resolve("empty-keys"), "# nobody\n");
        List<List<String>> cases = List.of(
                List.of("ignition", "--bundle-sha512", hex),
                List.of("ignition", "--bundle-url", BUNDLE_URL),
                List.of("ignition", "--bundle-url", BUNDLE_URL, "--bundle-sha512", hex, "--bundle", bundle.toString()),
                List.of("ignition", "--bundle-url", BUNDLE_URL, "--bundle-sha512", "ABC"),
                List.of("ignition", "--bundle-url", "ftp://x/y", "--bundle-sha512", hex),
                List.of("json", "--bundle-url", BUNDLE_URL, "--bundle-sha512", hex),
                List.of(
                        "ignition",
                        "--bundle-url",
                        BUNDLE_URL,
                        "--bundle-sha512",
                        hex,
                        "--archive-url",
                        "http://h/not-an-archive.tar.gz",
                        "--archive-sha512",
                        hex),
                List.of("ignition", "--bundle-url", BUNDLE_URL, "--bundle-sha512", hex, "--archive-url", ARCHIVE_URL),
                List.of("ignition", "--bundle-url", BUNDLE_URL, "--bundle-sha512", hex, "--build", "always"),
                List.of("ignition", "--bundle-url", BUNDLE_URL, "--bundle-sha512", hex, "--mode", "both"),
                List.of("ignition", "--bundle-url", BUNDLE_URL, "--bundle-sha512", hex, "--keep", "0"),
                List.of("ignition", "--bundle-url", BUNDLE_URL, "--bundle-sha512", hex, "--mirror", "gopher://x"),
                List.of(
                        "ignition",
                        "--bundle-url",
                        BUNDLE_URL,
                        "--bundle-sha512",
                        hex,
                        "--trust",
                        dir.resolve("empty-keys").toString()),
                List.of(
                        "ignition",
                        "--bundle-url",
                        BUNDLE_URL,
                        "--bundle-sha512",
                        hex,
                        "--trust",
                        trustFile().toString(),
                        "--archive-url",
                        ARCHIVE_URL,
                        "--archive-sha512",
                        hex),
                List.of("butane", "--bundle-url", BUNDLE_URL, "--bundle-sha512", hex, "--merge", bundle.toString()),
                List.of(
                        "ignition",
                        "--bundle-url",
                        BUNDLE_URL,
                        "--bundle",
                        dir.resolve("missing").toString()));
        for (List<String> args : cases) {
            Cli.Run r = provision(args.toArray(String[]::new));
            assertEquals(2, r.exitCode(), args + ": " + r.err());
            assertEquals(
                    1,
                    r.err()
                            .strip()
                            .lines()
                            .filter(l -> !l.startsWith("Did you mean"))
                            .count(),
                    args + ": " + r.err());
            assertEquals("", r.out(), args.toString());
        }
    }

    @Test
    void mergeAddsToAnExistingConfigAndKeepsEverythingInIt() throws Exception {
        Path existing = Files.writeString(dir.resolve("node.ign"), """
                {"ignition": {"version": "3.4.0"},
                 "passwd": {"users": [{"name": "core", "sshAuthorizedKeys": ["ssh-ed25519 AAAA"]}]},
                 "storage": {"files": [{"path": "/etc/hostname", "mode": 420, "contents": {"source": "data:,node1"}}]},
                 "systemd": {"units": [{"name": "docker.service", "enabled": true}]}}
                """);
        Cli.Run r = provision(withBundle("ignition", "--merge", existing.toString()));
        assertEquals(0, r.exitCode(), r.err());
        ObjectNode m = Ignition.parse(r.out());
        assertEquals("3.4.0", m.path("ignition").path("version").asText(), "the newer of the two specs");
        assertEquals("core", m.path("passwd").path("users").path(0).path("name").asText());
        Node n = fromIgnition(m);
        assertTrue(n.files().containsKey("/etc/hostname"));
        assertTrue(n.files().containsKey(Provisioner.BUNDLE));
        assertTrue(n.units().containsKey("docker.service"));
        assertTrue(n.units().containsKey("corezfs-boot.service"));
    }

    @Test
    void mergeRefusesAPathOrUnitBothDefineAndNamesIt() throws Exception {
        Path samePath = Files.writeString(dir.resolve("a.ign"), """
                {"ignition": {"version": "3.3.0"},
                 "storage": {"files": [{"path": "/etc/corezfs/corezfs.conf", "contents": {"source": "data:,"}}]}}
                """);
        Cli.Run r = provision(withBundle("ignition", "--merge", samePath.toString()));
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("/etc/corezfs/corezfs.conf"), r.err());
        Path sameUnit = Files.writeString(dir.resolve("b.ign"), """
                {"ignition": {"version": "3.3.0"},
                 "systemd": {"units": [{"name": "corezfs-boot.service", "enabled": false}]}}
                """);
        r = provision(withBundle("ignition", "--merge", sameUnit.toString()));
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("corezfs-boot.service"), r.err());
        Path old = Files.writeString(dir.resolve("c.ign"), "{\"ignition\": {\"version\": \"2.3.0\"}}");
        r = provision(withBundle("ignition", "--merge", old.toString()));
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("only spec 3.0.0 to 3.4.0"), r.err());
        Path dup =
                Files.writeString(dir.resolve("d.ign"), "{\"ignition\": {\"version\": \"3.3.0\"}, \"ignition\": {}}");
        r = provision(withBundle("ignition", "--merge", dup.toString()));
        assertEquals(2, r.exitCode(), "a duplicate key is not guessed at: " + r.err());
    }

    @Test
    void mergeRefusesAConfigThatEnablesFlatcarsOwnZfsExtension() throws Exception {
        for (String storage : List.of(
                "{\"files\": [{\"path\": \"/etc/flatcar/enabled-sysext.conf\", \"contents\": {\"source\":"
                        + " \"data:,podman%0Azfs%0A\"}}]}",
                "{\"files\": [{\"path\": \"/etc/flatcar/enabled-sysext.conf\", \"contents\": {\"source\":"
                        + " \"data:;base64,enZzCg==\"}}]}",
                "{\"links\": [{\"path\": \"/etc/extensions/flatcar-zfs.raw\", \"target\":"
                        + " \"/usr/share/flatcar/sysext/flatcar-zfs.raw\"}]}")) {
            Path cfg = Files.writeString(
                    dir.resolve("z.ign"), "{\"ignition\": {\"version\": \"3.3.0\"}, \"storage\": " + storage + "}");
            Cli.Run r = provision(withBundle("ignition", "--merge", cfg.toString()));
            if (storage.contains("enZzCg")) {
                // "zvs": another extension, not zfs.
                assertEquals(0, r.exitCode(), r.err());
                continue;
            }
            assertEquals(3, r.exitCode(), storage + ": " + r.err());
            assertTrue(r.err().contains("Flatcar's own zfs extension"), r.err());
        }
    }

    @Test
    void helpTeachesTheCommand() {
        Cli.Run r = provision("--help");
        assertEquals(0, r.exitCode());
        for (String s : List.of("--bundle-url", "--archive-url", "--merge", "--trust", "3185.0.0", "Examples:")) {
            assertTrue(r.out().contains(s), s + " in:\n" + r.out());
        }
    }

    Path trustFile() throws Exception {
        byte[] raw = new byte[32];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) (i + 1);
        }
        return Files.writeString(
                dir.resolve("trusted-keys"), "builds@example.com " + new SshKeys.PublicKey(raw).text() + "\n");
    }

    static Stream<String> formats() {
        return Stream.of("ignition", "butane", "cloud-config");
    }
}
