package io.corezfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corezfs.archive.store.NodeStore;
import io.corezfs.testing.Cli;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.TarBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * /etc/corezfs/corezfs.conf as the commands see it: its mirrors, mode and build policy apply unless a flag says
 * otherwise, {@code status} shows every effective value with its source, and a broken file stops every command
 * that acts on it with one line (exit 2) while {@code status} still reports.
 */
class NodeConfigCommandsTest {
    static final String NAME = "corezfs_amd64-usr_3975.2.0_stable_zfs-2.1.11.tar.gz";

    @TempDir
    Path tmp;

    Path root;
    Path work;
    Path served;

    @BeforeEach
    void hostAndMirror() throws IOException {
        root = HostRoots.flatcar(tmp.resolve("root")).root();
        work = Files.createDirectories(tmp.resolve("work"));
        served = Files.createDirectories(tmp.resolve("served"));
        TarBuilder.typicalTree().writeTo(served.resolve(NAME));
        assertEquals(0, new Cli(work).run("publish", served.toString()).exitCode());
    }

    private void config(String text) throws IOException {
        Files.createDirectories(root.resolve("etc/corezfs"));
        Files.writeString(root.resolve("etc/corezfs/corezfs.conf"), text);
    }

    private Cli.Run run(String... args) {
        return new Cli(work).run(args);
    }

    @Test
    void statusShowsEachEffectiveValueAndWhereItCameFrom() throws IOException {
        config("# node settings\nMIRRORS=\"" + served.toUri() + " https://zfs.example/corezfs\"\n\nBUILD=never\n");
        Cli.Run r = run("status", "--root", root.toString(), "--json");
        assertEquals(0, r.exitCode(), r::toString);
        JsonNode c = new ObjectMapper().readTree(r.out()).get("config");
        assertEquals(
                served.toUri() + " https://zfs.example/corezfs",
                c.get("MIRRORS").get("value").asText());
        assertEquals(
                "/etc/corezfs/corezfs.conf:2", c.get("MIRRORS").get("source").asText());
        assertEquals("never", c.get("BUILD").get("value").asText());
        assertEquals("/etc/corezfs/corezfs.conf:4", c.get("BUILD").get("source").asText());
        assertEquals("auto", c.get("MODE").get("value").asText());
        assertEquals("default", c.get("MODE").get("source").asText());
        assertEquals("2", c.get("KEEP").get("value").asText());
        assertEquals("60", c.get("BOOT_FETCH_TIMEOUT").get("value").asText());

        Cli.Run text = run("status", "--root", root.toString());
        assertTrue(text.out().contains("Config:    /etc/corezfs/corezfs.conf"), text::toString);
        assertTrue(
                text.out().lines().anyMatch(l -> l.matches("\\s+BUILD\\s+never \\(/etc/corezfs/corezfs.conf:4\\)")),
                text::toString);
    }

    @Test
    void withoutTheFileStatusShowsTheDefaults() throws IOException {
        Cli.Run r = run("status", "--root", root.toString(), "--json");
        JsonNode c = new ObjectMapper().readTree(r.out()).get("config");
        assertEquals(List.of("MIRRORS", "MODE", "BUILD", "KEEP", "BOOT_FETCH_TIMEOUT", "SIGNATURES"), iterable(c));
        c.forEach(v -> assertEquals("default", v.get("source").asText()));
        assertEquals("prepare", c.get("BUILD").get("value").asText());
    }

    private static List<String> iterable(JsonNode n) {
        List<String> out = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"MODE=fast\n", "KEEP=2\nKEEP=3\n", "MIRRORS=http://u:p@host/\n", "oops\n"})
    void aBrokenFileStopsInstallWithOneLineButStatusStillReports(String text) throws IOException {
        config(text);
        Cli.Run install = run(
                "install",
                "--root",
                root.toString(),
                "--archive",
                served.resolve(NAME).toString());
        assertEquals(2, install.exitCode(), install::toString);
        assertEquals(1, install.err().strip().lines().count(), install::toString);
        assertTrue(install.err().contains("/etc/corezfs/corezfs.conf:"), install::toString);
        assertTrue(!Files.exists(root.resolve("opt/corezfs")), "nothing installed");

        Cli.Run status = run("status", "--root", root.toString(), "--json");
        assertEquals(0, status.exitCode(), status::toString);
        JsonNode s = new ObjectMapper().readTree(status.out());
        assertEquals("flatcar", s.get("os").asText(), "the host is still reported");
        assertTrue(s.get("config").get("error").asText().contains("/etc/corezfs/corezfs.conf:"), status::toString);
        Cli.Run human = run("status", "--root", root.toString());
        assertTrue(human.out().contains("is broken"), human::toString);
    }

    @Test
    void installTakesItsMirrorFromTheFile() throws IOException {
        config("MIRRORS=" + served.toUri() + "\n");
        Cli.Run r = run("install", "--root", root.toString(), "--no-build");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(Files.isRegularFile(root.resolve(NodeStore.DIR).resolve(NAME)), "kept for a later rollback");
    }

    @Test
    void aMirrorFlagWinsOverTheFile() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertEquals(0, new Cli(work).run("publish", empty.toString()).exitCode());
        config("MIRRORS=" + served.toUri() + "\n");
        Cli.Run r = run(
                "install",
                "--root",
                root.toString(),
                "--no-build",
                "--mirror",
                empty.toUri().toString());
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(!Files.exists(root.resolve("opt/corezfs")), "the file's mirror was not used");
    }

    @Test
    void buildNeverInTheFileActsAsNoBuildAndSaysWhere() throws IOException {
        config("BUILD=never\n");
        Cli.Run r = run("install", "--root", root.toString());
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(r.err().contains("BUILD=never (/etc/corezfs/corezfs.conf:1)"), r::toString);
    }

    @Test
    void installFindsAnArchivePreparedInTheNodeStore() throws IOException {
        Path store = Files.createDirectories(root.resolve(NodeStore.DIR));
        Files.copy(served.resolve(NAME), store.resolve(NAME));
        Cli.Run r = run("-v", "install", "--root", root.toString(), "--no-build");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.err().contains("in the node store"), r::toString);
    }

    @Test
    void anOfflineInstallIgnoresTheImagesOwnMode() throws IOException {
        config("MODE=sysext\n");
        Cli.Run r = run(
                "install",
                "--root",
                root.toString(),
                "--archive",
                served.resolve(NAME).toString());
        assertEquals(0, r.exitCode(), r::toString);
        Cli.Run flag = run(
                "install",
                "--root",
                root.toString(),
                "--archive",
                served.resolve(NAME).toString(),
                "--mode",
                "sysext");
        assertEquals(2, flag.exitCode(), "but --mode on an offline install is still refused: " + flag);
    }
}
