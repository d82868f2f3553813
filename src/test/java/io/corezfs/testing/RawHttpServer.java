package io.corezfs.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A misbehaving HTTP server on 127.0.0.1: each connection's request line goes to a handler that writes whatever
 * bytes it likes (or nothing), so tests can play servers that never answer, never stop or lie about lengths.
 */
public final class RawHttpServer implements AutoCloseable {
    /** Answers one request; {@code path} is the request target, e.g. {@code /index.json}. */
    @FunctionalInterface
    public interface Handler {
        void handle(String path, OutputStream out) throws IOException, InterruptedException;
    }

    private final ServerSocket socket;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "raw-http");
        t.setDaemon(true);
        return t;
    });
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    public final List<String> requests = new CopyOnWriteArrayList<>();

    public RawHttpServer(Handler handler) throws IOException {
        socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        pool.execute(() -> {
            while (!socket.isClosed()) {
                try {
                    Socket s = socket.accept();
                    open.add(s);
                    pool.execute(() -> serve(s, handler));
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    public URI base() {
        return URI.create("http://127.0.0.1:" + socket.getLocalPort());
    }

    private void serve(Socket s, Handler handler) {
        try (s) {
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
            String line = in.readLine();
            if (line == null) {
                return;
            }
            for (String h = in.readLine(); h != null && !h.isEmpty(); h = in.readLine()) {
                // the headers are not needed
            }
            requests.add(line);
            String[] parts = line.split(" ");
            handler.handle(parts.length > 1 ? parts[1] : "/", s.getOutputStream());
        } catch (IOException | InterruptedException e) {
            // the client went away, or the server is closing
        }
    }

    /** The head of a response: status line, the given headers, blank line. */
    public static byte[] head(int status, String... headers) {
        StringBuilder b = new StringBuilder("HTTP/1.1 ").append(status).append(" X\r\n");
        for (String h : headers) {
            b.append(h).append("\r\n");
        }
        return b.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
        for (Socket s : open) {
            s.close();
        }
        pool.shutdownNow();
    }
}
