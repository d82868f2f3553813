package io.corezfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import org.junit.jupiter.api.Test;

/** The one JSON configuration: lenient about what a newer corezfs adds, strict about what no writer would produce. */
class JsonMappingTest {
    record Sample(int format, String name) {}

    final ObjectMapper json = JsonMapping.newMapper();

    @Test
    void unknownPropertiesAreIgnored() throws Exception {
        assertEquals(
                new Sample(1, "a"), json.readValue("{\"format\":1,\"name\":\"a\",\"addedLater\":true}", Sample.class));
    }

    @Test
    void aNullNumberAndADuplicateKeyAreRefused() {
        assertThrows(
                MismatchedInputException.class, () -> json.readValue("{\"format\":null,\"name\":\"a\"}", Sample.class));
        assertThrows(Exception.class, () -> json.readTree("{\"a\":1,\"a\":2}"));
    }

    @Test
    void outputIsIndented() throws Exception {
        assertEquals("{\n  \"format\" : 1,\n  \"name\" : \"a\"\n}", json.writeValueAsString(new Sample(1, "a")));
    }
}
