package io.corezfs.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Downloads from an HTTP server on 127.0.0.1 that supports Range and can be told to cut a response short. */
class DownloaderTest {
    @TempDir
    Path tmp;

    HttpServer server;
    final byte[] blob = new byte[3_000_000];
    final AtomicInteger cutAfter = new AtomicInteger(-1);
    final AtomicReference<String> lastRange = new AtomicReference<>();
    final java.util.concurrent.Executor executor = java.util.concurrent.Executors.newCachedThreadPool();

    @BeforeEach
    void serve() throws IOException {
        new Random(1).nextBytes(blob);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/blob.bin", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) executor).shutdownNow();
    }

    private void handle(HttpExchange ex) throws IOException {
        String range = ex.getRequestHeaders().getFirst("Range");
        lastRange.set(range);
        int from = range == null ? 0 : Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
        if (from >= blob.length) {
            ex.sendResponseHeaders(416, -1);
            ex.close();
            return;
        }
        int len = blob.length - from;
        if (range != null) {
            ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (blob.length - 1) + "/" + blob.length);
        }
        ex.sendResponseHeaders(range == null ? 200 : 206, len);
        int cut = cutAfter.getAndSet(-1);
        OutputStream out = ex.getResponseBody();
        if (cut >= 0) {
            // Promise len bytes, send fewer, then stall: the watchdog has to notice.
            out.write(blob, from, Math.min(cut, len));
            out.flush();
            return;
        }
        try (out) {
            out.write(blob, from, len);
        } catch (IOException ignored) {
            // the client went away
        }
    }

    private URI url(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    @Test
    void downloadsIntoPlaceThroughAPartFile() throws IOException {
        Path target = tmp.resolve("cache/blob.bin");
        new Downloader(Downloader.defaultClient(), Progress.NONE).fetch(url("/blob.bin"), target);
        assertArrayEquals(blob, Files.readAllBytes(target));
        assertFalse(Files.exists(tmp.resolve("cache/blob.bin.part")));
    }

    @Test
    void aRefusedConnectionIsSaidInWordsNamingTheAddress() throws IOException {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed again: nothing listens there now
        }
        URI dead = URI.create("http://127.0.0.1:" + port + "/index.json");
        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> new Downloader(Downloader.defaultClient(), Progress.NONE).fetch(dead, tmp.resolve("i.json")));
        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertTrue(e.getMessage().contains("cannot connect to 127.0.0.1:" + port), e.getMessage());
        assertFalse(e.getMessage().contains("java.net."), e.getMessage());
    }

    @Test
    void aCutDownloadResumesWhereItStopped() throws IOException {
        Path target = tmp.resolve("blob.bin");
        Downloader d = new Downloader(Downloader.defaultClient(), Progress.NONE, java.time.Duration.ofMillis(500));
        cutAfter.set(1_000_000);
        CorezfsException e = assertThrows(CorezfsException.class, () -> d.fetch(url("/blob.bin"), target));
        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertTrue(
                e.getMessage().contains("no data for") && e.getMessage().contains("run again to resume"),
                e.getMessage());
        assertFalse(Files.exists(target), "nothing under the real name until complete");
        long partial = Files.size(tmp.resolve("blob.bin.part"));
        assertTrue(partial > 0 && partial < blob.length);

        d.fetch(url("/blob.bin"), target);
        assertEquals("bytes=" + partial + "-", lastRange.get(), "only the missing bytes are asked for");
        assertArrayEquals(blob, Files.readAllBytes(target));
    }

    @Test
    void aCompletedPartFileIsAcceptedWhenTheServerHasNothingMore() throws IOException {
        Path target = tmp.resolve("blob.bin");
        Files.write(tmp.resolve("blob.bin.part"), blob);
        new Downloader(Downloader.defaultClient(), Progress.NONE).fetch(url("/blob.bin"), target);
        assertArrayEquals(blob, Files.readAllBytes(target));
    }

    @Test
    void missingFilesAndDeadServersAreClearErrors() {
        Downloader d = new Downloader(Downloader.defaultClient(), Progress.NONE);
        CorezfsException e = assertThrows(CorezfsException.class, () -> d.fetch(url("/nope"), tmp.resolve("x")));
        assertTrue(e.getMessage().contains("not found (HTTP 404)"), e.getMessage());
        assertFalse(d.exists(url("/nope")));
        assertTrue(d.exists(url("/blob.bin")));
        server.stop(0);
        CorezfsException dead = assertThrows(CorezfsException.class, () -> d.fetch(url("/blob.bin"), tmp.resolve("y")));
        assertTrue(dead.getMessage().startsWith("cannot download http://127.0.0.1:"), dead.getMessage());
    }

    @Test
    void aServerThatRefusesHeadIsAskedForOneByteInstead() throws IOException {
        java.util.List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        server.createContext("/nohead", ex -> {
            seen.add(ex.getRequestMethod() + " " + ex.getRequestHeaders().getFirst("Range"));
            if (ex.getRequestMethod().equals("HEAD")) {
                ex.sendResponseHeaders(405, -1);
            } else if (ex.getRequestURI().getPath().equals("/nohead/there.bin")) {
                ex.getResponseHeaders().add("Content-Range", "bytes 0-0/" + blob.length);
                ex.sendResponseHeaders(206, 1);
                ex.getResponseBody().write(blob, 0, 1);
            } else {
                ex.sendResponseHeaders(404, -1);
            }
            ex.close();
        });
        Downloader d = new Downloader(Downloader.defaultClient(), Progress.NONE);

        assertTrue(d.exists(url("/nohead/there.bin")));
        assertFalse(d.exists(url("/nohead/missing.bin")));
        assertEquals(java.util.List.of("HEAD null", "GET bytes=0-0", "HEAD null", "GET bytes=0-0"), seen);
    }

    @Test
    void progressIsReported() throws IOException {
        AtomicInteger updates = new AtomicInteger();
        AtomicReference<String> finished = new AtomicReference<>();
        Progress p = new Progress() {
            @Override
            public void update(String what, long done, long total) {
                updates.incrementAndGet();
                assertEquals(blob.length, total);
            }

            @Override
            public void done(String what) {
                finished.set(what);
            }
        };
        new Downloader(Downloader.defaultClient(), p).fetch(url("/blob.bin"), tmp.resolve("blob.bin"));
        assertTrue(updates.get() > 1);
        assertEquals("blob.bin", finished.get());
    }

    @Test
    void aDownloadNobodyVouchesForIsCutAtTheGeneralCapAndRemoved() throws IOException {
        Downloader.Limits small = new Downloader.Limits(
                java.time.Duration.ofSeconds(30),
                java.time.Duration.ofSeconds(60),
                0,
                java.time.Duration.ofMinutes(1),
                1 << 20,
                1 << 20,
                5,
                true);
        try (io.corezfs.testing.RawHttpServer endless = new io.corezfs.testing.RawHttpServer((path, out) -> {
            out.write(io.corezfs.testing.RawHttpServer.head(200, "Connection: close"));
            byte[] chunk = new byte[1 << 16];
            while (true) {
                out.write(chunk);
            }
        })) {
            Downloader d = new Downloader(Downloader.client(small), Progress.NONE, small);
            CorezfsException e = assertThrows(
                    CorezfsException.class,
                    () -> d.fetchAgain(URI.create(endless.base() + "/x.bin"), tmp.resolve("x.bin")));
            assertEquals(ExitCode.ARCHIVE_INVALID, e.exitCode());
            assertTrue(e.getMessage().contains("more than 1048576 bytes"), e.getMessage());
            assertFalse(Files.exists(tmp.resolve("x.bin.part")), "an oversize partial is not kept for resuming");
            assertFalse(Files.exists(tmp.resolve("x.bin")));
        }
    }

    @Test
    void upstreamDownloadsFollowRedirectsToTheirCdnButNotWithoutEnd() throws IOException {
        try (io.corezfs.testing.RawHttpServer release = new io.corezfs.testing.RawHttpServer((path, out) -> out.write(
                io.corezfs.testing.RawHttpServer.head(302, "Location: " + url("/blob.bin"), "Content-Length: 0")))) {
            Path target = tmp.resolve("blob.bin");
            new Downloader(Downloader.defaultClient(), Progress.NONE)
                    .fetch(URI.create(release.base() + "/zfs.tar.gz"), target);
            assertArrayEquals(blob, Files.readAllBytes(target));

            Downloader sameOrigin = new Downloader(
                    Downloader.defaultClient(), Progress.NONE, Downloader.Limits.DEFAULT.withCrossHostRedirects(false));
            CorezfsException e = assertThrows(
                    CorezfsException.class,
                    () -> sameOrigin.fetchBounded(
                            URI.create(release.base() + "/zfs.tar.gz"), tmp.resolve("other"), 1 << 30));
            assertTrue(e.getMessage().contains("redirected to " + url("/blob.bin")), e.getMessage());
        }
    }

    @Test
    void theHeaderTimeoutBoundsTheWaitForHeadersNotTheBody() throws IOException {
        Downloader.Limits quickHeaders = new Downloader.Limits(
                java.time.Duration.ofSeconds(1),
                java.time.Duration.ofSeconds(60),
                1024,
                java.time.Duration.ofMinutes(1),
                1 << 16,
                1 << 30,
                5,
                true);
        byte[] body = new byte[25 * 2048];
        try (io.corezfs.testing.RawHttpServer slowButSteady = new io.corezfs.testing.RawHttpServer((path, out) -> {
            out.write(io.corezfs.testing.RawHttpServer.head(200, "Content-Length: " + body.length));
            for (int i = 0; i < 25; i++) {
                out.write(body, i * 2048, 2048);
                out.flush();
                Thread.sleep(100);
            }
        })) {
            Path target = tmp.resolve("steady.bin");
            new Downloader(Downloader.client(quickHeaders), Progress.NONE, quickHeaders)
                    .fetchBounded(URI.create(slowButSteady.base() + "/steady.bin"), target, body.length);
            assertEquals(body.length, Files.size(target), "2.5 s of body after headers within 1 s is fine");
        }
    }

    @Test
    void aFileUrlIsCopiedUnderTheSameBoundAndNeverLeftHalf() throws IOException {
        Path src = Files.write(tmp.resolve("mirror-blob.bin"), new byte[4096]);
        Downloader d = new Downloader(Downloader.defaultClient(), Progress.NONE);
        Path got = d.fetchBounded(src.toUri(), tmp.resolve("copied/blob.bin"), 4096);
        assertEquals(4096, Files.size(got));

        Path small = tmp.resolve("small/blob.bin");
        CorezfsException big = assertThrows(CorezfsException.class, () -> d.fetchBounded(src.toUri(), small, 4095));
        assertEquals(ExitCode.ARCHIVE_INVALID, big.exitCode(), big::getMessage);
        assertFalse(Files.exists(small));
        assertFalse(Files.exists(small.resolveSibling("blob.bin.part")), "no partial file");

        CorezfsException missing = assertThrows(
                CorezfsException.class,
                () -> d.fetchBounded(tmp.resolve("absent.bin").toUri(), tmp.resolve("x/absent.bin"), 10));
        assertEquals(ExitCode.PRECONDITION, missing.exitCode());
        assertTrue(missing.getMessage().contains("not found"), missing::getMessage);
    }
}
