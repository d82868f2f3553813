package io.corezfs.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ParallelGzipOutputStreamTest {
    @TempDir
    Path tmp;

    private static byte[] mixedData() {
        Random r = new Random(7);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 0; i < 40; i++) {
            byte[] chunk = new byte[10_000 + r.nextInt(60_000)];
            if (i % 3 == 0) {
                r.nextBytes(chunk);
            } else {
                for (int j = 0; j < chunk.length; j++) {
                    chunk[j] = (byte) "the quick brown fox ".charAt((j + i) % 20);
                }
            }
            b.writeBytes(chunk);
        }
        return b.toByteArray();
    }

    private static byte[] gzip(byte[] data, int threads, int writeSize) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ParallelGzipOutputStream gz = new ParallelGzipOutputStream(out, 6, threads)) {
            for (int off = 0; off < data.length; off += writeSize) {
                gz.write(data, off, Math.min(writeSize, data.length - off));
            }
        }
        return out.toByteArray();
    }

    @Test
    void roundTripsThroughTheJdkAndGnuGzip() throws Exception {
        byte[] data = mixedData();
        byte[] gz = gzip(data, 2, 4096);
        assertArrayEquals(data, new GZIPInputStream(new java.io.ByteArrayInputStream(gz)).readAllBytes());
        Path f = tmp.resolve("x.gz");
        Files.write(f, gz);
        Process p = new ProcessBuilder("gzip", "-t", f.toString()).inheritIO().start();
        assertEquals(0, p.waitFor(), "gzip -t accepts it");
    }

    @Test
    void outputDoesNotDependOnThreadsOrWriteSizes() throws IOException {
        byte[] data = mixedData();
        byte[] one = gzip(data, 1, 1 << 20);
        assertArrayEquals(one, gzip(data, 2, 4096));
        assertArrayEquals(one, gzip(data, 4, 513));
    }

    @Test
    void compressesAboutAsWellAsSerialDeflate() throws IOException {
        byte[] data = mixedData();
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        try (var gz = new java.util.zip.GZIPOutputStream(serial)) {
            gz.write(data);
        }
        double ratio = (double) gzip(data, 2, 65536).length / serial.size();
        assertTrue(ratio < 1.02, "within 2% of serial gzip, was " + ratio);
    }

    @Test
    void emptyInputIsAValidGzip() throws IOException {
        byte[] gz = gzip(new byte[0], 2, 1);
        assertEquals(0, new GZIPInputStream(new java.io.ByteArrayInputStream(gz)).readAllBytes().length);
    }
}
