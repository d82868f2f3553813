package io.corezfs.system;

import io.corezfs.testing.FakeProcessRunner;
import java.util.List;

/** The fake used by unit tests keeps the same promises as the real runner. */
class FakeProcessRunnerTest extends ProcessRunnerContract {
    private final FakeProcessRunner fake = new FakeProcessRunner();
    private int programs;

    @Override
    protected ProcessRunner runner() {
        return fake;
    }

    @Override
    protected List<String> program(int code, String out, String err) {
        List<String> argv = List.of("program" + ++programs, String.valueOf(code));
        fake.on(argv, FakeProcessRunner.Script.exits(code, out, err));
        return argv;
    }

    @Override
    protected List<String> hangs() {
        List<String> argv = List.of("systemctl", "start", "stuck.service");
        fake.on(argv, FakeProcessRunner.Script.hangs());
        return argv;
    }

    @Override
    protected List<String> missing() {
        return List.of("no-such-program-anywhere");
    }
}
