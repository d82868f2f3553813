package io.corezfs.archive;

import io.corezfs.CorezfsException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Counts decompressed bytes and fails once a moving limit is passed. The reader moves the limit per entry, so
 * a gzip bomb or a giant PAX header is stopped while it is being read, not after it has filled the heap.
 */
final class BoundedInputStream extends FilterInputStream {
    private long position;
    private long limit;
    private String what = "archive";

    BoundedInputStream(InputStream in, long limit) {
        super(in);
        this.limit = limit;
    }

    long position() {
        return position;
    }

    void allow(long moreBytes, String what) {
        this.limit = position + moreBytes;
        this.what = what;
    }

    @Override
    public int read() throws IOException {
        check(1);
        int b = super.read();
        if (b >= 0) {
            position++;
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        check(1);
        int n = super.read(b, off, (int) Math.min(len, limit - position));
        if (n > 0) {
            position += n;
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buf = new byte[8192];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buf, 0, (int) Math.min(buf.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    private void check(long want) {
        if (position + want > limit) {
            throw CorezfsException.invalidArchive(what + " is larger than allowed");
        }
    }
}
