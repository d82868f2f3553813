package io.corezfs.trust;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The SSH wire encoding (RFC 4251 section 5) of the few types signatures and keys use: {@code uint32} and
 * {@code string}. Reading is bounded by the buffer: a length that runs past its end is an error, never an
 * allocation, because every blob read here comes from a file an attacker may have written.
 */
final class SshWire {
    /** Thrown for any malformed blob; callers turn it into their own one-line message. */
    static final class Malformed extends Exception {
        Malformed(String message) {
            super(message);
        }
    }

    static final class Reader {
        private final byte[] b;
        private int pos;

        Reader(byte[] b) {
            this.b = b;
        }

        int uint32() throws Malformed {
            if (b.length - pos < 4) {
                throw new Malformed("truncated");
            }
            int v = ((b[pos] & 0xff) << 24)
                    | ((b[pos + 1] & 0xff) << 16)
                    | ((b[pos + 2] & 0xff) << 8)
                    | (b[pos + 3] & 0xff);
            pos += 4;
            return v;
        }

        byte[] string() throws Malformed {
            int n = uint32();
            if (n < 0 || n > b.length - pos) {
                throw new Malformed("a length runs past the end");
            }
            byte[] out = Arrays.copyOfRange(b, pos, pos + n);
            pos += n;
            return out;
        }

        String text() throws Malformed {
            byte[] s = string();
            for (byte c : s) {
                if (c < 0x20 || c > 0x7e) {
                    throw new Malformed("a name holds a byte that is not printable ASCII");
                }
            }
            return new String(s, StandardCharsets.US_ASCII);
        }

        byte[] raw(int n) throws Malformed {
            if (n > b.length - pos) {
                throw new Malformed("truncated");
            }
            byte[] out = Arrays.copyOfRange(b, pos, pos + n);
            pos += n;
            return out;
        }

        void end() throws Malformed {
            if (pos != b.length) {
                throw new Malformed((b.length - pos) + " unexpected trailing bytes");
            }
        }

        int remaining() {
            return b.length - pos;
        }
    }

    static final class Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Writer raw(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        Writer uint32(int v) {
            out.write(v >>> 24);
            out.write(v >>> 16);
            out.write(v >>> 8);
            out.write(v);
            return this;
        }

        Writer string(byte[] b) {
            uint32(b.length);
            return raw(b);
        }

        Writer string(String s) {
            return string(s.getBytes(StandardCharsets.US_ASCII));
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    private SshWire() {}
}
