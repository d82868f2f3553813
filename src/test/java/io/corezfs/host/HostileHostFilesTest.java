package io.corezfs.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.testing.Cli;
import io.corezfs.testing.HostRoots;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Host files are read with a size cap and only when they are regular files: a huge release file, or a FIFO or
 * device where one is expected, is a precondition failure (exit 3) naming the file, never a crash or a hang.
 */
class HostileHostFilesTest {
    @TempDir
    Path tmp;

    private Cli.Run status(Path root) {
        return assertTimeoutPreemptively(
                Duration.ofSeconds(30), () -> new Cli(tmp).run("status", "--root", root.toString(), "--json"));
    }

    private static void refused(Cli.Run r, Path file, String why) {
        assertEquals(3, r.exitCode(), r::toString);
        assertEquals("", r.out(), r::toString);
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r);
        assertTrue(r.err().contains(file.toString()) && r.err().contains(why), "names the file and why: " + r);
    }

    /** Every file detection reads on a Flatcar node (os-release through the /etc link). */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "/usr/lib/os-release",
                "/usr/share/flatcar/release",
                "/usr/share/flatcar/update.conf",
                "/etc/flatcar/update.conf",
                "/proc/sys/kernel/osrelease"
            })
    void aHostFileFarLargerThanAnyRealOneIsRefused(String hostPath) throws IOException {
        Path root = HostRoots.flatcar(tmp.resolve("r"))
                .file("/etc/flatcar/update.conf", "GROUP=beta\n")
                .root();
        Path file = root.resolve(hostPath.substring(1));
        // Still well-formed: blank lines parse, so only the size can be what refuses it.
        Files.writeString(file, Files.readString(file) + "\n".repeat(2 << 20));
        refused(status(root), file, "larger than");
    }

    @Test
    void aHugeSparseReleaseFileIsRefusedWithoutReadingIt() throws IOException {
        Path root = HostRoots.flatcar(tmp.resolve("r")).root();
        Path file = root.resolve("usr/share/flatcar/release");
        Files.delete(file);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(300L << 20);
        }
        refused(status(root), file, "larger than");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "/usr/lib/os-release",
                "/usr/share/flatcar/release",
                "/usr/share/flatcar/update.conf",
                "/etc/flatcar/update.conf",
                "/proc/sys/kernel/osrelease"
            })
    void aFifoWhereAHostFileIsExpectedIsRefusedWithoutBlocking(String hostPath) throws Exception {
        Path root = HostRoots.flatcar(tmp.resolve("r")).root();
        Path file = root.resolve(hostPath.substring(1));
        Files.createDirectories(file.getParent());
        Files.deleteIfExists(file);
        Process p = new ProcessBuilder("mkfifo", file.toString()).start();
        assertEquals(0, p.waitFor());
        refused(status(root), file, "not a regular file");
    }

    @Test
    void aDirectoryWhereAReleaseFileIsExpectedIsRefused() throws IOException {
        Path root = HostRoots.flatcar(tmp.resolve("r")).root();
        Path file = root.resolve("usr/share/flatcar/release");
        Files.delete(file);
        Files.createDirectories(file);
        refused(status(root), file, "not a regular file");
    }

    @Test
    void aDetectedKernelReleaseLongerThanAnyKernelAllowsIsRefused() {
        Path root = HostRoots.flatcar(tmp.resolve("r"))
                .kernel("6.1.0-" + "a".repeat(80))
                .root();
        Cli.Run r = status(root);
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(r.err().contains("/proc/sys/kernel/osrelease") && r.err().contains("malformed"), r::toString);
    }
}
