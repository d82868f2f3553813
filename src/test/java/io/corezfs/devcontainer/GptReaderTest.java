package io.corezfs.devcontainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.testing.Requirements;
import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GptReaderTest {
    private static final long MIB_SECTORS = 2048;

    @TempDir
    Path dir;

    @Test
    void readsEveryUsedEntryWithNumberNameTypeAndRange() throws IOException {
        UUID efi = UUID.fromString("c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
        Path img = new TestGpt(16 * MIB_SECTORS)
                .partition(1, "EFI-SYSTEM", efi, 2048, 4095)
                .partition(9, "ROOT", 4096, 16 * MIB_SECTORS - 34)
                .disk(UUID.fromString("00112233-4455-6677-8899-aabbccddeeff"))
                .write(dir.resolve("disk.img"));

        GptTable t = GptReader.read(img);

        assertEquals(UUID.fromString("00112233-4455-6677-8899-aabbccddeeff"), t.diskGuid());
        assertEquals(
                List.of(
                        new GptPartition(1, "EFI-SYSTEM", efi, 2048, 4095),
                        new GptPartition(9, "ROOT", TestGpt.LINUX_FS, 4096, 16 * MIB_SECTORS - 34)),
                t.partitions());
        GptPartition efiPart = t.partition(1).orElseThrow();
        assertEquals(2048L * 512, efiPart.byteOffset());
        assertEquals(2048L * 512, efiPart.byteLength());
    }

    @Test
    void findRootPrefersPartitionNineLabelledRootAndTakesItsOffsetFromTheTable() throws IOException {
        Path img = new TestGpt(16 * MIB_SECTORS)
                .partition(1, "ROOT-OLD", 2048, 4095)
                .partition(9, "ROOT", 6144, 8191)
                .write(dir.resolve("disk.img"));

        GptPartition root = GptReader.read(img).findRoot();

        assertEquals(9, root.number());
        assertEquals(6144L * 512, root.byteOffset());
        assertEquals(2048L * 512, root.byteLength());
    }

    @Test
    void findRootFallsBackToTheOnePartitionLabelledRoot() throws IOException {
        Path img = new TestGpt(8 * MIB_SECTORS)
                .partition(1, "EFI-SYSTEM", 2048, 2559)
                .partition(3, "ROOT", 4096, 8191)
                .partition(9, "OEM", 8192, 9000)
                .write(dir.resolve("disk.img"));

        assertEquals(3, GptReader.read(img).findRoot().number());
    }

    @Test
    void findRootWithoutAnyRootLabelIsABuildFailureListingWhatWasFound() throws IOException {
        Path img =
                new TestGpt(8 * MIB_SECTORS).partition(1, "USR-A", 2048, 4095).write(dir.resolve("disk.img"));

        CorezfsException e =
                assertThrows(CorezfsException.class, () -> GptReader.read(img).findRoot());

        assertEquals(ExitCode.BUILD_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains("1='USR-A'"), e.getMessage());
    }

    @Test
    void twoRootLabelsOutsideSlotNineAreAmbiguous() throws IOException {
        Path img = new TestGpt(8 * MIB_SECTORS)
                .partition(2, "ROOT", 2048, 4095)
                .partition(3, "ROOT", 4096, 6143)
                .write(dir.resolve("disk.img"));

        assertEquals(
                ExitCode.BUILD_FAILED,
                assertThrows(CorezfsException.class, () -> GptReader.read(img).findRoot())
                        .exitCode());
    }

    @Test
    void namesAreUtf16AndStopAtTheFirstNul() throws IOException {
        Path img = new TestGpt(8 * MIB_SECTORS)
                .partition(1, "Ünïcødé-名前", 2048, 4095)
                .partition(2, "thirty-six-characters-long-label-xyz", 4096, 4100)
                .write(dir.resolve("disk.img"));

        GptTable t = GptReader.read(img);

        assertEquals("Ünïcødé-名前", t.partition(1).orElseThrow().name());
        assertEquals(
                "thirty-six-characters-long-label-xyz",
                t.partition(2).orElseThrow().name());
    }

    @Test
    void readsThroughAnyChannelNotOnlyAPath() throws IOException {
        Path img = new TestGpt(8 * MIB_SECTORS).partition(9, "ROOT", 4096, 8191).write(dir.resolve("disk.img"));

        try (SeekableByteChannel ch = Files.newByteChannel(img)) {
            assertEquals(4096L * 512, GptReader.read(ch, "disk.img").findRoot().byteOffset());
        }
    }

    @Test
    void anImageWithoutAGptIsAVerificationFailure() throws IOException {
        Path img = dir.resolve("plain.bin");
        Files.write(img, new byte[64 * 1024]);

        CorezfsException e = assertThrows(CorezfsException.class, () -> GptReader.read(img));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains("EFI PART"), e.getMessage());
    }

    @Test
    void aTinyFileIsAVerificationFailure() throws IOException {
        Path img = Files.write(dir.resolve("tiny.bin"), "hello".getBytes(StandardCharsets.US_ASCII));

        assertEquals(
                ExitCode.VERIFICATION_FAILED,
                assertThrows(CorezfsException.class, () -> GptReader.read(img)).exitCode());
    }

    @Test
    void aCorruptHeaderFailsItsCrc() throws IOException {
        Path img = new TestGpt(8 * MIB_SECTORS).partition(9, "ROOT", 4096, 8191).write(dir.resolve("disk.img"));
        TestGpt.flipByte(img, 512 + 40); // first usable LBA

        CorezfsException e = assertThrows(CorezfsException.class, () -> GptReader.read(img));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains("header CRC32"), e.getMessage());
    }

    @Test
    void aCorruptEntryFailsTheArrayCrc() throws IOException {
        Path img = new TestGpt(8 * MIB_SECTORS).partition(9, "ROOT", 4096, 8191).write(dir.resolve("disk.img"));
        TestGpt.flipByte(img, 1024 + 8 * 128 + 32); // partition 9's first LBA

        CorezfsException e = assertThrows(CorezfsException.class, () -> GptReader.read(img));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains("entry array CRC32"), e.getMessage());
    }

    @Test
    void aPartitionPastTheEndOfTheImageMeansItWasTruncated() throws IOException {
        Path img = new TestGpt(8 * MIB_SECTORS)
                .partition(9, "ROOT", 4096, 8 * MIB_SECTORS + 100)
                .write(dir.resolve("disk.img"));

        CorezfsException e = assertThrows(CorezfsException.class, () -> GptReader.read(img));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void aHostileEntryCountIsRefusedBeforeAnythingIsAllocated() throws IOException {
        Path img = new TestGpt(8 * MIB_SECTORS).partition(9, "ROOT", 4096, 8191).write(dir.resolve("disk.img"));
        TestGpt.patchHeaderInt(img, 80, Integer.MAX_VALUE);

        CorezfsException e = assertThrows(CorezfsException.class, () -> GptReader.read(img));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains("implausibly large"), e.getMessage());
    }

    @Test
    void aBadEntrySizeIsRefused() throws IOException {
        Path img = new TestGpt(8 * MIB_SECTORS).partition(9, "ROOT", 4096, 8191).write(dir.resolve("disk.img"));
        TestGpt.patchHeaderInt(img, 84, 100);

        assertEquals(
                ExitCode.VERIFICATION_FAILED,
                assertThrows(CorezfsException.class, () -> GptReader.read(img)).exitCode());
    }

    @Test
    void agreesWithSfdiskOnATableItWrote() throws Exception {
        Optional<Path> sfdisk = Requirements.which("sfdisk");
        io.corezfs.testing.Requirements.need(sfdisk.isPresent(), "sfdisk not installed (apt-get install fdisk)");
        Path img = dir.resolve("dev.img");
        try (var f = new java.io.RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(8L << 20);
        }
        String script = "label: gpt\n"
                + "dev.img1 : start=2048, size=1024, name=\"EFI-SYSTEM\"\n"
                + "dev.img9 : start=4096, size=8192, name=\"ROOT\"\n";
        Process p = new ProcessBuilder(sfdisk.get().toString(), "--quiet", "--no-reread", "--no-tell-kernel", "dev.img")
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        p.getOutputStream().write(script.getBytes(StandardCharsets.US_ASCII));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "sfdisk failed: " + out);

        GptTable t = GptReader.read(img);

        GptPartition root = t.findRoot();
        assertEquals(9, root.number());
        assertEquals("ROOT", root.name());
        assertEquals(TestGpt.LINUX_FS, root.typeGuid());
        assertEquals(2097152L, root.byteOffset());
        assertEquals(8192L * 512, root.byteLength());
        assertEquals(
                List.of(1, 9), t.partitions().stream().map(GptPartition::number).toList());
    }

    /** Finds a tool on PATH or in the sbin directories, which a non-login root shell may not have on PATH. */
}
