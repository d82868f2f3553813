package io.corezfs.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The engine's import endpoint as docker-java cannot drive it: the query we send and the answer we read. */
class ImportRequestTest {
    @Test
    void namesTheImageAndSetsEachLabelAsAQuotedLabelChangeInKeyOrder() {
        String path = ImportRequest.path(
                "corezfs/devcontainer",
                "flatcar-9999.0.0",
                Map.of("corezfs.source-sha256", "ab12", "z.note", "say \"hi\" to $USER \\o/"));

        assertEquals(
                "/images/create?fromSrc=-&repo=corezfs%2Fdevcontainer&tag=flatcar-9999.0.0"
                        + "&changes=LABEL+%22corezfs.source-sha256%22%3D%22ab12%22"
                        + "&changes=LABEL+%22z.note%22%3D%22say+%5C%22hi%5C%22+to+%5C%24USER+%5C%5Co%2F%22",
                path);
    }

    @Test
    void labelsThatADockerfileInstructionCannotCarryAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ImportRequest.path("r", "t", Map.of("a b", "v")));
        assertThrows(IllegalArgumentException.class, () -> ImportRequest.path("r", "t", Map.of("k", "two\nlines")));
    }

    @Test
    void theImageIdIsTheStatusTheEngineEndsWith() throws IOException {
        String answer = "{\"status\":\"Importing\",\"progressDetail\":{\"current\":512}}\r\n"
                + "{\"status\":\"sha256:0123abcd\"}\r\n";

        assertEquals("sha256:0123abcd", ImportRequest.imageId(200, body(answer), "r:t"));
    }

    @Test
    void anErrorInTheProgressStreamIsABuildFailureWithTheEnginesWords() {
        String answer = "{\"status\":\"Importing\"}\n"
                + "{\"errorDetail\":{\"message\":\"write /var/lib/docker/x: no space left on device\"},"
                + "\"error\":\"write /var/lib/docker/x: no space left on device\"}\n";

        CorezfsException e =
                assertThrows(CorezfsException.class, () -> ImportRequest.imageId(200, body(answer), "r:t"));

        assertEquals(ExitCode.BUILD_FAILED, e.exitCode());
        assertEquals("docker import of r:t failed: write /var/lib/docker/x: no space left on device", e.getMessage());
    }

    @Test
    void aRefusedRequestIsABuildFailureWithTheEnginesMessage() {
        CorezfsException e = assertThrows(
                CorezfsException.class,
                () -> ImportRequest.imageId(
                        500,
                        body("{\"message\":\"Error processing tar file(exit status 1): unexpected EOF\"}"),
                        "r:t"));

        assertEquals(ExitCode.BUILD_FAILED, e.exitCode());
        assertEquals(
                "docker import of r:t failed: HTTP 500: Error processing tar file(exit status 1): unexpected EOF",
                e.getMessage());
        assertEquals(
                "docker import of r:t failed: HTTP 502: Bad Gateway",
                assertThrows(CorezfsException.class, () -> ImportRequest.imageId(502, body("Bad Gateway\n"), "r:t"))
                        .getMessage());
    }

    @Test
    void anAnswerWithoutAnIdIsAFailureNotANull() {
        assertEquals(
                ExitCode.BUILD_FAILED,
                assertThrows(
                                CorezfsException.class,
                                () -> ImportRequest.imageId(200, body("{\"status\":\"Importing\"}"), "r:t"))
                        .exitCode());
    }

    private static InputStream body(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }
}
