package io.corezfs.compile;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ToolUnitsTest {
    @TempDir
    Path tree;

    @Test
    void anArchiveCarriesTheActivationUnitsButNeverTheUnitsThatRunThisTool() throws IOException {
        // An archive swap at boot replaces the archive's files in /etc: the units that run this tool must outlive it,
        // and a copy with an unfilled launcher path would be a broken unit.
        TreeCollector.copyResources("/io/corezfs/units", tree);
        assertTrue(Files.isRegularFile(tree.resolve("zfs-overlay.service")));
        assertTrue(Files.isRegularFile(tree.resolve("corezfs-sysext.service")));
        assertFalse(Files.exists(tree.resolve("corezfs-boot.service")));
        assertFalse(Files.exists(tree.resolve("corezfs-boot-late.service")));
    }
}
