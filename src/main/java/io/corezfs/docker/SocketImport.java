package io.corezfs.docker;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

// Kept hand-written: 1.01x the CPU of `tar | docker import -` where docker-java costs 1.16x (BENCHMARKS.md, Import).
/**
 * The image import request written by hand as HTTP/1.1 on the engine's unix socket. docker-java's transport sends a
 * streamed body in 8 KiB chunks; for a developer container of several hundred megabytes that framing made the import
 * about a quarter slower than {@code tar | docker import -}. Here each chunk carries {@link #CHUNK} bytes and goes
 * out in one write, header and trailer included.
 *
 * <p>The answer is read on a second thread while the body is still being sent: the engine reports progress as it
 * reads, and if nobody drained those messages it would stop reading once the socket's buffer filled.
 */
final class SocketImport {
    static final int CHUNK = 256 * 1024;
    /** Room in front of each chunk for its size line ("40000\r\n"). */
    private static final int HEAD_ROOM = 8;
    /** The answer is progress messages and an id; anything beyond this is not kept. */
    private static final int MAX_ANSWER = 4 << 20;

    private SocketImport() {}

    /** The socket file named by a {@code unix://} DOCKER_HOST; empty for TCP and other schemes. */
    static Optional<Path> unixSocket(String dockerHost) {
        String scheme = "unix://";
        if (!dockerHost.startsWith(scheme) || dockerHost.length() == scheme.length()) {
            return Optional.empty();
        }
        return Optional.of(Path.of(dockerHost.substring(scheme.length())));
    }

    /**
     * Posts {@code tar} to {@code requestPath} (from {@link ImportRequest#path}) and returns the new image's id.
     *
     * @param ref names the image in error messages
     * @throws io.corezfs.CorezfsException when the engine refuses or fails the import
     * @throws IOException                 when the socket or the tar stream fails and the engine gave no answer
     */
    static String post(Path socket, String requestPath, InputStream tar, String ref) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            CompletableFuture<byte[]> answer = new CompletableFuture<>();
            Thread reader = new Thread(() -> readAll(ch, answer), "corezfs-import-answer");
            reader.setDaemon(true);
            reader.start();
            try {
                sendBody(ch, requestPath, tar);
            } catch (IOException sendFailed) {
                // An engine that rejects the request answers and hangs up without reading the body: its answer says
                // why, the broken pipe does not. Give it a moment to arrive.
                byte[] early;
                try {
                    early = answer.get(5, TimeUnit.SECONDS);
                } catch (InterruptedException | ExecutionException | TimeoutException none) {
                    throw sendFailed;
                }
                return ImportRequest.imageId(status(early), body(early), ref);
            }
            byte[] raw = await(answer);
            return ImportRequest.imageId(status(raw), body(raw), ref);
        }
    }

    private static void sendBody(SocketChannel ch, String requestPath, InputStream tar) throws IOException {
        String head = "POST " + requestPath + " HTTP/1.1\r\n"
                + "Host: docker\r\n"
                + "User-Agent: corezfs\r\n"
                + "Content-Type: application/x-tar\r\n"
                + "Transfer-Encoding: chunked\r\n"
                + "Connection: close\r\n\r\n";
        writeAll(ch, ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
        // One array per chunk: the size line goes right in front of the data, the CRLF right behind it.
        byte[] buf = new byte[HEAD_ROOM + CHUNK + 2];
        int n;
        while ((n = tar.readNBytes(buf, HEAD_ROOM, CHUNK)) > 0) {
            byte[] size = (Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            int start = HEAD_ROOM - size.length;
            System.arraycopy(size, 0, buf, start, size.length);
            buf[HEAD_ROOM + n] = '\r';
            buf[HEAD_ROOM + n + 1] = '\n';
            writeAll(ch, ByteBuffer.wrap(buf, start, size.length + n + 2));
        }
        writeAll(ch, ByteBuffer.wrap("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
    }

    private static void writeAll(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Everything the engine sends until it closes the connection (we asked it to). */
    private static void readAll(SocketChannel ch, CompletableFuture<byte[]> result) {
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        ByteBuffer b = ByteBuffer.allocate(16 * 1024);
        try {
            while (ch.read(b) >= 0) {
                if (kept.size() < MAX_ANSWER) {
                    kept.write(b.array(), 0, b.position());
                }
                b.clear();
            }
            result.complete(kept.toByteArray());
        } catch (IOException | RuntimeException e) {
            // The connection was closed under us (the send failed and the caller gave up): keep what arrived.
            if (kept.size() > 0) {
                result.complete(kept.toByteArray());
            } else {
                result.completeExceptionally(e);
            }
        }
    }

    private static byte[] await(CompletableFuture<byte[]> answer) throws IOException {
        try {
            return answer.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the engine's answer");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    // --- the answer: status line, headers, body (chunked or not) ---------------------------------------------------

    private static int headEnd(byte[] raw) throws IOException {
        for (int i = 0; i + 3 < raw.length; i++) {
            if (raw[i] == '\r' && raw[i + 1] == '\n' && raw[i + 2] == '\r' && raw[i + 3] == '\n') {
                return i;
            }
        }
        throw new IOException(
                raw.length == 0
                        ? "the engine closed the connection without an answer"
                        : "the engine's answer has no complete header");
    }

    static int status(byte[] raw) throws IOException {
        String head = new String(raw, 0, headEnd(raw), StandardCharsets.ISO_8859_1);
        String first = head.lines().findFirst().orElse("");
        String[] f = first.split(" ", 3);
        if (f.length < 2 || !f[0].startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP answer: '" + first + "'");
        }
        try {
            return Integer.parseInt(f[1]);
        } catch (NumberFormatException e) {
            throw new IOException("not an HTTP status: '" + first + "'");
        }
    }

    static InputStream body(byte[] raw) throws IOException {
        int end = headEnd(raw);
        String head = new String(raw, 0, end, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
        int from = end + 4;
        boolean chunked = head.lines().anyMatch(h -> h.startsWith("transfer-encoding:") && h.contains("chunked"));
        if (!chunked) {
            return new ByteArrayInputStream(raw, from, raw.length - from);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length - from);
        int p = from;
        while (true) {
            int eol = indexOfCrlf(raw, p);
            if (eol < 0) {
                break; // cut short: hand over what arrived, the JSON reader reports what is missing
            }
            String size = new String(raw, p, eol - p, StandardCharsets.ISO_8859_1);
            int semi = size.indexOf(';');
            int n;
            try {
                n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
            } catch (NumberFormatException e) {
                throw new IOException("malformed chunk size in the engine's answer: '" + size + "'");
            }
            p = eol + 2;
            if (n == 0) {
                break;
            }
            int take = Math.min(n, raw.length - p);
            out.write(raw, p, take);
            p += take + 2;
            if (take < n || p > raw.length) {
                break;
            }
        }
        return new ByteArrayInputStream(out.toByteArray());
    }

    private static int indexOfCrlf(byte[] raw, int from) {
        for (int i = from; i + 1 < raw.length; i++) {
            if (raw[i] == '\r' && raw[i + 1] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
