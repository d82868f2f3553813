package io.corezfs.devcontainer;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;

// Kept hand-written: only this writes the image's zero blocks as holes, saving gigabytes of disk (no benchmark).
/**
 * Decompresses a {@code .bz2} disk image into a sparse file. The developer container is a multi-gigabyte disk
 * image that is mostly unused filesystem space; writing those zeros would cost the build host gigabytes of disk
 * and minutes of I/O, so every all-zero block is skipped with a seek instead of written.
 *
 * <p>Blocks are aligned to multiples of the block size from the start of the output, so holes line up with
 * filesystem blocks. Concatenated bzip2 streams (as parallel compressors write them) are read to the end.
 */
public final class SparseBz2Decompressor {
    public static final int DEFAULT_BLOCK_SIZE = 64 * 1024;

    /** Opens the output for writing from byte 0, empty. A seam so tests can simulate a full disk. */
    @FunctionalInterface
    public interface OutputOpener {
        SeekableByteChannel open(Path output) throws IOException;
    }

    /** Plain files, created or truncated. */
    public static final OutputOpener FILES = p -> Files.newByteChannel(
            p, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);

    /**
     * What decompression did.
     *
     * @param apparentSize the decompressed length, which is the output file's size
     * @param bytesWritten bytes actually written; the rest of the file is holes
     */
    public record Result(long apparentSize, long bytesWritten) {
        public long holeBytes() {
            return apparentSize - bytesWritten;
        }
    }

    private final OutputOpener opener;
    private final int blockSize;

    public SparseBz2Decompressor() {
        this(FILES, DEFAULT_BLOCK_SIZE);
    }

    /**
     * @param blockSize hole granularity in bytes; a power of two of at least 4 KiB so holes can be filesystem
     *                  blocks
     */
    public SparseBz2Decompressor(OutputOpener opener, int blockSize) {
        if (blockSize < 4096 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block size must be a power of two >= 4096: " + blockSize);
        }
        this.opener = opener;
        this.blockSize = blockSize;
    }

    /** Decompresses the file {@code bz2} into {@code output}; see {@link #decompress(InputStream, String, Path)}. */
    public Result decompress(Path bz2, Path output) throws IOException {
        try (InputStream in = Files.newInputStream(bz2)) {
            return decompress(in, bz2.toString(), output);
        }
    }

    /**
     * Decompresses {@code bz2} into {@code output}, replacing it. On any failure the partial output is deleted, so
     * a later run never mistakes it for a finished image.
     *
     * @param source how to name the input in messages
     * @throws CorezfsException exit 3 if the disk fills up, exit 5 if the input is not valid bzip2 data
     */
    public Result decompress(InputStream bz2, String source, Path output) throws IOException {
        try {
            return run(bz2, source, output);
        } catch (Throwable t) {
            try {
                Files.deleteIfExists(output);
            } catch (IOException d) {
                t.addSuppressed(d); // the original failure is the one worth reporting
            }
            if (t instanceof IOException e && isDiskFull(e)) {
                throw new CorezfsException(
                        ExitCode.PRECONDITION,
                        "no space left on the device holding " + output + " while decompressing " + source
                                + "; free space there or choose another work directory",
                        e);
            }
            throw t;
        }
    }

    private Result run(InputStream bz2, String source, Path output) throws IOException {
        byte[] buf = new byte[blockSize];
        byte[] zeros = new byte[blockSize];
        long position = 0;
        long written = 0;
        try (SeekableByteChannel out = opener.open(output);
                InputStream in = open(bz2, source)) {
            while (true) {
                int n = read(in, buf, source);
                if (n == 0) {
                    break;
                }
                if (Arrays.mismatch(buf, 0, n, zeros, 0, n) != -1) {
                    out.position(position);
                    ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                    while (b.hasRemaining()) {
                        out.write(b);
                    }
                    written += n;
                }
                position += n;
            }
            if (out.size() < position) {
                // A channel can only grow by writing; one zero byte at the very end gives the file its full length
                // while the zeros before it stay a hole.
                out.position(position - 1);
                out.write(ByteBuffer.wrap(new byte[1]));
                written++;
            }
        }
        return new Result(position, written);
    }

    private static InputStream open(InputStream bz2, String source) throws IOException {
        try {
            return new BZip2CompressorInputStream(new BufferedInputStream(bz2, 1 << 16), true);
        } catch (IOException e) {
            throw corrupt(source, e);
        }
    }

    /** Fills {@code buf} unless the stream ends first; bzip2 faults are exit 5, not I/O errors. */
    private static int read(InputStream in, byte[] buf, String source) {
        try {
            return in.readNBytes(buf, 0, buf.length);
        } catch (IOException e) {
            throw corrupt(source, e);
        }
    }

    private static CorezfsException corrupt(String source, IOException e) {
        return new CorezfsException(
                ExitCode.VERIFICATION_FAILED,
                source + ": not valid bzip2 data ("
                        + String.valueOf(e.getMessage()).replaceAll("\\s+", " ").strip() + ")",
                e);
    }

    private static boolean isDiskFull(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
            if (m.contains("no space left") || m.contains("disk quota exceeded")) {
                return true;
            }
        }
        return false;
    }
}
