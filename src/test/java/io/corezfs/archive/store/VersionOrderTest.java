package io.corezfs.archive.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.corezfs.archive.Manifest;
import io.corezfs.host.HostFacts;
import io.corezfs.zfs.ZfsVersion;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** One order of ZFS versions for every choice corezfs makes between them: a release candidate precedes its release. */
class VersionOrderTest {
    static final HostFacts HOST =
            new HostFacts("flatcar", "9999.0.0", "amd64-usr", "stable", "stable", "6.1.0-56-cloud-amd64", "x86_64");

    @Test
    void releaseCandidatesPrecedeTheirReleaseAndNumbersCompareAsNumbers() {
        assertSorted(List.of("2.2.0-rc1", "2.2.0", "2.2.1", "2.10.0"));
        assertSorted(List.of(
                "0.7.13",
                "0.8.0-rc1",
                "0.8.0",
                "2.1.99",
                "2.2.0-rc2",
                "2.2.0-rc10",
                "2.2.0",
                "2.2.0.1",
                "2.2.1",
                "2.10.0"));
    }

    @Test
    void anyVersionAnArchiveMayNameHasItsPlace() {
        // --zfs-version allows [0-9][A-Za-z0-9.~+-]*: tilde and letters mark a pre-release, a number after the
        // release a later revision of it.
        assertSorted(
                List.of("2.2.0~alpha", "2.2.0-beta", "2.2.0-rc1", "2.2.0", "2.2.0-1", "2.2.0-2", "2.2.0-10", "2.2.1"));
    }

    @Test
    void theStorePicksTheReleaseOverItsCandidate() {
        assertEquals(
                "2.2.0",
                ArchiveStore.best(List.of(candidate("2.2.0-rc1"), candidate("2.2.0"), candidate("2.2.0-rc3")))
                        .orElseThrow()
                        .manifest()
                        .zfsVersion());
        assertEquals(
                "2.10.0",
                ArchiveStore.best(List.of(candidate("2.9.9"), candidate("2.10.0"), candidate("2.10.0-rc1")))
                        .orElseThrow()
                        .manifest()
                        .zfsVersion());
    }

    @Test
    void theMirrorPicksTheReleaseOverItsCandidate() {
        MirrorIndex index =
                new MirrorIndex(MirrorIndex.FORMAT, List.of(entry("2.2.0-rc1"), entry("2.2.0"), entry("2.2.0-rc2")));
        assertEquals("2.2.0", index.find(HOST).orElseThrow().zfsVersion());
    }

    private static void assertSorted(List<String> expected) {
        List<String> shuffled = new ArrayList<>(expected);
        Collections.shuffle(shuffled, new Random(expected.hashCode()));
        shuffled.sort(ZfsVersion.ORDER);
        assertEquals(expected, shuffled);
        List<ZfsVersion> typed = new ArrayList<>();
        expected.stream()
                .filter(v -> v.matches("[0-9.]+(-rc[0-9]+)?"))
                .map(ZfsVersion::of)
                .forEach(typed::add);
        List<ZfsVersion> sorted = new ArrayList<>(typed);
        Collections.shuffle(sorted, new Random(1));
        Collections.sort(sorted);
        assertEquals(typed, sorted, "ZfsVersion sorts the same way");
    }

    private static ArchiveStore.Candidate candidate(String zfs) {
        Manifest m = new Manifest(
                Manifest.FORMAT,
                HOST.os(),
                HOST.version(),
                HOST.board(),
                HOST.channel(),
                HOST.kernel(),
                HOST.arch(),
                zfs,
                "test",
                0,
                List.of());
        return new ArchiveStore.Candidate(Path.of("corezfs_" + zfs + ".tar.gz"), null, m, ArchiveStore.Fit.MATCH, "");
    }

    private static MirrorIndex.Entry entry(String zfs) {
        return new MirrorIndex.Entry(
                "corezfs_flatcar_9999.0.0_" + zfs + ".tar.gz",
                "0".repeat(64),
                1,
                HOST.os(),
                HOST.version(),
                HOST.board(),
                HOST.arch(),
                HOST.kernel(),
                zfs);
    }
}
