package io.corezfs.provision;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Text;
import io.corezfs.activation.OfficialZfs;
import io.corezfs.provision.NodeSpec.NodeFile;
import io.corezfs.provision.NodeSpec.NodeUnit;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

/**
 * Ignition configs (spec 3.3.0 or 3.4.0) from a {@link NodeSpec}, and their merge into an operator's config.
 *
 * <p>Every downloaded file carries {@code verification.hash} ({@code sha512-...}): Ignition refuses a download whose
 * bytes differ and fails the boot before anything of it is used. Inline files are {@code data:} URLs, as Butane
 * writes them.
 */
public final class Ignition {
    /** The spec versions written; 3.3.0 is read by Flatcar since 3185.0.0. */
    public static final List<String> SPECS = List.of("3.3.0", "3.4.0");

    private static final ObjectMapper STRICT = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private Ignition() {}

    /** The config for {@code spec}, as a JSON document. */
    public static ObjectNode config(NodeSpec spec, String version) {
        checkSpec(version);
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.putObject("ignition").put("version", version);
        ArrayNode files = root.putObject("storage").putArray("files");
        for (NodeFile f : spec.files()) {
            files.add(file(f));
        }
        ArrayNode units = root.putObject("systemd").putArray("units");
        for (NodeUnit u : spec.units()) {
            units.add(unit(u));
        }
        return root;
    }

    public static String write(ObjectNode config) {
        try {
            return STRICT.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(config) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static ObjectNode file(NodeFile f) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("path", f.path());
        o.put("mode", f.mode());
        ObjectNode contents = o.putObject("contents");
        if (f.remote().isPresent()) {
            contents.put("source", f.remote().get().url().toString());
            contents.putObject("verification")
                    .put("hash", "sha512-" + f.remote().get().sha512());
        } else {
            contents.put("source", dataUrl(f.contents().get()));
        }
        return o;
    }

    static ObjectNode unit(NodeUnit u) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("name", u.name());
        // Only true is written: Ignition turns "enabled": false into a "disable" preset line, which would also
        // override a preset that ships with an archive.
        if (u.enabled()) {
            o.put("enabled", true);
        }
        u.contents().ifPresent(c -> o.put("contents", c));
        return o;
    }

    /** RFC 2397, percent-encoded: everything but unreserved characters is escaped, so any text survives. */
    static String dataUrl(String text) {
        StringBuilder b = new StringBuilder("data:,");
        for (byte x : text.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || "-_.~".indexOf(c) >= 0) {
                b.append((char) c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)));
                b.append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return b.toString();
    }

    /** The text of a {@code data:} URL (percent-encoded or base64), or empty for any other source. */
    public static Optional<String> decodeData(String source, Optional<String> compression) {
        if (!source.startsWith("data:")) {
            return Optional.empty();
        }
        int comma = source.indexOf(',');
        if (comma < 0) {
            throw usage("a data: URL without a comma");
        }
        String meta = source.substring(5, comma);
        String data = source.substring(comma + 1);
        byte[] bytes = meta.endsWith(";base64")
                ? Base64.getDecoder().decode(URLDecoder.decode(data, StandardCharsets.UTF_8))
                : URLDecoder.decode(data.replace("+", "%2B"), StandardCharsets.UTF_8)
                        .getBytes(StandardCharsets.UTF_8);
        if (compression.filter(c -> !c.isEmpty()).isPresent()) {
            if (!compression.get().equals("gzip")) {
                throw usage("compression " + Text.printable(compression.get(), 40) + " is not one Ignition knows");
            }
            try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
                bytes = in.readNBytes(16 << 20);
            } catch (IOException e) {
                throw usage("a gzip'd data: URL that does not inflate: " + e.getMessage());
            }
        }
        return Optional.of(new String(bytes, StandardCharsets.UTF_8));
    }

    /**
     * Folds {@code ours} into the operator's config {@code existing}: their files, links, directories and units stay
     * as they are and ours are added. Refused (exit 2, naming it) when both name the same path or unit, when the
     * existing config is not Ignition spec 3.0.0 to 3.4.0, or when it enables Flatcar's own zfs extension (exit 3).
     * The result has the newer of the two spec versions: spec 3 only adds fields from one minor version to the next.
     */
    public static ObjectNode merge(String existingText, String origin, ObjectNode ours) {
        JsonNode parsed;
        try {
            parsed = STRICT.readTree(existingText);
        } catch (JsonProcessingException e) {
            throw usage(origin + ": not a JSON Ignition config: " + e.getOriginalMessage());
        }
        if (!(parsed instanceof ObjectNode existing)) {
            throw usage(origin + ": not a JSON Ignition config (the top is not an object)");
        }
        String version = existing.path("ignition").path("version").asText("");
        if (!version.matches("3\\.[0-4]\\.0")) {
            throw usage(origin + ": ignition.version is '" + Text.printable(version, 40)
                    + "'; only spec 3.0.0 to 3.4.0 can be merged (translate an older config first)");
        }
        ObjectNode merged = existing.deepCopy();
        String ourVersion = ours.path("ignition").path("version").asText();
        ((ObjectNode) merged.get("ignition")).put("version", version.compareTo(ourVersion) > 0 ? version : ourVersion);

        Map<String, String> paths = new LinkedHashMap<>();
        for (String kind : List.of("files", "links", "directories")) {
            for (JsonNode n : array(existing.path("storage").path(kind), origin, "storage." + kind)) {
                paths.put(n.path("path").asText(""), kind);
                officialZfs(n, kind, origin);
            }
        }
        Map<String, Boolean> units = new LinkedHashMap<>();
        for (JsonNode n : array(existing.path("systemd").path("units"), origin, "systemd.units")) {
            units.put(n.path("name").asText(""), true);
        }
        ObjectNode storage = merged.has("storage") ? (ObjectNode) merged.get("storage") : merged.putObject("storage");
        ArrayNode files = storage.has("files") ? (ArrayNode) storage.get("files") : storage.putArray("files");
        for (JsonNode f : ours.path("storage").path("files")) {
            String p = f.path("path").asText();
            if (paths.containsKey(p)) {
                throw usage(origin + ": storage." + paths.get(p) + " already has " + p
                        + ", which corezfs writes too; remove one of them");
            }
            files.add(f);
        }
        ObjectNode systemd = merged.has("systemd") ? (ObjectNode) merged.get("systemd") : merged.putObject("systemd");
        ArrayNode unitArray = systemd.has("units") ? (ArrayNode) systemd.get("units") : systemd.putArray("units");
        for (JsonNode u : ours.path("systemd").path("units")) {
            String name = u.path("name").asText();
            if (units.containsKey(name)) {
                throw usage(origin + ": systemd.units already has " + name
                        + ", which corezfs writes too; remove one of them");
            }
            unitArray.add(u);
        }
        return merged;
    }

    private static Iterable<JsonNode> array(JsonNode n, String origin, String field) {
        if (n.isMissingNode() || n.isNull()) {
            return List.of();
        }
        if (!n.isArray()) {
            throw usage(origin + ": " + field + " is not a list");
        }
        return n;
    }

    private static void officialZfs(JsonNode n, String kind, String origin) {
        String path = n.path("path").asText("");
        if (path.equals(OfficialZfs.EXTENSION_IMAGE)) {
            throw CorezfsException.precondition(
                    origin + ": storage." + kind + " places " + path + ": " + OfficialZfs.message("in the config"));
        }
        if (path.equals(OfficialZfs.ENABLED_SYSEXT) && kind.equals("files")) {
            JsonNode contents = n.path("contents");
            String source = contents.path("source").asText("");
            Optional<String> text = decodeData(
                    source, Optional.ofNullable(contents.path("compression").textValue()));
            if (text.isEmpty() && !source.isEmpty()) {
                throw CorezfsException.precondition(origin + ": " + path + " comes from " + Text.printable(source, 200)
                        + ", so whether it enables Flatcar's zfs extension cannot be checked; carry it inline");
            }
            if (text.isPresent() && OfficialZfs.listsZfs(text.get())) {
                throw CorezfsException.precondition(
                        origin + ": " + path + " lists zfs: " + OfficialZfs.message("in the config"));
            }
        }
    }

    static void checkSpec(String version) {
        if (!SPECS.contains(version)) {
            throw usage("--spec must be one of " + String.join(", ", SPECS) + ", not '" + Text.printable(version, 40)
                    + "'");
        }
    }

    /** A config parsed back, strictly (the tests read the output with it). */
    public static ObjectNode parse(String text) {
        try {
            return (ObjectNode) STRICT.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static CorezfsException usage(String message) {
        return new CorezfsException(ExitCode.USAGE, message);
    }
}
