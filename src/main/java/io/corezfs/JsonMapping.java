package io.corezfs;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

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
    private JsonMapping() {
    }

    /** A new mapper with this configuration; thread-safe once made, so callers keep one. */
    public static ObjectMapper newMapper() {
        return new ObjectMapper()
                .enable(SerializationFeature.INDENT_OUTPUT)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }
}
