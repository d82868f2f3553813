package io.corezfs.cli;

import java.util.List;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Which commands a command line must hold for picocli to treat {@code args} exactly as with all of them: only the one
 * named, when the arguments before its name are plain flags of the root command; none, when they are flags that ask
 * for the version only; all of them otherwise. Help, an unknown name (picocli suggests the nearest ones), a missing
 * command (the usage lists them), "--", an "@file" and anything this scan does not understand all fall back to every
 * command, so a shortcut is only taken where the output cannot depend on the commands left out.
 */
final class CommandChoice {
    private CommandChoice() {}

    static List<Class<? extends BaseCommand>> needed(
            CommandSpec root, List<Class<? extends BaseCommand>> all, String[] args) {
        boolean versionOnly = false;
        for (String arg : args) {
            if (arg.length() > 1 && arg.startsWith("-") && !arg.equals("--")) {
                Flag flag = flag(root, arg);
                if (flag == Flag.UNKNOWN) {
                    return all;
                }
                versionOnly |= flag == Flag.VERSION;
                continue;
            }
            for (Class<? extends BaseCommand> command : all) {
                if (names(command).contains(arg)) {
                    return List.of(command);
                }
            }
            return all;
        }
        return versionOnly ? List.of() : all;
    }

    private enum Flag {
        PLAIN,
        VERSION,
        UNKNOWN
    }

    /** What {@code arg} is to the root command: a flag on its own or a cluster of single-letter ones. */
    private static Flag flag(CommandSpec root, String arg) {
        OptionSpec named = root.optionsMap().get(arg);
        if (named != null) {
            return kind(named);
        }
        if (arg.startsWith("--")) {
            return Flag.UNKNOWN;
        }
        Flag cluster = Flag.PLAIN;
        for (char c : arg.substring(1).toCharArray()) {
            Flag one = kind(root.posixOptionsMap().get(c));
            if (one == Flag.UNKNOWN) {
                return Flag.UNKNOWN;
            }
            if (one == Flag.VERSION) {
                cluster = Flag.VERSION;
            }
        }
        return cluster;
    }

    private static Flag kind(OptionSpec option) {
        if (option == null || option.arity().max() != 0 || option.usageHelp()) {
            return Flag.UNKNOWN;
        }
        return option.versionHelp() ? Flag.VERSION : Flag.PLAIN;
    }

    private static List<String> names(Class<?> command) {
        Command c = command.getAnnotation(Command.class);
        return c == null
                ? List.of()
                : Stream.concat(Stream.of(c.name()), Stream.of(c.aliases())).toList();
    }
}
