package io.corezfs.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The live host's programs on the real machine: {@code sh} stands in for a stuck systemctl or zpool. */
class LiveSystemTest {
    @Test
    void aChildThatHangsPastTheTimeoutIsKilledAndReported() {
        LiveSystem.Result r = assertTimeoutPreemptively(
                Duration.ofSeconds(30),
                () -> LiveSystem.over(new LocalProcessRunner(), Duration.ofMillis(500))
                        .run(List.of("sh", "-c", "echo starting; sleep 120")));
        assertEquals(124, r.code(), r.output());
        assertTrue(
                r.lastLine().contains("sh -c echo starting; sleep 120")
                        && r.lastLine().contains("did not finish within"),
                r.lastLine());
    }
}
