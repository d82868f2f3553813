package io.corezfs.net;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Downloads into a cache directory, resumably: bytes already in {@code NAME.part} are asked for again only if the
 * server ignores the Range header. The finished file is renamed into place, so a file under its real name is
 * always complete. A full disk removes the partial file and says so.
 *
 * <p>Every download is bounded ({@link Limits}): in size, in how long the server may take to answer, in the rate it
 * must keep up, in total time, and in redirects. Oversize content is exit 4 and its partial file is removed; a
 * network failure or timeout is exit 3.
 */
public final class Downloader {
    /**
     * @param headerTimeout      how long to wait for a connection and the response headers
     * @param stallWindow        a download that receives fewer than {@code minRate} bytes per second over a whole
     *                           window of this length is abandoned, so a trickle trips it as surely as silence
     * @param minRate            bytes per second; 0 still needs one byte per window
     * @param deadline           the fixed part of the overall deadline ...
     * @param deadlineRate       ... which grows by one second per this many bytes of the expected size
     * @param maxBytes           cap for downloads whose size nobody vouches for in advance
     * @param maxRedirects       how many redirects one download may follow
     * @param crossHostRedirects whether a redirect may leave the scheme, host and port first asked for
     */
    public record Limits(
            Duration headerTimeout,
            Duration stallWindow,
            long minRate,
            Duration deadline,
            long deadlineRate,
            long maxBytes,
            int maxRedirects,
            boolean crossHostRedirects) {
        public static final Limits DEFAULT = new Limits(
                Duration.ofSeconds(30),
                Duration.ofSeconds(60),
                1024,
                Duration.ofMinutes(10),
                64 * 1024,
                16L << 30,
                5,
                true);

        public Limits {
            if (headerTimeout.isNegative()
                    || headerTimeout.isZero()
                    || stallWindow.isNegative()
                    || stallWindow.isZero()
                    || deadline.isNegative()
                    || deadline.isZero()
                    || minRate < 0
                    || deadlineRate <= 0
                    || maxBytes < 0
                    || maxRedirects < 0) {
                throw new IllegalArgumentException("download limits out of range: " + this);
            }
        }

        public Limits withStall(Duration window) {
            return new Limits(
                    headerTimeout, window, minRate, deadline, deadlineRate, maxBytes, maxRedirects, crossHostRedirects);
        }

        public Limits withCrossHostRedirects(boolean allowed) {
            return new Limits(
                    headerTimeout, stallWindow, minRate, deadline, deadlineRate, maxBytes, maxRedirects, allowed);
        }

        /** How long a download of {@code size} bytes may take in all, once its headers are in. */
        Duration deadlineFor(long size) {
            return deadline.plusSeconds(Math.max(0, size) / deadlineRate);
        }
    }

    private final HttpClient http;
    private final Progress progress;
    private final Limits limits;

    public Downloader(HttpClient http, Progress progress) {
        this(http, progress, Limits.DEFAULT);
    }

    /** @param stall how long a download may go without receiving a byte before it is abandoned (and resumable) */
    public Downloader(HttpClient http, Progress progress, Duration stall) {
        this(http, progress, Limits.DEFAULT.withStall(stall));
    }

    /** @param http a client that does not follow redirects itself ({@link #client}): they are checked here */
    public Downloader(HttpClient http, Progress progress, Limits limits) {
        if (http.followRedirects() != HttpClient.Redirect.NEVER) {
            throw new IllegalArgumentException(
                    "the downloader follows redirects itself; give it a client that does not");
        }
        this.http = http;
        this.progress = progress;
        this.limits = limits;
    }

    public static HttpClient defaultClient() {
        return client(Limits.DEFAULT);
    }

    public static HttpClient client(Limits limits) {
        return HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(limits.headerTimeout())
                .build();
    }

    public Limits limits() {
        return limits;
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
        HttpResponse<InputStream> r = send(url, "HEAD", "");
        close(r);
        if (r.statusCode() == 405 || r.statusCode() == 501) {
            // Some servers do not implement HEAD; one byte of the file answers the same question.
            r = send(url, "GET", "bytes=0-0");
            close(r);
        }
        if (r.statusCode() == 404) {
            return false;
        }
        if (r.statusCode() / 100 != 2) {
            throw network(url, "HTTP " + r.statusCode());
        }
        return true;
    }

    /** Downloads {@code url} to {@code target}, resuming a partial download. */
    public Path fetchAgain(URI url, Path target) {
        return download(url, target, limits.maxBytes(), true);
    }

    /**
     * Downloads {@code url} to {@code target} from scratch, refusing more than {@code maxBytes} (also capped by the
     * limits). Whatever goes wrong, no partial file is left behind.
     */
    public Path fetchBounded(URI url, Path target, long maxBytes) {
        Path part = partOf(target);
        try {
            Files.deleteIfExists(part);
            if ("file".equalsIgnoreCase(url.getScheme())) {
                return copyLocal(url, target, Math.min(maxBytes, limits.maxBytes()));
            }
            return download(url, target, Math.min(maxBytes, limits.maxBytes()), false);
        } catch (IOException e) {
            throw network(url, "cannot remove " + part + ": " + e.getMessage());
        } catch (RuntimeException e) {
            deleteQuietly(part);
            throw e;
        }
    }

    /**
     * A {@code file://} mirror (a mounted disk, an NFS share) under the same size bound as a remote one, through a
     * partial file renamed into place, so a file under its real name is still always complete.
     */
    private Path copyLocal(URI url, Path target, long cap) {
        Path part = partOf(target);
        Path source;
        try {
            source = Path.of(url);
        } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            throw network(url, "not a local file URL");
        }
        try {
            if (!Files.isRegularFile(source)) {
                throw network(url, Files.exists(source) ? "not a regular file" : "not found");
            }
            long size = Files.size(source);
            if (size > cap) {
                throw oversize(url, "the file is " + size + " bytes, more than the " + cap + " allowed");
            }
            Files.createDirectories(target.getParent());
            try (InputStream in = Files.newInputStream(source);
                    OutputStream out = Files.newOutputStream(
                            part, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING)) {
                byte[] buf = new byte[1 << 16];
                long done = 0;
                int n;
                while ((n = in.read(buf)) > 0) {
                    // The file may grow while it is read; the bound holds for what is read, not what was stat'ed.
                    if (done + n > cap) {
                        throw oversize(url, "more than " + cap + " bytes");
                    }
                    out.write(buf, 0, n);
                    done += n;
                }
            }
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            deleteQuietly(part);
            if (isDiskFull(e)) {
                throw new CorezfsException(
                        ExitCode.PRECONDITION,
                        "disk full while copying " + url + " to " + target.getParent()
                                + "; the partial file was removed");
            }
            throw network(url, e.getClass().getSimpleName() + ": " + printable(String.valueOf(e.getMessage())));
        }
    }

    private Path download(URI url, Path target, long cap, boolean resumable) {
        Path part = partOf(target);
        String hint = resumable ? "; run again to resume" : "";
        try {
            Files.createDirectories(target.getParent());
            long have = Files.exists(part) ? Files.size(part) : 0;
            if (have > cap) {
                Files.delete(part);
                have = 0;
            }
            HttpResponse<InputStream> r = send(url, "GET", have > 0 ? "bytes=" + have + "-" : "");
            int code = r.statusCode();
            boolean append;
            if (code == 206 && have > 0) {
                append = true;
            } else if (code == 416 && have > 0) {
                // Everything is already here: the server has no bytes past what we hold.
                close(r);
                Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                return target;
            } else if (code == 200) {
                append = false;
                have = 0;
            } else {
                close(r);
                throw network(url, code == 404 ? "not found (HTTP 404)" : "HTTP " + code);
            }
            OptionalLong length = r.headers().firstValueAsLong("Content-Length");
            long total = length.isPresent() ? have + length.getAsLong() : -1;
            if (total > cap) {
                close(r);
                deleteQuietly(part);
                throw oversize(url, "the server announces " + total + " bytes, more than the " + cap + " allowed");
            }
            copy(
                    url,
                    r.body(),
                    part,
                    append,
                    have,
                    total,
                    cap,
                    target.getFileName().toString(),
                    hint);
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            if (isDiskFull(e)) {
                deleteQuietly(part);
                throw new CorezfsException(
                        ExitCode.PRECONDITION,
                        "disk full while downloading " + url + " to " + target.getParent()
                                + "; the partial file was removed");
            }
            throw network(url, cause(e, url) + hint);
        }
    }

    private void copy(
            URI url,
            InputStream body,
            Path part,
            boolean append,
            long have,
            long total,
            long cap,
            String what,
            String hint)
            throws IOException {
        // HttpClient's timeout covers the headers only; a server that stops sending, or sends too slowly, would hold
        // the read for ever, so a watchdog closes the stream when the rate or the deadline is not kept.
        AtomicLong received = new AtomicLong();
        AtomicReference<String> tripped = new AtomicReference<>();
        long windowNanos = limits.stallWindow().toNanos();
        long need = Math.max(1, (long) Math.ceil(limits.minRate() * (windowNanos / 1e9)));
        Duration deadline = limits.deadlineFor(total >= 0 ? total - have : cap - have);
        long start = System.nanoTime();
        long[] window = {start, 0};
        ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(t -> {
            Thread th = new Thread(t, "corezfs-download-watchdog");
            th.setDaemon(true);
            return th;
        });
        long period = Math.min(1000, Math.max(20, limits.stallWindow().toMillis() / 4));
        watchdog.scheduleAtFixedRate(
                () -> {
                    long now = System.nanoTime();
                    long bytes = received.get();
                    String why = null;
                    if (now - start > deadline.toNanos()) {
                        why = "did not finish within " + human(deadline) + " (" + (have + bytes) + " bytes in)";
                    } else if (now - window[0] >= windowNanos) {
                        if (bytes - window[1] < need) {
                            why = (bytes == window[1] ? "no data" : "slower than " + limits.minRate() + " bytes/s")
                                    + " for " + human(limits.stallWindow()) + " after " + (have + bytes) + " bytes";
                        }
                        window[0] = now;
                        window[1] = bytes;
                    }
                    if (why != null && tripped.compareAndSet(null, why)) {
                        try {
                            body.close();
                        } catch (IOException ignored) {
                            // the reader sees the failure
                        }
                    }
                },
                period,
                period,
                TimeUnit.MILLISECONDS);
        try (InputStream in = body;
                OutputStream out = Files.newOutputStream(
                        part,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE,
                        append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] buf = new byte[1 << 16];
            long done = have;
            int n;
            try {
                while ((n = in.read(buf)) > 0) {
                    if (done + n > cap) {
                        throw oversize(url, "more than " + cap + " bytes");
                    }
                    out.write(buf, 0, n);
                    done += n;
                    received.addAndGet(n);
                    progress.update(what, done, total);
                }
            } catch (IOException e) {
                if (tripped.get() != null) {
                    throw network(url, tripped.get() + hint);
                }
                throw e;
            }
            if (tripped.get() != null) {
                throw network(url, tripped.get() + hint);
            }
            if (total >= 0 && done != total) {
                throw network(url, "connection closed after " + done + " of " + total + " bytes" + hint);
            }
        } catch (CorezfsException e) {
            if (e.exitCode() == ExitCode.ARCHIVE_INVALID) {
                deleteQuietly(part);
            }
            throw e;
        } finally {
            watchdog.shutdownNow();
        }
        progress.done(what);
    }

    /**
     * Sends {@code method}, following redirects only as far and as wide as the limits allow.
     *
     * @param range a Range header's value, or empty for none
     */
    private HttpResponse<InputStream> send(URI url, String method, String range) {
        URI current = url;
        for (int hops = 0; ; hops++) {
            HttpRequest.Builder req;
            try {
                req = HttpRequest.newBuilder(current)
                        .timeout(limits.headerTimeout())
                        .method(method, HttpRequest.BodyPublishers.noBody());
            } catch (IllegalArgumentException e) {
                throw network(url, "cannot request " + current + ": " + e.getMessage());
            }
            if (!range.isEmpty()) {
                req.header("Range", range);
            }
            HttpResponse<InputStream> r;
            try {
                r = http.send(req.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (HttpTimeoutException e) {
                throw network(
                        url, "no response from " + current.getHost() + " within " + human(limits.headerTimeout()));
            } catch (IOException e) {
                throw network(url, cause(e, current));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw network(url, "interrupted");
            }
            int code = r.statusCode();
            if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308) {
                return r;
            }
            close(r);
            Optional<String> location = r.headers().firstValue("Location");
            if (location.isEmpty()) {
                throw network(url, "HTTP " + code + " without a Location");
            }
            URI next;
            try {
                next = current.resolve(location.get().strip());
            } catch (IllegalArgumentException e) {
                throw network(url, "redirected to a malformed location '" + printable(location.get()) + "'");
            }
            if (hops >= limits.maxRedirects()) {
                throw network(url, "more than " + limits.maxRedirects() + " redirects (the last to " + next + ")");
            }
            String scheme = next.getScheme() == null ? "" : next.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || next.getHost() == null) {
                throw network(url, "redirected to " + next + ", which is not an http(s) URL; refused");
            }
            if (!limits.crossHostRedirects() && !origin(next).equals(origin(url))) {
                throw network(
                        url,
                        "redirected to " + next + ", outside " + origin(url)
                                + "; refused (allowed only with --allow-cross-host-redirects)");
            }
            current = next;
        }
    }

    /** scheme://host:port, with the scheme's default port spelled out so equal origins compare equal. */
    static String origin(URI u) {
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        int port = u.getPort() >= 0 ? u.getPort() : scheme.equals("https") ? 443 : scheme.equals("http") ? 80 : -1;
        String host = u.getHost() == null ? "" : u.getHost().toLowerCase(Locale.ROOT);
        return scheme + "://" + host + ":" + port;
    }

    private static void close(HttpResponse<InputStream> r) {
        try {
            r.body().close();
        } catch (IOException ignored) {
            // nothing more is read from it
        }
    }

    /**
     * What went wrong, in words: the JDK's HTTP client throws a refused or unreachable connection without a message,
     * and "java.net.ConnectException" tells an operator nothing about where to look.
     */
    static String cause(IOException e, URI url) {
        String where = url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort());
        String message = null;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException) {
                return "cannot connect to " + where + "; is the server up and the address right?";
            }
            if (t instanceof java.net.UnknownHostException) {
                return "unknown host " + url.getHost();
            }
            if (t instanceof java.net.NoRouteToHostException) {
                return "no route to " + where;
            }
            if (message == null && t.getMessage() != null) {
                message = t.getMessage();
            }
        }
        return message == null ? e.getClass().getSimpleName() : printable(message);
    }

    private static Path partOf(Path target) {
        return target.resolveSibling(target.getFileName() + ".part");
    }

    static boolean isDiskFull(IOException e) {
        return Optional.ofNullable(e.getMessage())
                .map(m -> m.contains("No space left on device"))
                .orElse(false);
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: the message already tells the operator what happened
        }
    }

    static String human(Duration d) {
        return d.toMillis() % 1000 != 0 ? d.toMillis() + " ms" : d.toSeconds() + " s";
    }

    private static String printable(String s) {
        return io.corezfs.Text.printable(s, 200);
    }

    private static CorezfsException network(URI url, String why) {
        return new CorezfsException(ExitCode.PRECONDITION, "cannot download " + url + ": " + why);
    }

    private static CorezfsException oversize(URI url, String why) {
        return new CorezfsException(ExitCode.ARCHIVE_INVALID, "refused " + url + ": " + why + "; nothing was kept");
    }
}
