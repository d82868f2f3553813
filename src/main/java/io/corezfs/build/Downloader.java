package io.corezfs.build;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Downloads into a cache directory, resumably: bytes already in {@code NAME.part} are asked for again only if the
 * server ignores the Range header. The finished file is renamed into place, so a file under its real name is
 * always complete. A full disk removes the partial file and says so.
 */
public final class Downloader {
    private final HttpClient http;
    private final Progress progress;
    private final Duration stall;

    public Downloader(HttpClient http, Progress progress) {
        this(http, progress, Duration.ofSeconds(60));
    }

    /** @param stall how long a download may go without receiving a byte before it is abandoned (and resumable) */
    public Downloader(HttpClient http, Progress progress, Duration stall) {
        this.http = http;
        this.progress = progress;
        this.stall = stall;
    }

    public static HttpClient defaultClient() {
        return HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(20)).build();
    }

    /** Downloads {@code url} to {@code target} unless it is already there. */
    public Path fetch(URI url, Path target) {
        if (Files.isRegularFile(target)) {
            return target;
        }
        return fetchAgain(url, target);
    }

    /** Whether {@code url} exists (a 404 is "no", anything else unexpected is an error). */
    public boolean exists(URI url) {
        try {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(url).method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.discarding());
            if (r.statusCode() == 404) {
                return false;
            }
            if (r.statusCode() / 100 != 2) {
                throw network(url, "HTTP " + r.statusCode());
            }
            return true;
        } catch (IOException e) {
            throw network(url, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw network(url, "interrupted");
        }
    }

    /** Downloads {@code url} to {@code target}, resuming a partial download. */
    public Path fetchAgain(URI url, Path target) {
        Path part = target.resolveSibling(target.getFileName() + ".part");
        try {
            Files.createDirectories(target.getParent());
            long have = Files.exists(part) ? Files.size(part) : 0;
            HttpRequest.Builder req = HttpRequest.newBuilder(url).timeout(Duration.ofMinutes(30)).GET();
            if (have > 0) {
                req.header("Range", "bytes=" + have + "-");
            }
            HttpResponse<InputStream> r = http.send(req.build(), HttpResponse.BodyHandlers.ofInputStream());
            int code = r.statusCode();
            boolean append;
            if (code == 206 && have > 0) {
                append = true;
            } else if (code == 416 && have > 0) {
                // Everything is already here: the server has no bytes past what we hold.
                r.body().close();
                Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                return target;
            } else if (code == 200) {
                append = false;
                have = 0;
            } else {
                r.body().close();
                throw network(url, code == 404 ? "not found (HTTP 404)" : "HTTP " + code);
            }
            OptionalLong length = r.headers().firstValueAsLong("Content-Length");
            long total = length.isPresent() ? have + length.getAsLong() : -1;
            String what = target.getFileName().toString();
            // HttpClient's timeout covers the headers only; a server that stops sending mid-body would block
            // the read forever, so a watchdog closes the stream once nothing has arrived for a while.
            AtomicLong lastByte = new AtomicLong(System.nanoTime());
            ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(t -> {
                Thread th = new Thread(t, "corezfs-download-watchdog");
                th.setDaemon(true);
                return th;
            });
            InputStream body = r.body();
            AtomicBoolean stalled = new AtomicBoolean();
            long period = Math.max(50, stall.toMillis() / 4);
            watchdog.scheduleAtFixedRate(() -> {
                if (System.nanoTime() - lastByte.get() > stall.toNanos()) {
                    stalled.set(true);
                    try {
                        body.close();
                    } catch (IOException ignored) {
                        // the reader sees the failure
                    }
                }
            }, period, period, TimeUnit.MILLISECONDS);
            try (InputStream in = body;
                 OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                         append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                byte[] buf = new byte[1 << 16];
                long done = have;
                int n;
                try {
                    while ((n = in.read(buf)) > 0) {
                        lastByte.set(System.nanoTime());
                        out.write(buf, 0, n);
                        done += n;
                        progress.update(what, done, total);
                    }
                } catch (IOException e) {
                    if (stalled.get()) {
                        throw network(url, "no data for " + stall.toSeconds() + " s after " + done + " bytes; run again to resume");
                    }
                    throw e;
                } finally {
                    watchdog.shutdownNow();
                }
                if (total >= 0 && done != total) {
                    throw network(url, "connection closed after " + done + " of " + total + " bytes; run again to resume");
                }
            }
            progress.done(what);
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            if (isDiskFull(e)) {
                deleteQuietly(part);
                throw new CorezfsException(ExitCode.PRECONDITION, "disk full while downloading " + url + " to "
                        + target.getParent() + "; the partial file was removed");
            }
            throw network(url, e.getMessage() == null ? e.toString() : e.getMessage() + "; run again to resume");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw network(url, "interrupted; run again to resume");
        }
    }

    static boolean isDiskFull(IOException e) {
        return Optional.ofNullable(e.getMessage()).map(m -> m.contains("No space left on device")).orElse(false);
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: the message already tells the operator what happened
        }
    }

    private static CorezfsException network(URI url, String why) {
        return new CorezfsException(ExitCode.PRECONDITION, "cannot download " + url + ": " + why);
    }
}
