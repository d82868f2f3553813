package io.corezfs.cli;

import io.corezfs.Reporter;
import io.corezfs.net.Progress;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Optional;

/**
 * Download progress: a redrawn bar with bytes, rate and ETA on a terminal; a plain line every tenth otherwise, so
 * logs stay readable.
 */
final class ConsoleProgress implements Progress {
    private final Reporter reporter;
    private final Optional<PrintWriter> terminal;
    private final long start = System.nanoTime();
    private long lastDraw;
    private int lastTenth = -1;

    /** @param terminal the operator's terminal, where the bar is redrawn; without one, a line every tenth */
    ConsoleProgress(Reporter reporter, Optional<PrintWriter> terminal) {
        this.reporter = reporter;
        this.terminal = terminal;
    }

    @Override
    public void update(String what, long done, long total) {
        long now = System.nanoTime();
        double secs = Math.max(1e-3, (now - start) / 1e9);
        double rate = done / secs;
        if (terminal.isPresent()) {
            if (now - lastDraw < 200_000_000L) {
                return;
            }
            lastDraw = now;
            String eta =
                    total > 0 && rate > 0 ? String.format(Locale.ROOT, " ETA %ds", (long) ((total - done) / rate)) : "";
            String pct = total > 0 ? String.format(Locale.ROOT, "%3d%% ", done * 100 / total) : "";
            terminal.get()
                    .printf(
                            Locale.ROOT,
                            "\r%s %s%s / %s  %s/s%s   ",
                            what,
                            pct,
                            mb(done),
                            total > 0 ? mb(total) : "?",
                            mb((long) rate),
                            eta);
            return;
        }
        int tenth = total > 0 ? (int) (done * 10 / total) : (int) (done / (100L << 20));
        if (tenth != lastTenth) {
            lastTenth = tenth;
            reporter.info(String.format(
                    Locale.ROOT,
                    "downloading %s: %s of %s (%s/s)",
                    what,
                    mb(done),
                    total > 0 ? mb(total) : "?",
                    mb((long) rate)));
        }
    }

    @Override
    public void done(String what) {
        terminal.ifPresent(PrintWriter::println);
        reporter.info("downloaded " + what);
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }
}
