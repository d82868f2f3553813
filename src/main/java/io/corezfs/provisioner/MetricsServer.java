package io.corezfs.provisioner;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** {@code GET /metrics} on one address, the JDK's own HTTP server; anything else is 404. */
public final class MetricsServer implements AutoCloseable {
    private final HttpServer server;

    private MetricsServer(HttpServer server) {
        this.server = server;
    }

    public static MetricsServer start(InetSocketAddress address, Metrics metrics) {
        HttpServer s;
        try {
            s = HttpServer.create(address, 8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + address + " for metrics: " + e.getMessage(), e);
        }
        s.createContext("/", exchange -> {
            try (exchange) {
                boolean ok = exchange.getRequestURI().getPath().equals("/metrics")
                        && exchange.getRequestMethod().equals("GET");
                byte[] body = (ok ? metrics.render() : "not found\n").getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                exchange.sendResponseHeaders(ok ? 200 : 404, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        });
        s.start();
        return new MetricsServer(s);
    }

    /** The bound address (the port, when 0 was asked). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
