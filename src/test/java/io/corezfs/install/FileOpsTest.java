package io.corezfs.install;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.system.ProcessRequest;
import io.corezfs.testing.FakeProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The flush before and after the commit rename goes through the process seam like every other program. */
class FileOpsTest {
    @TempDir
    Path tmp;

    @Test
    void aFilesystemIsFlushedWithOneSyncThroughTheRunner() throws IOException {
        List<String> sync = List.of("sync", "-f", tmp.toString());
        FakeProcessRunner runner = new FakeProcessRunner().on(sync, FakeProcessRunner.Script.exits(0, "", ""));
        FileOps.atomic(runner).syncFilesystem(tmp);
        assertEquals(List.of(sync), runner.commands());
        ProcessRequest r = runner.requests().get(0);
        assertTrue(r.timeout().compareTo(ProcessRequest.DEFAULT_TIMEOUT) <= 0, "a flush has a deadline too");
    }

    @Test
    void withoutSyncOrWhenItHangsEveryFileIsFlushedInstead() throws IOException {
        Files.writeString(Files.createDirectories(tmp.resolve("opt/corezfs")).resolve("f"), "data");
        FakeProcessRunner missing = new FakeProcessRunner();
        FileOps.atomic(missing).syncFilesystem(tmp);
        FakeProcessRunner hangs =
                new FakeProcessRunner().on(List.of("sync", "-f", tmp.toString()), FakeProcessRunner.Script.hangs());
        FileOps.atomic(hangs).syncFilesystem(tmp);
        assertEquals(1, hangs.commands().size());
    }
}
