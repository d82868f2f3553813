package io.corezfs.docker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.URLDecoder;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hand-written import request against a small fake engine on a unix socket in the test's directory, driven
 * through {@link DockerJavaEngine#importImage} so the choice of transport is covered as well.
 */
@Timeout(30)
class SocketImportTest {
    @TempDir
    Path dir;

    private ServerSocketChannel server;

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    /** What the fake engine saw of one request. */
    record Seen(String requestLine, List<String> headers, List<Integer> chunkSizes, byte[] body) {}

    /** How the fake engine answers a request whose head it has read. */
    interface Behaviour {
        void handle(
                InputStream in,
                OutputStream out,
                CompletableFuture<Seen> seen,
                String requestLine,
                List<String> headers)
                throws IOException;
    }

    @Test
    void aLargeBodyArrivesIntactInBigChunksWithTheNameAndLabelsInTheQuery() throws Exception {
        byte[] tar = new byte[3 * SocketImport.CHUNK + 12345];
        new Random(7).nextBytes(tar);
        CompletableFuture<Seen> seen = serve((in, out, s, line, headers) -> {
            Seen got = readChunked(in, line, headers);
            answerChunked(out, 200, "{\"status\":\"Importing\"}\r\n", "{\"status\":\"sha256:feedbeef\"}\r\n");
            s.complete(got);
        });

        String id;
        try (DockerJavaEngine engine = new DockerJavaEngine("unix://" + dir.resolve("engine.sock"))) {
            id = engine.importImage(
                    new ByteArrayInputStream(tar),
                    "corezfs/devcontainer",
                    "flatcar-1.2.3",
                    Map.of("corezfs.source-sha256", "abc"));
        }

        assertEquals("sha256:feedbeef", id);
        Seen s = seen.get(5, TimeUnit.SECONDS);
        String target = s.requestLine().split(" ")[1];
        assertEquals(
                "POST "
                        + ImportRequest.path(
                                "corezfs/devcontainer", "flatcar-1.2.3", Map.of("corezfs.source-sha256", "abc"))
                        + " HTTP/1.1",
                s.requestLine());
        String query = URLDecoder.decode(target, StandardCharsets.UTF_8);
        assertTrue(query.contains("repo=corezfs/devcontainer"), query);
        assertTrue(query.contains("tag=flatcar-1.2.3"), query);
        assertTrue(query.contains("changes=LABEL \"corezfs.source-sha256\"=\"abc\""), query);
        assertTrue(
                s.headers().contains("transfer-encoding: chunked"), s.headers().toString());
        assertTrue(
                s.headers().contains("content-type: application/x-tar"),
                s.headers().toString());
        assertArrayEquals(tar, s.body());
        assertEquals(List.of(SocketImport.CHUNK, SocketImport.CHUNK, SocketImport.CHUNK, 12345), s.chunkSizes());
    }

    @Test
    void progressTheEngineWritesWhileReadingIsDrainedSoNeitherSideStalls() throws Exception {
        byte[] tar = new byte[8 * SocketImport.CHUNK];
        new Random(8).nextBytes(tar);
        // An engine that writes a progress message for every 4 KiB it reads: several megabytes of answer, far more
        // than the socket buffers hold, before the body is complete.
        serve((in, out, s, line, headers) -> {
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            Seen got = readChunked(
                    in,
                    line,
                    headers,
                    4096,
                    () -> out.write(
                            "{\"status\":\"Importing\",\"progressDetail\":{\"current\":1},\"progress\":\"[=====>   ]\"}\r\n"
                                    .getBytes(StandardCharsets.US_ASCII)));
            out.write("{\"status\":\"sha256:0123\"}\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            s.complete(got);
        });

        try (DockerJavaEngine engine = new DockerJavaEngine("unix://" + dir.resolve("engine.sock"))) {
            assertEquals("sha256:0123", engine.importImage(new ByteArrayInputStream(tar), "r", "t", Map.of()));
        }
    }

    @Test
    void aRefusalBeforeTheBodyIsReadIsABuildFailureWithTheEnginesMessage() throws Exception {
        serve((in, out, s, line, headers) -> {
            byte[] msg = "{\"message\":\"invalid reference format: repository name must be lowercase\"}\n"
                    .getBytes(StandardCharsets.US_ASCII);
            out.write(("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: " + msg.length
                            + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(msg);
            out.flush();
            s.complete(null);
        });
        byte[] tar = new byte[32 << 20]; // far more than the socket buffers: the write fails once the engine hangs up

        try (DockerJavaEngine engine = new DockerJavaEngine("unix://" + dir.resolve("engine.sock"))) {
            CorezfsException e = assertThrows(
                    CorezfsException.class,
                    () -> engine.importImage(new ByteArrayInputStream(tar), "Bad", "t", Map.of()));

            assertEquals(ExitCode.BUILD_FAILED, e.exitCode());
            assertEquals(
                    "docker import of Bad:t failed: HTTP 400: invalid reference format: repository name must be"
                            + " lowercase",
                    e.getMessage());
        }
    }

    @Test
    void anErrorAfterTheBodyIsABuildFailure() throws Exception {
        serve((in, out, s, line, headers) -> {
            readChunked(in, line, headers);
            answerChunked(out, 500, "{\"message\":\"Error processing tar file(exit status 1): unexpected EOF\"}");
            s.complete(null);
        });

        try (DockerJavaEngine engine = new DockerJavaEngine("unix://" + dir.resolve("engine.sock"))) {
            CorezfsException e = assertThrows(
                    CorezfsException.class,
                    () -> engine.importImage(new ByteArrayInputStream(new byte[1000]), "r", "t", Map.of()));
            assertEquals(ExitCode.BUILD_FAILED, e.exitCode());
            assertEquals(
                    "docker import of r:t failed: HTTP 500: Error processing tar file(exit status 1): unexpected EOF",
                    e.getMessage());
        }
    }

    @Test
    void noEngineOnTheSocketIsABuildFailureNamingTheImage() throws Exception {
        try (DockerJavaEngine engine = new DockerJavaEngine("unix://" + dir.resolve("nobody.sock"))) {
            CorezfsException e = assertThrows(
                    CorezfsException.class,
                    () -> engine.importImage(new ByteArrayInputStream(new byte[10]), "r", "t", Map.of()));
            assertEquals(ExitCode.BUILD_FAILED, e.exitCode());
            assertTrue(e.getMessage().startsWith("docker import of r:t failed: "), e.getMessage());
        }
    }

    @Test
    void onlyUnixHostsGoStraightToTheSocket() {
        assertEquals(
                Optional.of(Path.of("/var/run/docker.sock")), SocketImport.unixSocket("unix:///var/run/docker.sock"));
        assertEquals(Optional.empty(), SocketImport.unixSocket("tcp://127.0.0.1:2375"));
        assertEquals(Optional.empty(), SocketImport.unixSocket("unix://"));
    }

    // --- the fake engine -------------------------------------------------------------------------------------------

    private CompletableFuture<Seen> serve(Behaviour behaviour) throws IOException {
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(dir.resolve("engine.sock")));
        CompletableFuture<Seen> seen = new CompletableFuture<>();
        Thread t = new Thread(
                () -> {
                    try (SocketChannel c = server.accept()) {
                        InputStream in = Channels.newInputStream(c);
                        OutputStream out = Channels.newOutputStream(c);
                        String line = line(in);
                        List<String> headers = new ArrayList<>();
                        for (String h; !(h = line(in)).isEmpty(); ) {
                            headers.add(h.toLowerCase());
                        }
                        behaviour.handle(in, out, seen, line, headers);
                    } catch (IOException | RuntimeException e) {
                        seen.completeExceptionally(e);
                    }
                },
                "fake-engine");
        t.setDaemon(true);
        t.start();
        return seen;
    }

    interface Tick {
        void run() throws IOException;
    }

    private static Seen readChunked(InputStream in, String line, List<String> headers) throws IOException {
        return readChunked(in, line, headers, Integer.MAX_VALUE, () -> {});
    }

    /** Decodes the chunked request body, calling {@code tick} for every {@code every} bytes read. */
    private static Seen readChunked(InputStream in, String line, List<String> headers, int every, Tick tick)
            throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        List<Integer> sizes = new ArrayList<>();
        while (true) {
            int n = Integer.parseInt(line(in).strip(), 16);
            if (n == 0) {
                assertEquals("", line(in));
                break;
            }
            sizes.add(n);
            for (int left = n; left > 0; ) {
                byte[] part = in.readNBytes(Math.min(left, every));
                if (part.length == 0) {
                    throw new IOException("body cut short");
                }
                body.write(part);
                left -= part.length;
                tick.run();
            }
            assertEquals("", line(in));
        }
        return new Seen(line, headers, sizes, body.toByteArray());
    }

    private static void answerChunked(OutputStream out, int status, String... parts) throws IOException {
        StringBuilder a = new StringBuilder("HTTP/1.1 " + status + " X\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        for (String p : parts) {
            a.append(Integer.toHexString(p.length())).append("\r\n").append(p).append("\r\n");
        }
        a.append("0\r\n\r\n");
        out.write(a.toString().getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) {
                throw new IOException("connection closed");
            }
            sb.append((char) c);
        }
        return sb.toString().replaceFirst("\r$", "");
    }
}
