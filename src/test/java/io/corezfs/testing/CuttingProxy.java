package io.corezfs.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP relay on 127.0.0.1 that cuts the connection once {@code cutAfter} bytes went from client to server: a
 * transfer broken at a known point, as a pulled cable would break it, but the same every run.
 */
public final class CuttingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int target;
    private final long cutAfter;
    private final AtomicLong upstream = new AtomicLong();
    private volatile boolean closed;

    public CuttingProxy(int target, long cutAfter) throws IOException {
        this.server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        this.target = target;
        this.cutAfter = cutAfter;
        Thread t = new Thread(this::accept, "cutting-proxy");
        t.setDaemon(true);
        t.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Bytes relayed from client to server. */
    public long upstreamBytes() {
        return upstream.get();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                Socket up = new Socket(InetAddress.getLoopbackAddress(), target);
                pipe(client, up, true);
                pipe(up, client, false);
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pipe(Socket from, Socket to, boolean counted) {
        Thread t = new Thread(
                () -> {
                    byte[] buf = new byte[16 << 10];
                    try (InputStream in = from.getInputStream();
                            OutputStream out = to.getOutputStream()) {
                        int n;
                        while ((n = in.read(buf)) > 0) {
                            if (counted) {
                                long room = cutAfter - upstream.get();
                                if (room <= 0) {
                                    break;
                                }
                                n = (int) Math.min(n, room);
                                upstream.addAndGet(n);
                            }
                            out.write(buf, 0, n);
                        }
                    } catch (IOException e) {
                        // the other side went
                    } finally {
                        closeQuietly(from);
                        closeQuietly(to);
                    }
                },
                "cutting-proxy-pipe");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
    }
}
