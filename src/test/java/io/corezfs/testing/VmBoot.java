package io.corezfs.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One boot of a {@link VmLab} run: vm-run.sh's exit code and the lines the guest's run.sh printed between the
 * markers. The scenario scripts (src/test/resources/io/corezfs/vm/vmlib.sh) print results as lines of their own:
 * {@code CHECK name ok|FAIL: why}, {@code RC name code}, {@code TIME name seconds}, and JSON blocks between
 * {@code JSON-BEGIN name} and {@code JSON-END name}. Kernel or systemd messages may be interleaved on the serial
 * console, so only lines with these prefixes are read.
 */
public record VmBoot(int number, int exitCode, String output, String log, Duration elapsed) {
    private static final Pattern CHECK = Pattern.compile("^CHECK (\\S+) (ok|FAIL: ?(.*))$");

    /** Every CHECK line, by name, in order: null for ok, else the failure text. A name seen twice keeps the last. */
    public Map<String, String> checks() {
        Map<String, String> m = new LinkedHashMap<>();
        for (String l : output.lines().toList()) {
            Matcher c = CHECK.matcher(l.strip());
            if (c.matches()) {
                m.put(c.group(1), c.group(2).equals("ok") ? null : c.group(3));
            }
        }
        return m;
    }

    /**
     * The boot ended with a result (not a timeout or a crash), every CHECK it printed held, and every name in
     * {@code expected} was among them (so a script that stopped early does not pass by printing nothing).
     */
    public VmBoot assertChecks(String... expected) {
        assertTrue(
                exitCode != 124 && exitCode != 125,
                () -> "boot " + number + " ended without a result (rc " + exitCode + ")\n" + this);
        assertNoProblems(expected);
        assertEquals(0, exitCode, () -> "boot " + number + ": run.sh failed\n" + this);
        return this;
    }

    /**
     * For a boot the script ends by resetting the machine (a power cut): no result line is expected, vm-run.sh says
     * 125, and every check made before the reset must have held.
     */
    public VmBoot assertChecksThenReset(String... expected) {
        assertEquals(
                125, exitCode, () -> "boot " + number + " should have ended in a reset, without a result\n" + this);
        assertNoProblems(expected);
        return this;
    }

    private void assertNoProblems(String... expected) {
        Map<String, String> c = checks();
        List<String> problems = new ArrayList<>();
        c.forEach((k, v) -> {
            if (v != null) {
                problems.add(k + ": " + v);
            }
        });
        for (String e : expected) {
            if (!c.containsKey(e)) {
                problems.add(e + ": not checked");
            }
        }
        if (!problems.isEmpty()) {
            fail("boot " + number + ": " + String.join("\n  ", problems) + "\n" + this);
        }
    }

    public int rc(String name) {
        return Integer.parseInt(value("RC", name).orElseThrow(() -> new AssertionError("no RC " + name + "\n" + this)));
    }

    /** A duration the script measured ({@code TIME name seconds}). */
    public double time(String name) {
        return Double.parseDouble(
                value("TIME", name).orElseThrow(() -> new AssertionError("no TIME " + name + "\n" + this)));
    }

    /** The lines the CLI call {@code name} wrote to stdout or stderr (run_cli prefixes them). */
    public String cliOutput(String name) {
        StringBuilder b = new StringBuilder();
        for (String l : output.lines().toList()) {
            String s = l.strip();
            for (String stream : List.of("out", "err")) {
                String p = "[" + name + " " + stream + "] ";
                if (s.startsWith(p)) {
                    b.append(s.substring(p.length())).append('\n');
                } else if (s.equals("[" + name + " " + stream + "]")) {
                    b.append('\n');
                }
            }
        }
        return b.toString();
    }

    /** The JSON block {@code name} the script printed, parsed. */
    public JsonNode json(String name) {
        List<String> lines = output.lines().map(String::strip).toList();
        int from = lines.indexOf("JSON-BEGIN " + name);
        int to = lines.indexOf("JSON-END " + name);
        if (from < 0 || to < from) {
            throw new AssertionError("no JSON block " + name + "\n" + this);
        }
        String text = String.join("\n", lines.subList(from + 1, to)).strip();
        try {
            return new ObjectMapper().readTree(text.isEmpty() ? "null" : text);
        } catch (IOException e) {
            throw new UncheckedIOException("JSON block " + name + " does not parse: " + text, e);
        }
    }

    private Optional<String> value(String kind, String name) {
        String prefix = kind + " " + name + " ";
        String found = null;
        for (String l : output.lines().toList()) {
            String s = l.strip();
            if (s.startsWith(prefix)) {
                found = s.substring(prefix.length()).strip();
            }
        }
        return Optional.ofNullable(found);
    }

    @Override
    public String toString() {
        return "--- boot " + number + ": rc " + exitCode + " after " + elapsed.toSeconds() + " s\n" + output
                + "--- vm-run.sh log\n" + log;
    }
}
