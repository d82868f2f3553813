package io.corezfs.host;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;

/**
 * The process environment as the core sees it. Passed in so tests never depend on the machine's variables,
 * architecture or clock.
 */
public interface Environment {
    Optional<String> getenv(String name);

    /** The machine architecture in uname form ({@code x86_64}, {@code aarch64}). */
    String machineArch();

    Clock clock();

    /** This machine's host name, as the kernel has it; {@code unknown} when it cannot be read. */
    String hostName();

    /** The operator's terminal, if stderr is one: where progress may be redrawn in place. */
    Optional<PrintWriter> terminal();

    /**
     * Runs {@code action} if the process is ended (Ctrl-C, SIGTERM) before the returned handle is run; running the
     * handle withdraws it. For clean-up of things outside this process, like a build container.
     */
    Runnable onExit(String name, Runnable action);

    /** The real process environment. */
    static Environment system() {
        return new Environment() {
            @Override
            public Optional<String> getenv(String name) {
                return Optional.ofNullable(System.getenv(name));
            }

            @Override
            public String machineArch() {
                return Arch.fromJvm(System.getProperty("os.arch"));
            }

            @Override
            public Clock clock() {
                return Clock.systemUTC();
            }

            @Override
            public String hostName() {
                try {
                    return Files.readString(Path.of("/proc/sys/kernel/hostname"))
                            .strip();
                } catch (IOException e) {
                    return "unknown";
                }
            }

            @Override
            public Optional<PrintWriter> terminal() {
                return System.console() == null ? Optional.empty() : Optional.of(new PrintWriter(System.err, true));
            }

            @Override
            public Runnable onExit(String name, Runnable action) {
                Thread hook = new Thread(action, name);
                Runtime.getRuntime().addShutdownHook(hook);
                return () -> {
                    try {
                        Runtime.getRuntime().removeShutdownHook(hook);
                    } catch (IllegalStateException shuttingDown) {
                        // the hook is running or has run
                    }
                };
            }
        };
    }

    /**
     * A fixed environment, for tests and for callers that want full control: host name {@code localhost}, no
     * terminal, and exit actions that are never run.
     */
    static Environment of(Map<String, String> vars, String arch, Clock clock) {
        Map<String, String> copy = Map.copyOf(vars);
        return new Environment() {
            @Override
            public Optional<String> getenv(String name) {
                return Optional.ofNullable(copy.get(name));
            }

            @Override
            public String machineArch() {
                return arch;
            }

            @Override
            public Clock clock() {
                return clock;
            }

            @Override
            public String hostName() {
                return "localhost";
            }

            @Override
            public Optional<PrintWriter> terminal() {
                return Optional.empty();
            }

            @Override
            public Runnable onExit(String name, Runnable action) {
                return () -> {};
            }
        };
    }
}
