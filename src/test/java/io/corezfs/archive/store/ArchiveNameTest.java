package io.corezfs.archive.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.host.HostFacts;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ArchiveNameTest {
    private final HostFacts flatcar =
            new HostFacts("flatcar", "3975.2.0", "amd64-usr", "stable", "stable", "6.6.95-flatcar", "x86_64");

    @Test
    void nameShowsBoardVersionChannelAndZfs() {
        assertEquals(
                "corezfs_amd64-usr_3975.2.0_stable_zfs-2.2.6.tar.gz",
                ArchiveName.of(flatcar, "2.2.6").fileName());
    }

    @Test
    void parsesCurrentAndOriginalNames() {
        ArchiveName n = ArchiveName.parse("corezfs_amd64-usr_3975.2.0_stable_zfs-2.2.6.tar.gz")
                .orElseThrow();
        assertEquals(Optional.of("2.2.6"), n.zfsVersion());
        assertTrue(n.matchesHost(flatcar));
        ArchiveName legacy =
                ArchiveName.parse("corezfs_amd64-usr_3975.2.0_beta.tar.gz").orElseThrow();
        assertTrue(legacy.isLegacy());
        assertTrue(legacy.matchesHost(flatcar), "the channel does not decide a match");
    }

    @Test
    void rejectsOtherNames() {
        assertTrue(ArchiveName.parse("corezfs_amd64-usr_3975.2.0.tar.gz").isEmpty());
        assertTrue(ArchiveName.parse("corezfs_amd64-usr_../x_stable.tar.gz").isEmpty());
        assertTrue(ArchiveName.parse("zfs.tar.gz").isEmpty());
    }

    @Test
    void genericHostsCarryTheirIdSoVersionsCannotCollide() {
        HostFacts debian = new HostFacts("debian", "12", "amd64-usr", "", "", "6.1.0-55-cloud-amd64", "x86_64");
        String name = ArchiveName.of(debian, "2.1.11").fileName();
        assertEquals("corezfs_amd64-usr_debian-12_none_zfs-2.1.11.tar.gz", name);
        assertTrue(ArchiveName.parse(name).orElseThrow().matchesHost(debian));
        assertFalse(ArchiveName.parse("corezfs_amd64-usr_12_stable_zfs-2.1.11.tar.gz")
                .orElseThrow()
                .matchesHost(debian));
    }
}
