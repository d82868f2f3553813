package io.corezfs.cli;

import io.corezfs.Reporter;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;

/** What every command shares: the global options, the context, and output through picocli's writers. */
abstract class BaseCommand {
    @Mixin
    GlobalOptions global;

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

    /** Verbosity summed over every level of the command line, so {@code corezfs -v archive pack} counts. */
    int verbosity() {
        int v = 0;
        boolean quiet = false;
        for (CommandLine c = spec.commandLine(); c != null; c = c.getParent()) {
            if (c.getCommand() instanceof BaseCommand b && b.global != null) {
                v += b.global.verbose.length;
                quiet |= b.global.quiet;
            }
        }
        return quiet ? -1 : v;
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
