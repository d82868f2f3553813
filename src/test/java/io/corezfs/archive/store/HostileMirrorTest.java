package io.corezfs.archive.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.testing.Cli;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.RawHttpServer;
import io.corezfs.testing.StaticHttpServer;
import io.corezfs.testing.TarBuilder;
import io.corezfs.testing.TreeSnapshot;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code install --mirror} against mirrors that misbehave: endless, slow, silent, lying or redirecting servers on
 * 127.0.0.1, and indexes that are not what {@code publish} writes. Each is one line and a distinct exit code, with
 * nothing left in the store and nothing changed in the target.
 */
class HostileMirrorTest {
    private static final String NAME = "corezfs_amd64-usr_3975.2.0_stable_zfs-2.1.11.tar.gz";

    @TempDir
    Path tmp;

    Path root;
    Path work;
    Path served;
    byte[] archive;
    byte[] index;

    @BeforeEach
    void mirrorAndHost() throws IOException {
        root = HostRoots.flatcar(tmp.resolve("root")).root();
        work = Files.createDirectories(tmp.resolve("work"));
        served = Files.createDirectories(tmp.resolve("served"));
        TarBuilder.typicalTree().writeTo(served.resolve(NAME));
        Cli.Run pub = new Cli(work).run("publish", served.toString());
        assertEquals(0, pub.exitCode(), pub::toString);
        archive = Files.readAllBytes(served.resolve(NAME));
        index = Files.readAllBytes(served.resolve("index.json"));
    }

    private Cli.Run install(String mirror, String... extra) {
        List<String> args =
                new ArrayList<>(List.of("install", "--root", root.toString(), "--mirror", mirror, "--no-build"));
        args.addAll(List.of(extra));
        return assertTimeoutPreemptively(Duration.ofSeconds(30), () -> new Cli(work).run(args.toArray(String[]::new)));
    }

    /** Fails with {@code code} and one line naming {@code mentions}; the store and the target are untouched. */
    private Cli.Run refused(int code, Cli.Run r, String... mentions) throws IOException {
        assertEquals(code, r.exitCode(), r::toString);
        List<String> errors =
                r.err().lines().filter(l -> l.startsWith("corezfs:")).toList();
        assertEquals(1, errors.size(), "one error line: " + r);
        assertTrue(r.err().strip().endsWith(errors.get(0)), "and it comes last: " + r);
        for (String m : mentions) {
            assertTrue(errors.get(0).contains(m), "names " + m + ": " + r);
        }
        assertEquals(List.of(), storeContents(), "nothing partial or unverified is left in the store");
        assertFalse(Files.exists(root.resolve("opt/corezfs")), "nothing installed");
        return r;
    }

    private List<String> storeContents() throws IOException {
        Path store = work.resolve("archives");
        if (!Files.isDirectory(store)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(store)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Serves the real index, and {@code archiveHandler} for the archive. */
    private RawHttpServer mirror(RawHttpServer.Handler archiveHandler) throws IOException {
        return new RawHttpServer((path, out) -> {
            if (path.equals("/index.json")) {
                out.write(RawHttpServer.head(200, "Content-Length: " + index.length));
                out.write(index);
            } else if (path.endsWith(".sig")) {
                // An unsigned mirror: the hostile part of each test is the archive itself.
                out.write(RawHttpServer.head(404, "Content-Length: 0"));
            } else {
                archiveHandler.handle(path, out);
            }
        });
    }

    private static void endless(OutputStream out) throws IOException {
        byte[] chunk = new byte[64 * 1024];
        while (true) {
            out.write(chunk);
        }
    }

    @Test
    void aWellBehavedMirrorStillInstalls() throws IOException {
        try (StaticHttpServer http = new StaticHttpServer(served)) {
            Cli.Run r = install(http.base().toString());
            assertEquals(0, r.exitCode(), r::toString);
            assertEquals(List.of(NAME), storeContents());
        }
    }

    @Test
    void anEndlessIndexIsCutAtItsCap() throws IOException {
        try (RawHttpServer http = new RawHttpServer((path, out) -> {
            out.write(RawHttpServer.head(200, "Connection: close"));
            endless(out);
        })) {
            refused(
                    4,
                    install(http.base().toString(), "--max-index-size", "64K"),
                    http.base() + "/index.json",
                    "more than 65536 bytes");
        }
    }

    @Test
    void anIndexAnnouncedLargerThanItsCapIsRefusedBeforeItsBody() throws IOException {
        try (RawHttpServer http = new RawHttpServer((path, out) -> {
            out.write(RawHttpServer.head(200, "Content-Length: 10000000"));
            endless(out);
        })) {
            refused(
                    4,
                    install(http.base().toString(), "--max-index-size", "1M"),
                    http.base() + "/index.json",
                    "10000000");
        }
    }

    @Test
    void anEndlessArchiveIsCutAtTheSizeTheIndexGives() throws IOException {
        try (RawHttpServer http = mirror((path, out) -> {
            out.write(RawHttpServer.head(200, "Connection: close"));
            endless(out);
        })) {
            refused(
                    4,
                    install(http.base().toString()),
                    http.base() + "/" + NAME,
                    "more than " + archive.length + " bytes");
        }
    }

    @Test
    void anArchiveWhoseContentLengthExceedsTheIndexIsRefused() throws IOException {
        try (RawHttpServer http = mirror((path, out) -> {
            out.write(RawHttpServer.head(200, "Content-Length: " + (archive.length + 1)));
            out.write(archive);
            out.write(0);
        })) {
            refused(4, install(http.base().toString()), http.base() + "/" + NAME);
        }
    }

    @Test
    void anArchiveShorterThanTheIndexSaysIsRefused() throws IOException {
        try (RawHttpServer http = mirror((path, out) -> {
            out.write(RawHttpServer.head(200, "Content-Length: " + (archive.length - 10)));
            out.write(archive, 0, archive.length - 10);
        })) {
            refused(4, install(http.base().toString()), http.base() + "/" + NAME, String.valueOf(archive.length));
        }
    }

    @Test
    void aTrickleTripsTheStallWatchdog() throws IOException {
        try (RawHttpServer http = mirror((path, out) -> {
            out.write(RawHttpServer.head(200, "Content-Length: " + archive.length));
            for (byte b : archive) {
                out.write(b);
                out.flush();
                Thread.sleep(20);
            }
        })) {
            refused(
                    3,
                    install(http.base().toString(), "--stall-timeout", "400ms", "--min-rate", "1K"),
                    http.base() + "/" + NAME,
                    "slower than");
        }
    }

    @Test
    void aDownloadThatNeverEndsInTimeHitsTheDeadline() throws IOException {
        // Fast enough for the stall watchdog, but the promised size would take far longer than the deadline.
        try (RawHttpServer http = new RawHttpServer((path, out) -> {
            out.write(RawHttpServer.head(200, "Content-Length: 100000000"));
            byte[] chunk = new byte[16 * 1024];
            while (true) {
                out.write(chunk);
                out.flush();
                Thread.sleep(50);
            }
        })) {
            refused(
                    3,
                    install(
                            http.base().toString(),
                            "--download-deadline",
                            "1s",
                            "--deadline-rate",
                            "1G",
                            "--max-index-size",
                            "128M"),
                    http.base() + "/index.json",
                    "did not finish within");
        }
    }

    @Test
    void aServerThatNeverSendsHeadersTimesOut() throws IOException {
        try (RawHttpServer http = new RawHttpServer((path, out) -> Thread.sleep(60_000))) {
            refused(
                    3,
                    install(http.base().toString(), "--header-timeout", "400ms"),
                    http.base() + "/index.json",
                    "no response");
        }
    }

    @Test
    void aRedirectToAnotherHostOrPortIsRefusedAndNamed() throws IOException {
        try (StaticHttpServer other = new StaticHttpServer(served);
                RawHttpServer http = new RawHttpServer((path, out) ->
                        out.write(RawHttpServer.head(302, "Location: " + other.base() + path, "Content-Length: 0")))) {
            refused(
                    3,
                    install(http.base().toString()),
                    http.base() + "/index.json",
                    other.base() + "/index.json",
                    "--allow-cross-host-redirects");
            assertEquals(0, other.requests.size(), "the other host was never asked");

            Cli.Run allowed = install(http.base().toString(), "--allow-cross-host-redirects");
            assertEquals(0, allowed.exitCode(), allowed::toString);
            assertEquals(List.of(NAME), storeContents());
        }
    }

    @Test
    void aRedirectWithinTheMirrorIsFollowed() throws IOException {
        try (RawHttpServer http = new RawHttpServer((path, out) -> {
            if (path.startsWith("/old/")) {
                out.write(RawHttpServer.head(301, "Location: /new/" + path.substring(5), "Content-Length: 0"));
                return;
            }
            if (path.endsWith(".sig")) {
                out.write(RawHttpServer.head(404, "Content-Length: 0"));
                return;
            }
            byte[] body = path.endsWith("/index.json") ? index : archive;
            out.write(RawHttpServer.head(200, "Content-Length: " + body.length));
            out.write(body);
        })) {
            Cli.Run r = install(http.base() + "/old/");
            assertEquals(0, r.exitCode(), r::toString);
        }
    }

    @Test
    void redirectsAreBounded() throws IOException {
        try (RawHttpServer http = new RawHttpServer(
                (path, out) -> out.write(RawHttpServer.head(302, "Location: " + path + "x", "Content-Length: 0")))) {
            refused(
                    3,
                    install(http.base().toString(), "--max-redirects", "3"),
                    http.base() + "/index.json",
                    "more than 3 redirects");
            assertEquals(4, http.requests.size(), http.requests::toString);
        }
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "ftp://mirror.example/",
                "file://host/srv/mirror",
                "file:relative/mirror",
                "mirror.example/corezfs",
                "http:///corezfs/",
                "http://",
                "http://mirror.example/?q=1",
                "",
                "http://mirror.example:99999/"
            })
    void aMirrorThatIsNotAnHttpUrlIsAUsageError(String mirror) {
        Cli.Run r = new Cli(work).run("install", "--root", root.toString(), "--mirror", mirror, "--no-build");
        assertEquals(2, r.exitCode(), r::toString);
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r);
        assertTrue(r.err().contains("--mirror"), r::toString);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{\"format\":1,\"archives\":[null]}",
                "{\"format\":1}",
                "{\"format\":1,\"archives\":{}}",
                "{\"format\":\"1\",\"archives\":[]}",
                "{\"archives\":[]}",
                "[]",
                "{\"format\":1,\"archives\":[]} trailing",
            })
    void aMalformedIndexIsInvalid(String text) throws IOException {
        String entry = entry(Map.of());
        refusedIndex(text.replace("ENTRY", entry));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "file=null",
                "file=\"../" + NAME + "\"",
                "file=\"sub/" + NAME + "\"",
                "file=\"" + NAME + "\\n\"",
                "file=7",
                "file=\"..\"",
                "file=\"\"",
                "sha256=null",
                "sha256=\"abc\"",
                "sha256=\"" + "A" + "\"",
                "size=null",
                "size=\"12\"",
                "size=-1",
                "size=1.5",
                "size=99999999999999999999",
                "size=1e30",
                "os=null",
                "os=1",
                "osVersion=null",
                "board=null",
                "arch=null",
                "kernel=null",
                "kernel=\"x y\"",
                "zfsVersion=null",
                "zfsVersion=[]",
                "os=\"\"",
                "file=MISSING",
                "size=MISSING",
                "kernel=MISSING"
            })
    void anIndexEntryWithABadFieldIsInvalid(String edit) throws IOException {
        String key = edit.substring(0, edit.indexOf('='));
        String value = edit.substring(edit.indexOf('=') + 1);
        if (value.equals("\"A\"")) {
            value = "\"" + "A".repeat(64) + "\"";
        }
        refusedIndex("{\"format\":1,\"archives\":[" + entry(Map.of(key, value)) + "]}");
    }

    /** The published entry for the archive, with fields replaced by raw JSON (or left out for MISSING). */
    private String entry(Map<String, String> replace) throws IOException {
        var node = (com.fasterxml.jackson.databind.node.ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(index)
                .get("archives")
                .get(0);
        StringBuilder b = new StringBuilder("{");
        var names = new ArrayList<String>();
        node.fieldNames().forEachRemaining(names::add);
        for (String n : names) {
            String v = replace.getOrDefault(n, node.get(n).toString());
            if (v.equals("MISSING")) {
                continue;
            }
            b.append(b.length() > 1 ? "," : "")
                    .append('"')
                    .append(n)
                    .append("\":")
                    .append(v);
        }
        return b.append('}').toString();
    }

    private void refusedIndex(String text) throws IOException {
        Files.writeString(served.resolve("index.json"), text, StandardCharsets.UTF_8);
        Map<String, String> before = TreeSnapshot.of(root);
        try (StaticHttpServer http = new StaticHttpServer(served)) {
            Cli.Run r = install(http.base().toString());
            refused(4, r, "index");
            assertFalse(r.err().contains("Exception"), r::toString);
        }
        assertEquals(before, TreeSnapshot.of(root));
    }
}
