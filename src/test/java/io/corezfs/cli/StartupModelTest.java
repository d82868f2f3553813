package io.corezfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.archive.ArchiveLimits;
import io.corezfs.host.Environment;
import io.corezfs.install.FileOps;
import io.corezfs.testing.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * A run builds only the command it names, yet says exactly what the whole command line would; and the global
 * options, declared once with inherited scope, count wherever they are given.
 */
class StartupModelTest {
    @TempDir
    Path tmp;

    private static final Set<String> ALL = CorezfsCommand.COMMANDS.stream()
            .map(c -> c.getAnnotation(Command.class).name())
            .collect(Collectors.toSet());

    @Test
    void helpStillListsEveryCommand() {
        Cli.Run r = new Cli(tmp).run("--help");
        assertEquals(0, r.exitCode(), r::toString);
        String commands = r.out().substring(r.out().indexOf("Commands:"));
        for (String name : ALL) {
            assertTrue(commands.contains("\n  " + name + " "), name + " missing from\n" + r.out());
        }
        assertEquals(new Cli(tmp).everyCommand().run("--help").toString(), r.toString());
    }

    @Test
    void anUnknownCommandGivesTheSameErrorAndSuggestions() {
        Cli.Run r = new Cli(tmp).run("stats");
        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains("Unmatched argument at index 0: 'stats'"), r::toString);
        assertTrue(r.err().contains("Did you mean: corezfs status"), r::toString);
        assertEquals(new Cli(tmp).everyCommand().run("stats").toString(), r.toString());
    }

    /** Whatever the arguments, the reply is the whole command line's, word for word and with its exit code. */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "--help",
                "-h",
                "--version",
                "-V",
                "-qv --version",
                "-vV",
                "bogus",
                "-v bogus",
                "--bogus",
                "-x",
                "-vx",
                "--",
                "-- status",
                "-",
                "@no-such-file",
                "--help status",
                "--version status",
                "--version bogus",
                "--verbose=true status",
                "status --help",
                "-v status -h",
                "--no-color status --bogus",
                "status bogus",
                "status --version",
                "archive",
                "archive --help",
                "archive paxk",
                "archive pack",
                "archive pack --help",
                "archive verify",
                "archive list --help",
                "install --help",
                "install --archive",
                "uninstall --help",
                "publish",
                "publish --help",
                "build --help",
                "help",
                "help status",
                "STATUS",
                "-q archive verify no-such.tar.gz",
                "-vv archive verify no-such.tar.gz"
            })
    void repliesAsTheWholeCommandLineWould(String line) {
        String[] args = line.isEmpty() ? new String[0] : line.split(" ");
        assertEquals(
                new Cli(tmp).everyCommand().run(args).toString(),
                new Cli(tmp).run(args).toString(),
                line);
    }

    @Test
    void theVersionAloneIsAnsweredBeforeAnyModelIsBuiltAndReadsTheSame() {
        for (String flag : new String[] {"--version", "-V"}) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            assertTrue(Main.printedVersion(new String[] {flag}, new java.io.PrintStream(out, true)), flag);
            Cli.Run full = new Cli(tmp).everyCommand().run(flag);
            assertEquals(0, full.exitCode());
            assertEquals(full.out(), out.toString(), flag);
        }
        for (String[] other : new String[][] {{}, {"-v", "--version"}, {"--version", "status"}, {"-vV"}, {"status"}}) {
            assertFalse(
                    Main.printedVersion(other, new java.io.PrintStream(new java.io.ByteArrayOutputStream())),
                    String.join(" ", other));
        }
    }

    @Test
    void onlyTheNamedCommandIsBuilt() {
        assertEquals(Set.of("status"), built("status", "--json"));
        assertEquals(Set.of("archive"), built("-v", "--no-color", "-qv", "archive", "list", "--help"));
        assertEquals(Set.of(), built("--version"), "the version needs no command");
        assertEquals(Set.of(), built("-vV"));
        for (String[] args : new String[][] {
            {}, {"-v"}, {"--help"}, {"-hv"}, {"bogus"}, {"--bogus"}, {"--"}, {"@file"}, {"--verbose=true", "status"}
        }) {
            assertEquals(ALL, built(args), String.join(" ", args));
        }
    }

    @Test
    void globalOptionsAddUpAcrossLevels() {
        CommandLine cl = Main.commandLine(context(), "-v", "archive", "-v", "list", "-v", "--no-color");
        CommandLine.ParseResult pr = cl.parseArgs("-v", "archive", "-v", "list", "-v", "--no-color");
        BaseCommand list =
                (BaseCommand) pr.subcommand().subcommand().commandSpec().userObject();
        assertEquals(3, list.verbosity());
        assertTrue(list.global().noColor);

        CommandLine quiet = Main.commandLine(context(), "status", "-vv", "-q");
        quiet.parseArgs("status", "-vv", "-q");
        assertEquals(-1, ((BaseCommand) quiet.getSubcommands().get("status").getCommand()).verbosity());
    }

    @Test
    void aGlobalOptionAfterTheCommandStillReachesTheRoot() throws Exception {
        Files.createDirectories(tmp.resolve("root"));
        // An unexpected error prints its stack trace only when verbose: -v after the command name counts.
        CommandLine cl = Main.commandLine(context(), "status", "-v");
        cl.parseArgs("status", "-v");
        assertEquals(1, ((CorezfsCommand) cl.getCommand()).verbosity());
    }

    private Set<String> built(String... args) {
        return Main.commandLine(context(), args).getSubcommands().keySet();
    }

    private Context context() {
        return new Context(
                Environment.of(Map.of(), "x86_64", Clock.fixed(Instant.parse("2026-11-25T00:00:00Z"), ZoneOffset.UTC)),
                FileOps.DEFAULT,
                ArchiveLimits.DEFAULT,
                tmp,
                "0.0.0-test");
    }
}
