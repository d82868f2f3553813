package io.corezfs.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Reporter;
import io.corezfs.host.Environment;
import io.corezfs.host.HostFacts;
import io.corezfs.host.RootFs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BuildServiceTest {
    @TempDir
    Path tmp;

    @Test
    void aVersionAndASourceTogetherAreAUsageErrorBeforeDockerOrAnyDownload() {
        BuildService service = new BuildService(
                Environment.system(),
                "test",
                () -> fail("Docker must not be asked for"),
                (d, c, r, dl) -> fail("no developer image expected"),
                () -> fail("no download expected"),
                Reporter.SILENT);
        BuildService.Request r = new BuildService.Request(
                Optional.of("2.2.6"),
                Optional.of(tmp.resolve("zfs.tar.gz").toString()),
                false,
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                tmp.resolve("cache"),
                false,
                OptionalInt.empty());
        HostFacts host =
                new HostFacts("flatcar", "3975.2.0", "amd64-usr", "stable", "stable", "6.6.95-flatcar", "amd64");

        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> service.build(r, host, new RootFs(tmp), Optional.empty(), tmp.resolve("archives")));

        assertEquals(ExitCode.USAGE, e.exitCode());
        assertEquals("--zfs-version and --zfs-source exclude each other", e.getMessage());
        assertFalse(Files.exists(tmp.resolve("cache")));
        assertFalse(Files.exists(tmp.resolve("archives")));
    }
}
