package io.corezfs.devcontainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparseBz2DecompressorTest {
    private static final int MIB = 1 << 20;

    /** A disk image in miniature: data, a big hole, data at an unaligned offset, and a hole to the very end. */
    private static final long[][] DATA_RANGES = {{0, 100_000}, {20L * MIB + 12_345, 20L * MIB + 112_345}};

    private static final long IMAGE_SIZE = 32L * MIB;

    @TempDir
    static Path shared;

    private static Path original;
    private static Path compressed;

    @TempDir
    Path dir;

    @BeforeAll
    static void makeImage() throws IOException {
        original = shared.resolve("disk.img");
        Random r = new Random(42);
        try (RandomAccessFile f = new RandomAccessFile(original.toFile(), "rw")) {
            f.setLength(IMAGE_SIZE);
            for (long[] range : DATA_RANGES) {
                byte[] data = new byte[(int) (range[1] - range[0])];
                r.nextBytes(data);
                data[1000] = 0; // short zero runs inside data must survive as data
                Arrays.fill(data, 5000, 9000, (byte) 0);
                f.seek(range[0]);
                f.write(data);
            }
        }
        compressed = shared.resolve("disk.img.bz2");
        try (OutputStream out = new BZip2CompressorOutputStream(Files.newOutputStream(compressed), 1)) {
            Files.copy(original, out);
        }
    }

    @Test
    void decompressesByteIdenticalAndLeavesTheZerosAsHoles() throws Exception {
        Path out = dir.resolve("disk.img");

        SparseBz2Decompressor.Result r = new SparseBz2Decompressor().decompress(compressed, out);

        assertEquals(IMAGE_SIZE, r.apparentSize());
        assertEquals(IMAGE_SIZE, Files.size(out));
        assertEquals(-1, Files.mismatch(original, out), "output differs from the original");
        assertTrue(r.bytesWritten() < MIB, "wrote " + r.bytesWritten() + " bytes");
        assertEquals(IMAGE_SIZE - r.bytesWritten(), r.holeBytes());
        io.corezfs.testing.Requirements.need(supportsHoles(dir), "this filesystem does not keep holes");
        long allocated = allocatedBytes(out);
        assertTrue(allocated < IMAGE_SIZE / 10, "allocated " + allocated + " of " + IMAGE_SIZE + " bytes");
    }

    @Test
    void anExistingOutputIsReplacedNotOverlaid() throws IOException {
        Path out = dir.resolve("small.img");
        Files.write(out, filled(3 * MIB, (byte) 0x55));

        SparseBz2Decompressor.Result r = new SparseBz2Decompressor()
                .decompress(new ByteArrayInputStream(bz2(new byte[100_000])), "zeros.bz2", out);

        assertEquals(100_000, Files.size(out));
        assertArrayEquals(new byte[100_000], Files.readAllBytes(out));
        assertEquals(1, r.bytesWritten(), "only the final byte that sets the length");
    }

    @Test
    void anEmptyStreamGivesAnEmptyFile() throws IOException {
        Path out = dir.resolve("empty.img");

        SparseBz2Decompressor.Result r =
                new SparseBz2Decompressor().decompress(new ByteArrayInputStream(bz2(new byte[0])), "empty.bz2", out);

        assertEquals(new SparseBz2Decompressor.Result(0, 0), r);
        assertEquals(0, Files.size(out));
    }

    @Test
    void concatenatedStreamsAsParallelCompressorsWriteThemAreReadToTheEnd() throws IOException {
        byte[] a = "first stream\n".getBytes(StandardCharsets.US_ASCII);
        byte[] b = "second stream\n".getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream both = new ByteArrayOutputStream();
        both.write(bz2(a));
        both.write(bz2(b));
        Path out = dir.resolve("concat.img");

        new SparseBz2Decompressor().decompress(new ByteArrayInputStream(both.toByteArray()), "concat.bz2", out);

        assertEquals("first stream\nsecond stream\n", Files.readString(out));
    }

    @Test
    void aFullDiskDeletesThePartialOutputAndIsAPreconditionFailure() {
        Path out = dir.resolve("disk.img");
        SparseBz2Decompressor.OutputOpener fillsUpAfter100k =
                p -> new FullDisk(SparseBz2Decompressor.FILES.open(p), 100_000);

        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> new SparseBz2Decompressor(fillsUpAfter100k, 64 * 1024).decompress(compressed, out));

        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertTrue(e.getMessage().contains("no space left on the device holding " + out), e.getMessage());
        assertFalse(Files.exists(out), "partial output must be deleted");
    }

    @Test
    void otherWriteErrorsStillDeleteThePartialOutputButKeepTheirCause() {
        Path out = dir.resolve("disk.img");
        SparseBz2Decompressor.OutputOpener broken = p -> new FullDisk(SparseBz2Decompressor.FILES.open(p), 0) {
            @Override
            IOException failure() {
                return new IOException("Input/output error");
            }
        };

        IOException e = assertThrows(
                IOException.class, () -> new SparseBz2Decompressor(broken, 64 * 1024).decompress(compressed, out));

        assertEquals("Input/output error", e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void dataThatIsNotBzip2IsAVerificationFailure() throws IOException {
        Path out = dir.resolve("x.img");
        byte[] garbage = "BZh9 but not really a bzip2 stream at all".getBytes(StandardCharsets.US_ASCII);

        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> new SparseBz2Decompressor().decompress(new ByteArrayInputStream(garbage), "x.bz2", out));

        assertEquals(ExitCode.VERIFICATION_FAILED, e.exitCode());
        assertTrue(e.getMessage().startsWith("x.bz2: not valid bzip2 data"), e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void aTruncatedStreamIsAVerificationFailure() throws IOException {
        byte[] whole = bz2(filled(500_000, (byte) 7));
        byte[] cut = Arrays.copyOf(whole, whole.length / 2);
        Path out = dir.resolve("cut.img");

        assertEquals(
                ExitCode.VERIFICATION_FAILED,
                assertThrows(
                                CorezfsException.class,
                                () -> new SparseBz2Decompressor()
                                        .decompress(new ByteArrayInputStream(cut), "cut.bz2", out))
                        .exitCode());
        assertFalse(Files.exists(out));
    }

    @Test
    void blockSizeMustBeAPowerOfTwoOfAtLeastAPage() {
        assertThrows(
                IllegalArgumentException.class, () -> new SparseBz2Decompressor(SparseBz2Decompressor.FILES, 1000));
        assertThrows(
                IllegalArgumentException.class, () -> new SparseBz2Decompressor(SparseBz2Decompressor.FILES, 2048));
    }

    /** A channel on a disk that fills up after {@code capacity} bytes, failing the way Linux reports ENOSPC. */
    private static class FullDisk implements SeekableByteChannel {
        private final SeekableByteChannel delegate;
        private long left;

        FullDisk(SeekableByteChannel delegate, long capacity) {
            this.delegate = delegate;
            this.left = capacity;
        }

        IOException failure() {
            return new IOException("No space left on device");
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (src.remaining() > left) {
                throw failure();
            }
            left -= src.remaining();
            return delegate.write(src);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return delegate.read(dst);
        }

        @Override
        public long position() throws IOException {
            return delegate.position();
        }

        @Override
        public SeekableByteChannel position(long p) throws IOException {
            delegate.position(p);
            return this;
        }

        @Override
        public long size() throws IOException {
            return delegate.size();
        }

        @Override
        public SeekableByteChannel truncate(long size) throws IOException {
            delegate.truncate(size);
            return this;
        }

        @Override
        public boolean isOpen() {
            return delegate.isOpen();
        }

        @Override
        public void close() throws IOException {
            delegate.close();
        }
    }

    private static byte[] bz2(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new BZip2CompressorOutputStream(bytes, 1)) {
            out.write(data);
        }
        return bytes.toByteArray();
    }

    private static byte[] filled(int n, byte b) {
        byte[] a = new byte[n];
        Arrays.fill(a, b);
        return a;
    }

    private static boolean supportsHoles(Path dir) throws Exception {
        Path probe = Files.createTempFile(dir, "probe", ".img");
        try (RandomAccessFile f = new RandomAccessFile(probe.toFile(), "rw")) {
            f.setLength(16L * MIB);
        }
        try {
            return allocatedBytes(probe) < MIB;
        } finally {
            Files.delete(probe);
        }
    }

    /** Allocated size from stat(1): the JDK exposes no st_blocks. */
    private static long allocatedBytes(Path file) throws Exception {
        Process p = new ProcessBuilder("stat", "-c", "%b %B", file.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        assertTrue(p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0, "stat failed: " + out);
        String[] parts = out.split(" ");
        return Long.parseLong(parts[0]) * Long.parseLong(parts[1]);
    }
}
