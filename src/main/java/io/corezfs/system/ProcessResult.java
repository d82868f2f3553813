package io.corezfs.system;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * How a program ended. Exit codes follow the shell where the program itself gave none: 124 timed out (as
 * coreutils' {@code timeout}), 127 could not be started, 130 interrupted.
 *
 * @param stdout     standard output, up to the request's cap
 * @param stderrTail the end of standard error, up to the request's cap
 * @param duration   how long it ran; for a timeout, the deadline it overran
 */
public record ProcessResult(
        List<String> argv, Outcome outcome, int exitCode, String stdout, String stderrTail, Duration duration) {
    public static final int TIMED_OUT = 124;
    public static final int NOT_STARTED = 127;
    public static final int INTERRUPTED = 130;

    public enum Outcome {
        EXITED,
        TIMED_OUT,
        NOT_STARTED,
        INTERRUPTED
    }

    public ProcessResult {
        argv = List.copyOf(argv);
    }

    public static ProcessResult exited(List<String> argv, int code, String stdout, String stderrTail, Duration took) {
        return new ProcessResult(argv, Outcome.EXITED, code, stdout, stderrTail, took);
    }

    public static ProcessResult timedOut(List<String> argv, String stdout, String stderrTail, Duration deadline) {
        return new ProcessResult(argv, Outcome.TIMED_OUT, TIMED_OUT, stdout, stderrTail, deadline);
    }

    public static ProcessResult notStarted(List<String> argv, String why) {
        return new ProcessResult(argv, Outcome.NOT_STARTED, NOT_STARTED, "", why, Duration.ZERO);
    }

    public static ProcessResult interrupted(List<String> argv, String stdout, String stderrTail, Duration took) {
        return new ProcessResult(argv, Outcome.INTERRUPTED, INTERRUPTED, stdout, stderrTail, took);
    }

    public boolean ok() {
        return outcome == Outcome.EXITED && exitCode == 0;
    }

    /** The last non-blank line of stderr, or empty. */
    public String stderrLastLine() {
        return lastLine(stderrTail);
    }

    /**
     * One line for the operator: the command, how it ended and the last line it wrote to stderr, e.g.
     * {@code zpool export tank failed (exit 1): cannot export 'tank': pool is busy}.
     */
    public String describe() {
        String cmd = commandLine(argv);
        String how = switch (outcome) {
            case EXITED -> exitCode == 0 ? "succeeded" : "failed (exit " + exitCode + ")";
            case TIMED_OUT -> "did not finish within " + human(duration) + " and was killed (exit " + TIMED_OUT + ")";
            case NOT_STARTED -> "could not be started (exit " + NOT_STARTED + ")";
            case INTERRUPTED -> "was interrupted and killed (exit " + INTERRUPTED + ")";
        };
        String last = stderrLastLine();
        return cmd + " " + how + (last.isEmpty() ? "" : ": " + last);
    }

    /** The command as typed, on one line: control characters in arguments are shown escaped. */
    public static String commandLine(List<String> argv) {
        StringBuilder b = new StringBuilder();
        for (String a : argv) {
            if (b.length() > 0) {
                b.append(' ');
            }
            for (char c : a.toCharArray()) {
                switch (c) {
                    case '\n' -> b.append("\\n");
                    case '\t' -> b.append("\\t");
                    case '\r' -> b.append("\\r");
                    default -> {
                        if (c < 0x20 || c == 0x7f) {
                            b.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
                        } else {
                            b.append(c);
                        }
                    }
                }
            }
        }
        return b.toString();
    }

    static String lastLine(String text) {
        return text.strip()
                .lines()
                .map(String::strip)
                .filter(l -> !l.isEmpty())
                .reduce((a, b) -> b)
                .orElse("");
    }

    private static String human(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000) {
            return ms + " ms";
        }
        if (ms < 120_000) {
            return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
        }
        return d.toMinutes() + " minutes";
    }
}
