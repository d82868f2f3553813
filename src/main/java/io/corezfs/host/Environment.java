package io.corezfs.host;

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
        };
    }

    /** A fixed environment, for tests and for callers that want full control. */
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
        };
    }
}
