package io.corezfs.archive;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

// Kept hand-written: pack runs at 0.68x `tar | gzip -6` (BENCHMARKS.md); no library deflates reproducibly in parallel.
/**
 * A gzip writer that deflates fixed-size blocks on several threads and still emits one ordinary gzip member.
 *
 * <p>Each block is raw-deflated with the previous block's last 32 KiB as its preset dictionary and ends in a sync
 * flush, so the blocks concatenate into one valid deflate stream that compresses almost as well as a serial one.
 * Block boundaries depend only on the input, so the output bytes do not depend on thread timing: archives stay
 * reproducible. The header carries no file name and a zero mtime for the same reason.
 */
public final class ParallelGzipOutputStream extends OutputStream {
    private static final int BLOCK = 128 * 1024;
    private static final int DICT = 32 * 1024;
    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};

    private final OutputStream out;
    private final int level;
    private final ExecutorService pool;
    private final int maxInFlight;
    private final Deque<Future<byte[]>> inFlight = new ArrayDeque<>();
    private final CRC32 crc = new CRC32();
    private final ThreadLocal<Deflater> deflaters;

    private byte[] block = new byte[BLOCK];
    private int fill;
    private byte[] dictionary;
    private long total;
    private boolean closed;

    public ParallelGzipOutputStream(OutputStream out, int level, int threads) throws IOException {
        this.out = out;
        this.level = level;
        this.pool = threads > 1
                ? Executors.newFixedThreadPool(threads, r -> {
                    Thread t = new Thread(r, "corezfs-gzip");
                    t.setDaemon(true);
                    return t;
                })
                : null;
        this.maxInFlight = Math.max(2, threads * 2);
        this.deflaters = ThreadLocal.withInitial(() -> new Deflater(level, true));
        out.write(HEADER);
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        crc.update(b, off, len);
        total += len;
        while (len > 0) {
            int n = Math.min(len, BLOCK - fill);
            System.arraycopy(b, off, block, fill, n);
            fill += n;
            off += n;
            len -= n;
            if (fill == BLOCK) {
                submit(false);
            }
        }
    }

    private void submit(boolean last) throws IOException {
        byte[] data = block;
        int length = fill;
        byte[] dict = dictionary;
        if (length >= DICT) {
            dictionary = Arrays.copyOfRange(data, length - DICT, length);
        } else if (length > 0) {
            // A short block still has to carry the window forward for the block after it.
            byte[] merged = dict == null ? new byte[0] : dict;
            byte[] next = Arrays.copyOf(merged, merged.length + length);
            System.arraycopy(data, 0, next, merged.length, length);
            dictionary = Arrays.copyOfRange(next, Math.max(0, next.length - DICT), next.length);
        }
        block = new byte[BLOCK];
        fill = 0;
        if (pool == null) {
            out.write(deflate(data, length, dict, last));
            return;
        }
        inFlight.addLast(pool.submit(() -> deflate(data, length, dict, last)));
        while (inFlight.size() >= maxInFlight) {
            drainOne();
        }
    }

    private byte[] deflate(byte[] data, int length, byte[] dict, boolean last) {
        Deflater d = deflaters.get();
        d.reset();
        d.setLevel(level);
        if (dict != null) {
            d.setDictionary(dict);
        }
        d.setInput(data, 0, length);
        byte[] buf = new byte[length + (length >> 3) + 128];
        int pos = 0;
        if (last) {
            d.finish();
            while (!d.finished()) {
                if (pos == buf.length) {
                    buf = Arrays.copyOf(buf, buf.length * 2);
                }
                pos += d.deflate(buf, pos, buf.length - pos);
            }
        } else {
            while (true) {
                int n = d.deflate(buf, pos, buf.length - pos, Deflater.SYNC_FLUSH);
                pos += n;
                if (pos < buf.length) {
                    break;
                }
                buf = Arrays.copyOf(buf, buf.length * 2);
            }
        }
        return Arrays.copyOf(buf, pos);
    }

    private void drainOne() throws IOException {
        Future<byte[]> f = inFlight.pollFirst();
        try {
            out.write(f.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while compressing");
        } catch (ExecutionException e) {
            throw new IOException("compression failed", e.getCause());
        }
    }

    /** Writes the last block and the gzip trailer, then closes the underlying stream. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            submit(true);
            while (!inFlight.isEmpty()) {
                drainOne();
            }
            long c = crc.getValue();
            out.write(new byte[] {
                (byte) c,
                (byte) (c >>> 8),
                (byte) (c >>> 16),
                (byte) (c >>> 24),
                (byte) total,
                (byte) (total >>> 8),
                (byte) (total >>> 16),
                (byte) (total >>> 24)
            });
        } finally {
            if (pool != null) {
                pool.shutdownNow();
            }
            out.close();
        }
    }
}
