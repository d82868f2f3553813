package io.corezfs.cli;

import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * Options every command takes, at any level of the command line. The root command declares them; picocli copies them
 * onto every subcommand and binds each copy to this one object, so {@code corezfs -v status -v} counts two.
 */
public final class GlobalOptions {
    /** How many times -v was given, on every level together. */
    int verbose;

    /**
     * picocli starts each level's array afresh and passes it here once per -v, so counting the calls, not keeping the
     * last array, is what adds the levels up.
     */
    @Option(
            scope = ScopeType.INHERIT,
            names = {"-v", "--verbose"},
            description = "More detail on stderr; repeat for debug logs (-vv).")
    void verbose(boolean[] given) {
        verbose++;
    }

    @Option(
            scope = ScopeType.INHERIT,
            names = {"-q", "--quiet"},
            description = "Only errors on stderr.")
    boolean quiet;

    @Option(
            scope = ScopeType.INHERIT,
            names = "--no-color",
            description = "No ANSI colours (also when NO_COLOR is set).")
    boolean noColor;
}
