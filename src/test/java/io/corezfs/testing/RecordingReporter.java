package io.corezfs.testing;

import io.corezfs.Reporter;
import java.util.ArrayList;
import java.util.List;

/** A {@link Reporter} that keeps what it is told, in order; warnings are prefixed with {@code "warn "}. */
public final class RecordingReporter implements Reporter {
    private final List<String> told = new ArrayList<>();

    @Override
    public void info(String message) {
        told.add(message);
    }

    @Override
    public void warn(String message) {
        told.add("warn " + message);
    }

    /** Everything told so far (a live view). */
    public List<String> told() {
        return told;
    }
}
