package io.corezfs.zfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ZfsReleasesTest {
    private static final String SHA_2_1_11 = "a54fe4e854d0a207584f1799a80e165eae66bc30dc8e8c96a1f99ed9d4d8ceb2";
    private static final String A = "a".repeat(64);
    private static final String B = "b".repeat(64);
    private static final String C = "c".repeat(64);

    private static final ZfsReleases TABLE = ZfsReleases.parse("""
            # three releases, out of order on purpose
            2.1.11.sha256        = %s
            2.1.11.linux-minimum = 3.10
            2.1.11.linux-maximum = 6.2
            2.2.6.sha256         = %s
            2.2.6.linux-minimum  = 4.18
            2.2.6.linux-maximum  = 6.10
            2.1.9.sha256         = %s
            2.1.9.linux-minimum  = 3.10
            2.1.9.linux-maximum  = 6.1
            """.formatted(SHA_2_1_11, A, B), "test table");

    @Test
    void theShippedTablePins2_1_11WithTheHashOfItsReleaseTarballAndMetasKernelRange() {
        ZfsReleases shipped = ZfsReleases.shipped();

        ZfsReleases.Release r = shipped.get(ZfsVersion.of("2.1.11")).orElseThrow();
        assertEquals(SHA_2_1_11, r.sha256());
        assertEquals("3.10", r.linuxMinimum());
        assertEquals("6.2", r.linuxMaximum());
        assertEquals(Optional.empty(), r.splSha256());
        assertEquals(Optional.of(r), shipped.bySha256(SHA_2_1_11));
    }

    @Test
    void releasesAreNewestFirstComparingVersionsAsNumbers() {
        assertEquals(
                List.of("2.2.6", "2.1.11", "2.1.9"),
                TABLE.all().stream().map(r -> r.version().text()).toList());
    }

    @ParameterizedTest
    @CsvSource({
        "6.1.0-56-cloud-amd64, 2.2.6",
        "6.10.14-flatcar,      2.2.6",
        "4.18.0,               2.2.6",
        "4.14.336,             2.1.11",
        "3.10.0-1160.el7,      2.1.11",
    })
    void theDefaultForAKernelIsTheNewestReleaseWhoseRangeHoldsIt(String kernel, String expected) {
        assertEquals(expected, TABLE.newestFor(kernel).orElseThrow().version().text());
    }

    @ParameterizedTest
    @ValueSource(strings = {"6.11.0", "3.9.0"})
    void aKernelOutsideEveryRangeHasNoDefault(String kernel) {
        assertEquals(Optional.empty(), TABLE.newestFor(kernel));
    }

    @Test
    void aTarballIsFoundByItsHashInAnyCase() {
        assertEquals(
                "2.1.11",
                TABLE.bySha256(SHA_2_1_11.toUpperCase()).orElseThrow().version().text());
        assertEquals(Optional.empty(), TABLE.bySha256(C));
    }

    @Test
    void theTableDescribesItselfForMessages() {
        assertEquals(
                "2.2.6 (Linux 4.18 to 6.10), 2.1.11 (Linux 3.10 to 6.2), 2.1.9 (Linux 3.10 to 6.1)", TABLE.describe());
        assertEquals("(none)", ZfsReleases.of().describe());
    }

    @Test
    void releasesBefore0_8PinTheirSplTarballToo() {
        ZfsReleases t = ZfsReleases.parse(
                "0.7.13.sha256 = " + A + "\n0.7.13.spl-sha256 = " + B
                        + "\n0.7.13.linux-minimum = 2.6.32\n0.7.13.linux-maximum = 4.19\n",
                "t");

        assertEquals(
                Optional.of(B), t.get(ZfsVersion.of("0.7.13")).orElseThrow().splSha256());
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "2.1.11.sha256                                             | t:1: expected '<version>.",
                "2.1.11.md5 = abc                                          | t:1: expected '<version>.",
                "v2.1.11.sha256 = <A>                                       | t:1: 'v2.1.11' is not an OpenZFS release",
                "2.1.11.sha256 = <A>\\n2.1.11.sha256 = <B>                     | t:2: a second '2.1.11.sha256'",
                "2.1.11.sha256 = xyz\\n2.1.11.linux-minimum = 3.10\\n2.1.11.linux-maximum = 6.2 | release 2.1.11: sha256 'xyz' is not 64",
                "2.1.11.sha256 = <UPPER>\\n2.1.11.linux-minimum = 3.10\\n2.1.11.linux-maximum = 6.2 | release 2.1.11: sha256 'AAAAAAAA",
                "2.1.11.sha256 = <A>\\n2.1.11.linux-minimum = 3.10           | release 2.1.11: no linux-maximum",
                "2.1.11.linux-minimum = 3.10\\n2.1.11.linux-maximum = 6.2  | release 2.1.11: no sha256",
                "2.1.11.sha256 = <A>\\n2.1.11.linux-minimum = 3.10\\n2.1.11.linux-maximum = six | Linux-Maximum 'six' is not major.minor",
                "0.7.13.sha256 = <A>\\n0.7.13.linux-minimum = 2.6\\n0.7.13.linux-maximum = 4.19 | need spl-sha256",
                "2.1.11.sha256 = <A>\\n2.1.11.spl-sha256 = <B>\\n2.1.11.linux-minimum = 3.10\\n2.1.11.linux-maximum = 6.2 | spl-sha256 is only for releases before 0.8",
            })
    void aMalformedTableIsRefusedNamingTheLineOrRelease(String text, String expected) {
        String table =
                text.replace("\\n", "\n").replace("<A>", A).replace("<B>", B).replace("<UPPER>", A.toUpperCase());

        CorezfsException e = assertThrows(CorezfsException.class, () -> ZfsReleases.parse(table, "t"));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "2", "v2.1.11", "2.1.11/../x", "2.1.11-1", "2.1.1.1.1", "2.1.11-rc", "2.1.x"})
    void onlyReleaseShapedVersionsAreAccepted(String text) {
        CorezfsException e = assertThrows(CorezfsException.class, () -> ZfsVersion.of(text));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertTrue(e.getMessage().contains("'" + text + "' is not an OpenZFS release version"), e.getMessage());
    }

    @Test
    void releaseCandidatesSortBeforeTheirReleaseAndOnlyPre0_8NeedsTheSpl() {
        assertTrue(ZfsVersion.of("2.2.0-rc4").compareTo(ZfsVersion.of("2.2.0")) < 0);
        assertTrue(ZfsVersion.of("2.2.0-rc4").compareTo(ZfsVersion.of("2.1.99")) > 0);
        assertTrue(ZfsVersion.of("0.7.13").needsSpl());
        assertTrue(ZfsVersion.of("0.6.5.11").needsSpl());
        assertFalse(ZfsVersion.of("0.8.0").needsSpl());
        assertFalse(ZfsVersion.of("2.1.11").needsSpl());
    }
}
