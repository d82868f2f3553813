package io.corezfs.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NodeConfigTest {
    @Test
    void aNodeWithoutTheFileRunsOnSafeDefaults(@TempDir Path root) {
        NodeConfig c = NodeConfig.load(new RootFs(root));

        assertEquals(List.of(), c.mirrors().value());
        assertEquals("auto", c.mode().value());
        assertEquals(NodeConfig.BuildPolicy.PREPARE, c.build().value());
        assertEquals(2, c.keep().value());
        assertEquals(Duration.ofSeconds(60), c.bootFetchTimeout().value());
        c.all().forEach(s -> assertEquals("default", s.source(), s.key()));
    }

    @Test
    void eachValueInTheFileSaysWhichLineSetIt(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("etc/corezfs"));
        Files.writeString(root.resolve("etc/corezfs/corezfs.conf"), """
                # corezfs on this node
                MIRRORS="https://zfs.example.com/corezfs  file:///var/mnt/archives"
                MODE=sysext
                BUILD=boot

                KEEP=3
                BOOT_FETCH_TIMEOUT=0
                """);

        NodeConfig c = NodeConfig.load(new RootFs(root));

        assertEquals(
                List.of(URI.create("https://zfs.example.com/corezfs"), URI.create("file:///var/mnt/archives")),
                c.mirrors().value());
        assertEquals("/etc/corezfs/corezfs.conf:2", c.mirrors().source());
        assertEquals("sysext", c.mode().value());
        assertEquals(NodeConfig.BuildPolicy.BOOT, c.build().value());
        assertEquals(3, c.keep().value());
        assertEquals("/etc/corezfs/corezfs.conf:6", c.keep().source());
        assertEquals(Duration.ZERO, c.bootFetchTimeout().value());
        assertEquals(
                "https://zfs.example.com/corezfs file:///var/mnt/archives",
                c.mirrors().display());
    }

    @Test
    void aFlagWinsOverTheFileAndSaysSo() {
        NodeConfig c = NodeConfig.parse("MODE=overlay\n", "corezfs.conf");

        assertEquals("overlay", c.mode().or(Optional.empty(), "--mode").value());
        NodeConfig.Setting<String> flagged = c.mode().or(Optional.of("sysext"), "--mode");
        assertEquals("sysext", flagged.value());
        assertEquals("--mode", flagged.source());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "MIRRORS=ftp://example.com/x",
                "MIRRORS=https://user:pw@example.com/x",
                "MIRRORS=https://example.com/x?token=1",
                "MIRRORS=file:relative/dir",
                "MIRRORS=file://host/dir",
                "MIRRORS=https:///nohost",
                "MIRRORS=not a url at all ::",
                "MODE=Overlay",
                "MODE=",
                "BUILD=always",
                "KEEP=0",
                "KEEP=-1",
                "KEEP=101",
                "KEEP=2.5",
                "KEEP=99999999999999999999",
                "BOOT_FETCH_TIMEOUT=3601",
                "BOOT_FETCH_TIMEOUT=1m",
                "SIGNATURES=required",
                "SIGNATURES=",
                "SIGNATURE=require",
                "SIGNATURES=Require",
                "mode=auto",
                "MODE",
                "MODE=\"auto",
            })
    void anyBadLineIsRefusedNamingTheFileAndLine(String text) {
        CorezfsException e =
                assertThrows(CorezfsException.class, () -> NodeConfig.parse("# header\n" + text + "\n", "c.conf"));

        assertTrue(e.exitCode() == ExitCode.USAGE, e.exitCode() + " " + e.getMessage());
        assertTrue(e.getMessage().startsWith("c.conf:2"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    @Test
    void aKeySetTwiceIsRefusedAtItsSecondLine() {
        CorezfsException e =
                assertThrows(CorezfsException.class, () -> NodeConfig.parse("KEEP=2\n# more\nKEEP=5\n", "c.conf"));

        assertEquals(ExitCode.USAGE, e.exitCode());
        assertEquals("c.conf:3: KEEP is set twice (first on line 1)", e.getMessage());
    }
}
