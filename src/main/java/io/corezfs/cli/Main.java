package io.corezfs.cli;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.archive.ArchiveLimits;
import io.corezfs.devcontainer.DevContainerImages;
import io.corezfs.devcontainer.DevImages;
import io.corezfs.docker.DockerJavaEngine;
import io.corezfs.host.Environment;
import io.corezfs.install.FileOps;
import io.corezfs.system.HostCommands;
import io.corezfs.system.LiveSystem;
import io.corezfs.system.LocalProcessRunner;
import io.corezfs.system.ProcessRunner;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.lang.reflect.Constructor;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** Entry point: builds the real {@link Context} and the command line, maps failures to exit codes. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        if (printedVersion(args, System.out)) {
            System.exit(ExitCode.OK.code());
        }
        Environment env = Environment.system();
        // The one runner every host program goes through: flushes, live activation, the image import.
        ProcessRunner processes = new LocalProcessRunner();
        Context ctx = new Context(
                env,
                FileOps.atomic(processes),
                ArchiveLimits.DEFAULT,
                Path.of("").toAbsolutePath(),
                toolVersion(),
                () -> DockerJavaEngine.fromEnvironment(env.getenv("DOCKER_HOST")),
                devImages(processes),
                new Context.Live(
                        Path.of("/"),
                        LiveSystem.over(processes),
                        Optional.ofNullable(System.getProperty("corezfs.home")).map(h -> Path.of(h, "bin", "corezfs"))),
                io.corezfs.fleet.JschSsh::new);
        System.exit(commandLine(ctx, args).execute(args));
    }

    /**
     * {@code corezfs --version} (or {@code -V}) alone is answered before any command model or context is built: boot
     * hooks, fleet probes and scripts ask it to know which tool they have, and it then costs little more than the JVM's
     * own start (BENCHMARKS.md, "Start-up"). The text is the command line's own ({@link VersionProvider}); any other
     * argument goes the normal way.
     */
    static boolean printedVersion(String[] args, java.io.PrintStream out) {
        if (args.length != 1 || !(args[0].equals("--version") || args[0].equals("-V"))) {
            return false;
        }
        for (String line : new VersionProvider().getVersion()) {
            out.println(line);
        }
        out.flush();
        return true;
    }

    /** The real way to developer images: download, verify, import through the host's mount and tar. */
    public static DevImages.Factory devImages(ProcessRunner processes) {
        return (docker, cache, reporter, downloader) ->
                new DevContainerImages(docker, downloader, HostCommands.over(processes), cache, reporter);
    }

    /** The fully wired command line with every command: for help, completion and anything that walks the tree. */
    public static CommandLine commandLine(Context ctx) {
        return commandLine(ctx, root -> CorezfsCommand.COMMANDS);
    }

    /**
     * The command line to run {@code args} with: the same as {@link #commandLine(Context)} for everything {@code args}
     * can show, but with only the command they name, as building the model of every command costs more than most
     * commands take to run.
     */
    public static CommandLine commandLine(Context ctx, String... args) {
        return commandLine(ctx, root -> CommandChoice.needed(root, CorezfsCommand.COMMANDS, args));
    }

    private static CommandLine commandLine(
            Context ctx, Function<CommandSpec, List<Class<? extends BaseCommand>>> commands) {
        CommandLine cl = new CommandLine(CorezfsCommand.class, new Factory(ctx));
        // Added before the settings below, which apply to the commands present when they are set.
        for (Class<? extends BaseCommand> command : commands.apply(cl.getCommandSpec())) {
            cl.addSubcommand(command);
        }
        cl.setExecutionExceptionHandler(Main::handle);
        cl.setParameterExceptionHandler(Main::usage);
        cl.setExecutionStrategy(parseResult -> {
            configure(parseResult, ctx);
            return new CommandLine.RunLast().execute(parseResult);
        });
        return cl;
    }

    private static void configure(CommandLine.ParseResult pr, Context ctx) {
        GlobalOptions global = ((CorezfsCommand) pr.commandSpec().root().userObject()).global;
        boolean noColor = global.noColor || ctx.env().getenv("NO_COLOR").isPresent();
        if (noColor) {
            for (CommandLine.ParseResult p = pr; p != null; p = p.subcommand()) {
                p.commandSpec()
                        .commandLine()
                        .setColorScheme(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
            }
        }
        int verbose = global.verbose;
        // slf4j-simple reads these once, when the first logger is created; loggers are created after parsing.
        String level = global.quiet ? "error" : verbose >= 2 ? "debug" : verbose == 1 ? "info" : "warn";
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level);
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    }

    /** A usage error is one line that names the option and where help is, not a page of help. */
    private static int usage(CommandLine.ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        PrintWriter err = cl.getErr();
        String msg = ex.getMessage() == null
                ? ex.toString()
                : ex.getMessage().strip().replaceAll("\\s*[\\r\\n]+\\s*", "; ");
        err.println("corezfs: " + msg + " (see '" + cl.getCommandSpec().qualifiedName() + " --help')");
        // A mistyped command or option still gets picocli's "Did you mean" line: one line of error, one of help.
        CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
        err.flush();
        return ExitCode.USAGE.code();
    }

    private static int handle(Exception ex, CommandLine cl, CommandLine.ParseResult pr) {
        PrintWriter err = cl.getErr();
        if (ex instanceof CorezfsException c) {
            err.println("corezfs: " + c.getMessage());
            err.flush();
            return c.exitCode().code();
        }
        err.println("corezfs: unexpected error: " + ex);
        if (cl.getCommand() instanceof BaseCommand b && b.verbosity() > 0) {
            ex.printStackTrace(err);
        } else {
            err.println("corezfs: run again with -v for the stack trace");
        }
        err.flush();
        return ExitCode.UNEXPECTED.code();
    }

    static String toolVersion() {
        try (InputStream in = Main.class.getResourceAsStream("/io/corezfs/version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "dev");
        } catch (IOException e) {
            return "dev";
        }
    }

    /** Creates commands with the context when they take one, else as picocli would. */
    private record Factory(Context ctx) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> cls) throws Exception {
            try {
                Constructor<K> c = cls.getDeclaredConstructor(Context.class);
                return c.newInstance(ctx);
            } catch (NoSuchMethodException e) {
                return CommandLine.defaultFactory().create(cls);
            }
        }
    }
}
