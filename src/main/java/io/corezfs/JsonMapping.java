package io.corezfs;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The one Jackson configuration every JSON reader and writer of corezfs uses: manifests, install state, the mirror
 * index, the engine's answers and {@code --json} output.
 * <ul>
 *   <li>written indented, so state and indexes read well and diff line by line;</li>
 *   <li>unknown properties are ignored, so a newer corezfs's files still read (formats carry their own version);</li>
 *   <li>an explicit {@code null} for a number and a key given twice are errors, not a silent 0 or last value.</li>
 * </ul>
 */
public final class JsonMapping {
    private JsonMapping() {}

    /** A new mapper with this configuration; thread-safe once made, so callers keep one. */
    public static ObjectMapper newMapper() {
        return new ObjectMapper()
                .enable(SerializationFeature.INDENT_OUTPUT)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }

    /**
     * The same configuration, stricter for untrusted files (install state, a mirror's index): a key given twice
     * anywhere, text after the document, a scalar where an object or list belongs, or a string where a number belongs
     * is an error, so two readers can never see two different documents in one file.
     */
    public static ObjectMapper newStrictReader() {
        return JsonMapper.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .disable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .build();
    }
}
