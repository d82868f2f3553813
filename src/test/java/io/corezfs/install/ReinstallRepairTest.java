package io.corezfs.install;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.testing.Cli;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.TarBuilder;
import io.corezfs.testing.TreeSnapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same archive again is a no-op only when the install is really intact; whatever is missing or differs is
 * repaired and named. A file's size, mode, mtime and inode are compared first, its hash only when they moved.
 * Files in /etc that the user changed stay theirs, as on every install.
 */
class ReinstallRepairTest {
    private static final String STATE = "opt/corezfs/.corezfs/state.json";

    @TempDir
    Path tmp;

    Path root;
    Path archive;
    Map<String, String> intact;

    @BeforeEach
    void installed() {
        root = HostRoots.flatcar(tmp.resolve("root")).root();
        archive = TarBuilder.typicalTree().writeTo(tmp.resolve("a.tar.gz"));
        assertEquals(0, install().exitCode());
        intact = withoutState(TreeSnapshot.of(root));
    }

    private Cli.Run install() {
        return new Cli(tmp).run("install", "--archive", archive.toString(), "--root", root.toString());
    }

    private Cli.Run assertRepaired(String... paths) {
        Cli.Run r = install();
        assertEquals(0, r.exitCode(), r::toString);
        String said = "repaired " + paths.length + (paths.length == 1 ? " file" : " files");
        assertTrue(r.out().contains(said), () -> "says " + said + ": " + r);
        for (String p : paths) {
            assertTrue(r.out().contains(p), () -> "names " + p + ": " + r);
        }
        assertEquals(intact, withoutState(TreeSnapshot.of(root)), "the install is whole again");
        Cli.Run again = install();
        assertTrue(again.out().startsWith("unchanged"), again::toString);
        return r;
    }

    @Test
    void aDeletedEtcFileIsPutBack() throws IOException {
        Files.delete(root.resolve("etc/modules-load.d/zfs.conf"));
        assertRepaired("/etc/modules-load.d/zfs.conf");
    }

    @Test
    void aRemovedUnitLinkIsPutBack() throws IOException {
        Files.delete(root.resolve("etc/systemd/system/multi-user.target.wants/zfs-overlay.service"));
        assertRepaired("/etc/systemd/system/multi-user.target.wants/zfs-overlay.service");
    }

    @Test
    void aFileCorruptedInPlaceWithItsSizeKeptIsFound() throws IOException {
        Path zfs = root.resolve("opt/corezfs/usr/sbin/zfs");
        FileTime installedAt = Files.getLastModifiedTime(zfs);
        byte[] b = Files.readAllBytes(zfs);
        b[0] ^= 1;
        Files.write(zfs, b);
        // A write moves the mtime; set it apart explicitly, as a coarse clock could give the same tick.
        Files.setLastModifiedTime(zfs, FileTime.fromMillis(installedAt.toMillis() + 5_000));
        assertRepaired("/opt/corezfs/usr/sbin/zfs");
    }

    @Test
    void aSameSizeFileSwappedInWithTheOldMtimeIsFoundByItsInode() throws IOException {
        Path zfs = root.resolve("opt/corezfs/usr/sbin/zfs");
        FileTime installedAt = Files.getLastModifiedTime(zfs);
        byte[] b = Files.readAllBytes(zfs);
        b[1] ^= 1;
        Path other = zfs.resolveSibling("other");
        Files.write(other, b);
        Files.setPosixFilePermissions(other, Files.getPosixFilePermissions(zfs));
        Files.setLastModifiedTime(other, installedAt);
        Files.move(other, zfs, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertRepaired("/opt/corezfs/usr/sbin/zfs");
    }

    @Test
    void aChangedModeAndAStrayFileAreFound() throws IOException {
        Files.setPosixFilePermissions(
                root.resolve("opt/corezfs/usr/sbin/zfs"), PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.writeString(root.resolve("opt/corezfs/usr/sbin/stray"), "x");
        Files.delete(root.resolve("opt/corezfs/usr/lib/libzfs.so.4"));
        assertRepaired("/opt/corezfs/usr/sbin/zfs", "/opt/corezfs/usr/sbin/stray", "/opt/corezfs/usr/lib/libzfs.so.4");
    }

    @Test
    void anUntouchedStatIsTrustedWithoutHashing() throws IOException {
        // Proof that the no-op hashes nothing whose size, mode, mtime and inode are as installed: bytes changed
        // behind a restored mtime (in place, same inode) go unnoticed. That is the price of a fast no-op.
        Path zfs = root.resolve("opt/corezfs/usr/sbin/zfs");
        FileTime installedAt = Files.getLastModifiedTime(zfs);
        byte[] b = Files.readAllBytes(zfs);
        b[0] ^= 1;
        Files.write(zfs, b);
        Files.setLastModifiedTime(zfs, installedAt);
        Cli.Run r = install();
        assertTrue(r.out().startsWith("unchanged"), r::toString);
    }

    @Test
    void aLocallyChangedEtcFileStaysTheUsersAndIsNoDamage() throws IOException {
        Files.writeString(root.resolve("etc/zfs/zed.rc"), "MINE=1\n");
        Map<String, String> before = TreeSnapshot.of(root);
        Cli.Run r = install();
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("unchanged"), r::toString);
        assertEquals(before, TreeSnapshot.of(root));
    }

    @Test
    void anOptCorezfsThatIsASymlinkToACompleteInstallOutsideIsRefused() throws IOException {
        Path outside = tmp.resolve("elsewhere/corezfs");
        Files.createDirectories(outside.getParent());
        Files.move(root.resolve("opt/corezfs"), outside);
        Files.createSymbolicLink(root.resolve("opt/corezfs"), outside);
        Map<String, String> before = TreeSnapshot.of(tmp);
        Cli.Run r = install();
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(r.err().contains(root.resolve("opt/corezfs").toString()), r::toString);
        assertEquals(before, TreeSnapshot.of(tmp));
        assertTrue(Files.isSymbolicLink(root.resolve("opt/corezfs"))
                && Files.exists(outside.resolve("usr"), LinkOption.NOFOLLOW_LINKS));
    }

    private static Map<String, String> withoutState(Map<String, String> m) {
        Map<String, String> c = new TreeMap<>(m);
        c.remove(STATE);
        return c;
    }
}
