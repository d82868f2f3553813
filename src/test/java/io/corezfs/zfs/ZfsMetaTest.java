package io.corezfs.zfs;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ZfsMetaTest {
    /** The META file of the OpenZFS 2.1.11 release tarball. */
    private static final String META_2_1_11 = """
            Meta:          1
            Name:          zfs
            Branch:        1.0
            Version:       2.1.11
            Release:       1
            Release-Tags:  relext
            License:       CDDL
            Author:        OpenZFS
            Linux-Maximum: 6.2
            Linux-Minimum: 3.10
            """;

    private final ZfsMeta meta = ZfsMeta.parse(META_2_1_11, "zfs-2.1.11/META");

    @TempDir
    Path dir;

    @Test
    void readsNameVersionReleaseAndKernelRange() throws IOException {
        ZfsMeta m = ZfsMeta.read(Files.writeString(dir.resolve("META"), META_2_1_11));

        assertEquals("zfs", m.name());
        assertEquals("2.1.11", m.version());
        assertEquals(Optional.of("1"), m.release());
        assertEquals(Optional.of("3.10"), m.linuxMinimum());
        assertEquals(Optional.of("6.2"), m.linuxMaximum());
        assertEquals(Optional.of("CDDL"), m.field("license"));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {"6.1.0-55-cloud-amd64", "6.2.16", "6.2", "3.10.0-1160.el7.x86_64", "5.15.148-flatcar", "4.19.0"})
    void kernelsInsideTheRangeAreSupported(String kernel) {
        assertTrue(meta.supportsKernel(kernel), kernel);
        assertDoesNotThrow(() -> meta.requireKernel(kernel));
    }

    @ParameterizedTest
    @ValueSource(strings = {"6.3.0", "6.10.5-flatcar", "7.0.0", "3.9.11", "2.6.32-754.el6.x86_64"})
    void kernelsOutsideTheRangeAreAPreconditionFailureNamingBothVersions(String kernel) {
        assertFalse(meta.supportsKernel(kernel), kernel);

        CorezfsException e = assertThrows(CorezfsException.class, () -> meta.requireKernel(kernel));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertTrue(e.getMessage().contains("OpenZFS 2.1.11 supports Linux 3.10 to 6.2"), e.getMessage());
        assertTrue(e.getMessage().contains(kernel), e.getMessage());
    }

    @Test
    void minorVersionsCompareAsNumbersNotText() {
        ZfsMeta m = ZfsMeta.parse("Name: zfs\nVersion: 2.2.6\nLinux-Minimum: 4.18\nLinux-Maximum: 6.10\n", "META");

        assertTrue(m.supportsKernel("6.9.0"));
        assertTrue(m.supportsKernel("6.10.14-flatcar"));
        assertFalse(m.supportsKernel("6.11.0"));
        assertFalse(m.supportsKernel("4.9.0"));
    }

    @Test
    void aMissingBoundDoesNotLimit() {
        ZfsMeta m = ZfsMeta.parse("Name: zfs\nVersion: 9.9.9\nLinux-Minimum: 4.18\n", "META");

        assertTrue(m.supportsKernel("99.0.0"));
        assertFalse(m.supportsKernel("4.17.0"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "linux", "6", "-6.1"})
    void anUnreadableKernelReleaseIsAPreconditionFailure(String kernel) {
        CorezfsException e = assertThrows(CorezfsException.class, () -> meta.supportsKernel(kernel));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertTrue(e.getMessage().contains("'" + kernel + "'"), e.getMessage());
    }

    @Test
    void aFileWithoutNameOrVersionIsNotAMetaFile() {
        CorezfsException e = assertThrows(CorezfsException.class, () -> ZfsMeta.parse("Name: zfs\n", "src/META"));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertTrue(e.getMessage().contains("src/META: no 'Version:' line"), e.getMessage());
    }

    @Test
    void aLineThatIsNotKeyValueNamesItsLine() {
        CorezfsException e = assertThrows(
                CorezfsException.class, () -> ZfsMeta.parse("Name: zfs\nVersion: 2.1.11\n<<<<<<< HEAD\n", "META"));

        assertTrue(e.getMessage().startsWith("META:3:"), e.getMessage());
    }

    @Test
    void aBoundThatIsNotMajorMinorIsRefusedAtParseTime() {
        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> ZfsMeta.parse("Name: zfs\nVersion: 2.1.11\nLinux-Maximum: latest\n", "META"));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertTrue(e.getMessage().contains("Linux-Maximum 'latest'"), e.getMessage());
    }

    @Test
    void blankLinesCommentsAndCrlfAreTolerated() {
        ZfsMeta m = ZfsMeta.parse("# generated\r\n\r\nName: zfs\r\nVersion: 2.1.11\r\nLinux-Maximum: 6.2\r\n", "META");

        assertEquals("2.1.11", m.version());
        assertEquals(Optional.of("6.2"), m.linuxMaximum());
    }
}
