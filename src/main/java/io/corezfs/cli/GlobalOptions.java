package io.corezfs.cli;

import picocli.CommandLine.Option;

/** Options every command takes, at any level of the command line. */
public final class GlobalOptions {
    @Option(names = {"-v", "--verbose"}, description = "More detail on stderr; repeat for debug logs (-vv).")
    boolean[] verbose = new boolean[0];

    @Option(names = {"-q", "--quiet"}, description = "Only errors on stderr.")
    boolean quiet;

    @Option(names = "--no-color", description = "No ANSI colours (also when NO_COLOR is set).")
    boolean noColor;
}
