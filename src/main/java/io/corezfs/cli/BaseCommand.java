package io.corezfs.cli;

import io.corezfs.Reporter;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** What every command shares: the global options, the context, and output through picocli's writers. */
// An empty @Command: the annotation processor accepts @Spec only inside one. Subclasses set every attribute.
@Command
abstract class BaseCommand {
    @Spec
    CommandSpec spec;

    protected final Context ctx;

    BaseCommand(Context ctx) {
        this.ctx = ctx;
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** The global options, wherever on the command line they were given: they all land on the root command. */
    GlobalOptions global() {
        return ((CorezfsCommand) spec.root().userObject()).global;
    }

    /** -1 with --quiet, else how many times -v was given. */
    int verbosity() {
        GlobalOptions g = global();
        return g.quiet ? -1 : g.verbose;
    }

    Reporter reporter() {
        int level = verbosity();
        PrintWriter err = err();
        return new Reporter() {
            @Override
            public void info(String message) {
                if (level >= 0) {
                    err.println(message);
                    err.flush();
                }
            }

            @Override
            public void warn(String message) {
                if (level >= 0) {
                    err.println("warning: " + message);
                    err.flush();
                }
            }
        };
    }
}
