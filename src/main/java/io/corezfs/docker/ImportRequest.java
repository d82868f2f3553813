package io.corezfs.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.JsonMapping;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The engine API's image import ({@code POST /images/create?fromSrc=-}), spelled out: the query that names the
 * image and sets its labels, and the reading of the engine's answer. Kept apart from the HTTP call so both halves
 * can be checked without an engine.
 */
final class ImportRequest {
    private static final ObjectMapper JSON = JsonMapping.newMapper();
    private static final Pattern LABEL_KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]*");

    private ImportRequest() {}

    /**
     * The request path. Labels become {@code LABEL "key"="value"} changes, which the engine applies to the
     * imported image's configuration; keys are sorted so the same import always sends the same request.
     *
     * @throws IllegalArgumentException for a label key outside {@code [A-Za-z0-9._/-]} or a value with a line
     *                                  break, which a Dockerfile instruction cannot carry
     */
    static String path(String repository, String tag, Map<String, String> labels) {
        StringBuilder q = new StringBuilder("/images/create?fromSrc=-");
        q.append("&repo=").append(encode(repository)).append("&tag=").append(encode(tag));
        for (Map.Entry<String, String> l : new TreeMap<>(labels).entrySet()) {
            q.append("&changes=").append(encode("LABEL " + quote(key(l.getKey())) + "=" + quote(value(l.getValue()))));
        }
        return q.toString();
    }

    /**
     * Reads the engine's answer: an error document for a non-200 status, otherwise a stream of JSON progress
     * messages whose last status is the new image's id, unless one of them reports an error.
     *
     * @param ref how to name the image in messages
     * @throws CorezfsException exit 6 if the engine refused or failed the import
     */
    static String imageId(int status, InputStream body, String ref) throws IOException {
        if (status / 100 != 2) {
            throw failed(ref, "HTTP " + status + ": " + errorText(body));
        }
        String id = null;
        try (MappingIterator<JsonNode> messages = JSON.readerFor(JsonNode.class).readValues(body)) {
            while (messages.hasNextValue()) {
                JsonNode m = messages.nextValue();
                if (m.hasNonNull("error") || m.hasNonNull("errorDetail")) {
                    throw failed(ref, message(m));
                }
                String s = m.path("status").asText("");
                if (s.startsWith("sha256:")) {
                    id = s;
                }
            }
        }
        if (id == null) {
            throw failed(ref, "the engine's answer named no image id");
        }
        return id;
    }

    private static String errorText(InputStream body) {
        try {
            byte[] bytes = body.readNBytes(64 * 1024);
            try {
                return message(JSON.readTree(bytes));
            } catch (IOException notJson) {
                return new String(bytes, StandardCharsets.UTF_8).strip();
            }
        } catch (IOException e) {
            return "(no readable answer: " + e.getMessage() + ")";
        }
    }

    private static String message(JsonNode m) {
        for (String field : new String[] {"message", "error"}) {
            if (m.hasNonNull(field)) {
                return m.get(field).asText().strip();
            }
        }
        return m.path("errorDetail").path("message").asText(m.toString()).strip();
    }

    private static String key(String key) {
        if (!LABEL_KEY.matcher(key).matches()) {
            throw new IllegalArgumentException("label key '" + key + "' is not [A-Za-z0-9._/-]+");
        }
        return key;
    }

    private static String value(String value) {
        if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("label value must be one line: '" + value + "'");
        }
        return value;
    }

    /** Double quotes, with the characters the Dockerfile parser would otherwise interpret escaped. */
    private static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("$", "\\$") + '"';
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static CorezfsException failed(String ref, String why) {
        return new CorezfsException(ExitCode.BUILD_FAILED, "docker import of " + ref + " failed: " + why);
    }
}
