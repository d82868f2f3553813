package io.corezfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.testing.RecordingReporter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Download progress goes where it is told: a redrawn bar on a terminal, report lines otherwise. */
class ConsoleProgressTest {
    final RecordingReporter reporter = new RecordingReporter();
    final List<String> told = reporter.told();

    @Test
    void onATerminalTheBarIsDrawnThereAndEndsItsLine() {
        StringWriter screen = new StringWriter();
        ConsoleProgress p = new ConsoleProgress(reporter, Optional.of(new PrintWriter(screen, true)));
        p.update("image.bin.bz2", 5_000_000, 10_000_000);
        p.done("image.bin.bz2");
        assertTrue(screen.toString().startsWith("\rimage.bin.bz2  50% 5.0 MB / 10.0 MB"), screen.toString());
        assertTrue(screen.toString().endsWith(System.lineSeparator()), screen.toString());
        assertEquals(List.of("downloaded image.bin.bz2"), told);
    }

    @Test
    void withoutATerminalItReportsEveryTenth() {
        ConsoleProgress p = new ConsoleProgress(reporter, Optional.empty());
        for (long done = 0; done <= 1000; done += 50) {
            p.update("f", done, 1000);
        }
        assertEquals(11, told.size(), told.toString());
        assertTrue(told.get(10).startsWith("downloading f: 0.0 MB of 0.0 MB"), told.toString());
    }
}
