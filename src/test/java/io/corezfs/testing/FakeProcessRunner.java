package io.corezfs.testing;

import io.corezfs.system.ProcessRequest;
import io.corezfs.system.ProcessResult;
import io.corezfs.system.ProcessRunner;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Programs on paper: each command is given its exit code, output and how long it would run, and nothing is started.
 * Time is not waited for: a program that would run past the request's timeout comes back timed out at once. Every
 * request is recorded. It keeps the promises of {@link ProcessRunner} ({@code ProcessRunnerContract} checks it).
 */
public final class FakeProcessRunner implements ProcessRunner {
    /** What a program would do. */
    public record Script(int exitCode, String stdout, String stderr, Duration runsFor) {
        public static Script exits(int code, String stdout, String stderr) {
            return new Script(code, stdout, stderr, Duration.ofMillis(1));
        }

        public static Script hangs() {
            return new Script(0, "", "", Duration.ofDays(365));
        }
    }

    private final Map<List<String>, Script> scripts = new HashMap<>();
    private final List<ProcessRequest> requests = new ArrayList<>();

    public FakeProcessRunner on(List<String> argv, Script script) {
        scripts.put(List.copyOf(argv), script);
        return this;
    }

    public synchronized List<ProcessRequest> requests() {
        return List.copyOf(requests);
    }

    public List<List<String>> commands() {
        return requests().stream().map(ProcessRequest::argv).toList();
    }

    @Override
    public synchronized ProcessResult run(ProcessRequest request) {
        requests.add(request);
        return outcome(request, true);
    }

    @Override
    public synchronized Streaming start(ProcessRequest request) {
        requests.add(request);
        Script s = scripts.get(request.argv());
        byte[] out = s == null || s.runsFor().compareTo(request.timeout()) > 0
                ? new byte[0]
                : s.stdout().getBytes(StandardCharsets.UTF_8);
        return new Streaming() {
            @Override
            public InputStream stdout() {
                return new ByteArrayInputStream(out);
            }

            @Override
            public ProcessResult finish() {
                return outcome(request, false);
            }

            @Override
            public void kill() {}
        };
    }

    private ProcessResult outcome(ProcessRequest request, boolean keepStdout) {
        Script s = scripts.get(request.argv());
        if (s == null) {
            return ProcessResult.notStarted(
                    request.argv(), "cannot run " + request.argv().get(0) + ": no such program");
        }
        String err = tail(s.stderr(), request.stderrTailBytes());
        String out = keepStdout ? head(s.stdout(), request.maxStdoutBytes()) : "";
        if (s.runsFor().compareTo(request.timeout()) > 0) {
            return ProcessResult.timedOut(request.argv(), "", "", request.timeout());
        }
        return ProcessResult.exited(request.argv(), s.exitCode(), out, err, s.runsFor());
    }

    private static String head(String s, int bytes) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return b.length <= bytes ? s : new String(b, 0, bytes, StandardCharsets.UTF_8);
    }

    private static String tail(String s, int bytes) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return b.length <= bytes ? s : new String(b, b.length - bytes, bytes, StandardCharsets.UTF_8);
    }
}
