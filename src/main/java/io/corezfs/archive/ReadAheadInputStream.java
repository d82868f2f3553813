package io.corezfs.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Reads its source on a second thread, a few chunks ahead. Installing is inflate, then hash and write; with this the
 * inflating overlaps the rest, as {@code tar -xzf} overlaps gzip and tar in two processes. Errors of the source,
 * truncation included, reach the reader unchanged and in order.
 */
final class ReadAheadInputStream extends InputStream {
    private static final byte[] EOF = new byte[0];
    private static final int CHUNK = 256 * 1024;

    private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(4);
    private final Thread thread;
    private volatile boolean closed;
    private byte[] current = new byte[0];
    private int pos;
    private boolean done;

    ReadAheadInputStream(InputStream source) {
        thread = new Thread(() -> pump(source), "corezfs-read-ahead");
        thread.setDaemon(true);
        thread.start();
    }

    private void pump(InputStream source) {
        try {
            while (!closed) {
                byte[] buf = new byte[CHUNK];
                int n = source.readNBytes(buf, 0, CHUNK);
                if (n > 0 && !offer(n == CHUNK ? buf : Arrays.copyOf(buf, n))) {
                    return;
                }
                if (n < CHUNK) {
                    offer(EOF);
                    return;
                }
            }
        } catch (IOException | RuntimeException e) {
            offer(e);
        }
    }

    private boolean offer(Object item) {
        try {
            while (!closed) {
                if (queue.offer(item, 100, TimeUnit.MILLISECONDS)) {
                    return true;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    private boolean fill() throws IOException {
        if (done) {
            return false;
        }
        Object next;
        try {
            next = queue.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading the archive");
        }
        if (next instanceof IOException e) {
            done = true;
            throw e;
        }
        if (next instanceof RuntimeException e) {
            done = true;
            throw e;
        }
        current = (byte[]) next;
        pos = 0;
        if (current == EOF) {
            done = true;
            return false;
        }
        return true;
    }

    @Override
    public int read() throws IOException {
        while (pos >= current.length) {
            if (!fill()) {
                return -1;
            }
        }
        return current[pos++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (pos >= current.length) {
            if (!fill()) {
                return -1;
            }
        }
        int n = Math.min(len, current.length - pos);
        System.arraycopy(current, pos, b, off, n);
        pos += n;
        return n;
    }

    @Override
    public void close() {
        closed = true;
        queue.clear();
        thread.interrupt();
    }
}
