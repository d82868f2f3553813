package io.corezfs.install;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.testing.Cli;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.TarBuilder;
import io.corezfs.testing.TreeSnapshot;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A target that cannot take the install (full, read-only, immutable) is the host's problem, exit 3, named; never
 * "unreadable archive" (exit 4), which would invite deleting a good archive. The target is left as it was. The
 * tests run as root, so the failures come through the {@link FileOps} seam rather than file permissions.
 */
class WriteFailureTest {
    @TempDir
    Path tmp;

    Path root;
    Path archive;

    @BeforeEach
    void bareRootAndAGoodArchive() {
        root = HostRoots.flatcar(tmp.resolve("root")).root();
        archive = TarBuilder.typicalTree()
                .file("opt/corezfs/usr/lib/big", "b".repeat(3 << 20))
                .writeTo(tmp.resolve("a.tar.gz"));
    }

    @Test
    void tooLittleFreeSpaceIsRefusedBeforeAnythingIsWritten() {
        Cli.Run r = assertRefused(new Cli(tmp).fileOps(new FileOps() {
            @Override
            public void move(Path from, Path to) throws IOException {
                FileOps.DEFAULT.move(from, to);
            }

            @Override
            public long usableSpace(Path dir) {
                return 1 << 20;
            }
        }));
        assertTrue(r.err().contains("no space left on ") && r.err().contains("needs 4 MB"), r::toString);
    }

    @Test
    void runningOutOfSpaceWhileExtractingDoesNotBlameTheArchive() {
        Cli.Run r = assertRefused(new Cli(tmp).fileOps(new FileOps() {
            @Override
            public void move(Path from, Path to) throws IOException {
                FileOps.DEFAULT.move(from, to);
            }

            @Override
            public OutputStream newFile(Path p) throws IOException {
                OutputStream real = FileOps.DEFAULT.newFile(p);
                return new FilterOutputStream(real) {
                    long written;

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        written += len;
                        if (written > 1 << 20) {
                            throw new IOException("No space left on device");
                        }
                        real.write(b, off, len);
                    }
                };
            }
        }));
        assertTrue(r.err().contains("no space left on "), r::toString);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "Read-only file system",
                "Operation not permitted",
                "Permission denied",
                "No space left on device"
            })
    void aTargetThatRefusesARenameIsAHostProblem(String reason) {
        Cli.Run r = assertRefused(new Cli(tmp).fileOps((from, to) -> {
            if (reason.equals("Permission denied")) {
                throw new AccessDeniedException(to.toString());
            }
            throw new FileSystemException(to.toString(), null, reason);
        }));
        assertTrue(r.err().contains(root.toString()), () -> "names the path: " + r);
    }

    private Cli.Run assertRefused(Cli cli) {
        Map<String, String> before = TreeSnapshot.of(root);
        Cli.Run r = cli.run("install", "--archive", archive.toString(), "--root", root.toString());
        assertEquals(3, r.exitCode(), r::toString);
        assertEquals(1, r.err().strip().lines().count(), r::toString);
        assertFalse(r.err().contains("archive"), () -> "the archive is not blamed: " + r);
        assertEquals(before, TreeSnapshot.of(root), "the target is as it was");
        return r;
    }
}
