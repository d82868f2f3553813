package io.corezfs.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The listing script itself, run by the local sh against a folder laid out like an image's /usr/lib/modules. */
class ImageKernelTest {
    @TempDir
    Path tmp;

    private List<String> list(Path modules) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(
                        "/bin/sh", "-c", ImageKernel.SCRIPT.replace("/usr/lib/modules", modules.toString()))
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out.lines().sorted().toList();
    }

    @Test
    void aTreeCountsOnlyWithBuildMakefileFollowingTheBuildLink() throws Exception {
        Path modules = tmp.resolve("modules");
        Path headers = Files.createDirectories(tmp.resolve("usr/src/linux-6.12.95"));
        Files.writeString(headers.resolve("Makefile"), "");
        Files.createDirectories(modules.resolve("6.12.95+deb12-cloud-amd64"));
        Files.createSymbolicLink(modules.resolve("6.12.95+deb12-cloud-amd64/build"), headers);
        Files.createDirectories(modules.resolve("6.1.0-56-cloud-amd64/kernel"));
        Files.writeString(modules.resolve("stray-file"), "");

        assertEquals(
                List.of("corezfs-kernel: other 6.1.0-56-cloud-amd64", "corezfs-kernel: tree 6.12.95+deb12-cloud-amd64"),
                list(modules));
    }

    @Test
    void anEmptyOrMissingFolderListsNothing() throws Exception {
        assertEquals(List.of(), list(Files.createDirectories(tmp.resolve("empty"))));
        assertEquals(List.of(), list(tmp.resolve("missing")));
    }
}
