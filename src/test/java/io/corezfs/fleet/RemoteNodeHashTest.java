package io.corezfs.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.system.LocalProcessRunner;
import io.corezfs.system.ProcessRequest;
import io.corezfs.system.ProcessResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node's {@code sum}: openssl's answer when it is a sha256, coreutils' otherwise. Each case runs the real shell with
 * a PATH of its own, holding sha256sum and cut, and an openssl that answers as the case says (or none).
 */
class RemoteNodeHashTest {
    @TempDir
    Path dir;

    private static final String OPENSSL_HEX = "a".repeat(64);

    @Test
    void opensslsAnswerIsTakenWhenItIsASha256() throws Exception {
        assertEquals(OPENSSL_HEX, sum(Stream.of("printf '%s *stdin\\n' " + OPENSSL_HEX)));
    }

    @Test
    void withoutOpensslSha256sumGivesTheHash() throws Exception {
        assertEquals(sha256(file()), sum(Stream.empty()));
    }

    @Test
    void anOpensslThatFailsOrAnswersInAnotherFormIsPassedOver() throws Exception {
        String expected = sha256(file());
        for (String stub : List.of(
                "exit 1",
                "echo 'SHA2-256(stdin)= " + OPENSSL_HEX + "'",
                "printf '%s *stdin\\n' " + "A".repeat(64),
                "printf '%s *stdin\\n' " + "a".repeat(63),
                "echo")) {
            assertEquals(expected, sum(Stream.of(stub)), stub);
        }
    }

    @Test
    void theProbeAndTheCommitHashOnlyThroughIt() {
        for (String script : List.of(RemoteNode.PROBE, RemoteNode.COMMIT)) {
            assertTrue(script.startsWith(RemoteNode.SUM), script);
            assertEquals(-1, script.indexOf("sha256sum", RemoteNode.SUM.length()), script);
        }
    }

    private Path file() throws IOException {
        Path f = dir.resolve("data.bin");
        if (!Files.exists(f)) {
            Files.write(f, "not the stub's bytes\n".repeat(1000).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        return f;
    }

    /** {@code sum} of the data file with sha256sum, cut and, when given, an openssl running the given script. */
    private String sum(Stream<String> openssl) throws IOException {
        Path bin = Files.createTempDirectory(dir, "bin");
        for (String tool : List.of("sha256sum", "cut")) {
            Files.createSymbolicLink(bin.resolve(tool), which(tool));
        }
        openssl.forEach(script -> {
            try {
                Path o = bin.resolve("openssl");
                Files.writeString(o, "#!/bin/sh\ncat >/dev/null\n" + script + "\n");
                Files.setPosixFilePermissions(o, PosixFilePermissions.fromString("rwxr-xr-x"));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        ProcessResult r = new LocalProcessRunner()
                .run(ProcessRequest.of(List.of(
                        "/usr/bin/env",
                        "PATH=" + bin,
                        "/bin/sh",
                        "-c",
                        RemoteNode.SUM + "\nsum \"$1\"",
                        "sh",
                        file().toString())));
        assertTrue(r.ok(), r::toString);
        return r.stdout().strip();
    }

    private static Path which(String tool) {
        return Stream.of("/usr/bin", "/bin")
                .map(d -> Path.of(d, tool))
                .filter(Files::isExecutable)
                .findFirst()
                .orElseThrow(() -> new AssertionError(tool + " is not in /usr/bin or /bin"));
    }

    private static String sha256(Path f) throws IOException, NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
    }
}
