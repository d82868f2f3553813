package io.corezfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.testing.Cli;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The command line's contract: help that teaches, version, usage errors and the exit-code table. */
class CommandLineTest {
    @TempDir
    Path tmp;

    @Test
    void versionPrintsTheToolVersion() {
        Cli.Run r = new Cli(tmp).run("--version");
        assertEquals(0, r.exitCode());
        assertTrue(r.out().startsWith("corezfs "), r::toString);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "status",
                "archive",
                "archive pack",
                "archive verify",
                "archive list",
                "install",
                "uninstall",
                "publish",
                "build",
                "boot"
            })
    void everyHelpEndsWithARealExample(String command) {
        String[] args = (command.isEmpty() ? "--help" : command + " --help").split(" ");
        Cli.Run r = new Cli(tmp).run(args);
        assertEquals(0, r.exitCode(), r::toString);
        String help = r.out().strip();
        String last = help.substring(help.lastIndexOf("Example:"));
        assertTrue(
                last.lines()
                        .skip(1)
                        .allMatch(l -> l.startsWith("  corezfs ")
                                || l.startsWith("  sudo corezfs ")
                                || l.startsWith("      ")),
                help);
        assertTrue(help.lines().allMatch(l -> l.length() <= 80), "fits 80 columns: " + help);
        assertTrue(
                help.contains("--no-color") && help.contains("--verbose") && help.contains("--quiet"),
                "global options are on every command: " + help);
    }

    @Test
    void topLevelHelpListsExitCodes() {
        String help = new Cli(tmp).run("--help").out();
        assertTrue(help.contains("4   archive invalid or unsafe"), help);
        assertTrue(help.contains("5   verification failed"), help);
    }

    @Test
    void missingCommandIsAUsageError() {
        Cli.Run r = new Cli(tmp).run();
        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains("a command is required"), r::toString);
        assertEquals(2, new Cli(tmp).run("archive").exitCode());
    }

    @Test
    void unknownOptionIsAUsageError() {
        Cli.Run r = new Cli(tmp).run("status", "--bogus");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("Unknown option: '--bogus'"), r::toString);
    }

    @Test
    void packNeedsAZfsVersionAndOneOutput() {
        assertEquals(2, new Cli(tmp).run("archive", "pack", "tree").exitCode());
        assertEquals(
                2,
                new Cli(tmp)
                        .run("archive", "pack", "tree", "--zfs-version", "2.1.11", "-o", "a", "--archive-dir", "b")
                        .exitCode());
        Cli.Run r = new Cli(tmp).run("archive", "pack", "tree", "--zfs-version", "../x");
        assertEquals(2, r.exitCode(), r::toString);
    }

    @Test
    void quietSilencesWarningsButNotErrors() throws java.io.IOException {
        java.nio.file.Files.writeString(tmp.resolve("x.tar.gz"), "");
        Cli.Run r = new Cli(tmp).run("-q", "install", "--archive", "x.tar.gz");
        assertEquals(3, r.exitCode());
        assertFalse(r.err().isEmpty());
    }

    @Test
    void globalOptionsWorkAtEveryLevel() {
        assertEquals(
                0,
                new Cli(tmp)
                                        .run(
                                                "-v",
                                                "archive",
                                                "--no-color",
                                                "list",
                                                "-q",
                                                "--kernel",
                                                "1.0",
                                                "--root",
                                                tmp.toString(),
                                                "--archive-dir",
                                                tmp.toString())
                                        .exitCode()
                                == 3
                        ? 0
                        : 1,
                "parses; fails only on the missing OS files");
    }
}
