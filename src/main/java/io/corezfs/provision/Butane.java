package io.corezfs.provision;

import io.corezfs.provision.NodeSpec.NodeFile;
import io.corezfs.provision.NodeSpec.NodeUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Butane ({@code variant: flatcar}) from a {@link NodeSpec}: the same files and units as {@link Ignition}, for
 * operators who keep their machine descriptions in Butane and translate them with {@code butane}. Version 1.0.0
 * translates to Ignition spec 3.3.0, 1.1.0 to 3.4.0.
 */
public final class Butane {
    private Butane() {}

    /** The Butane version that translates to Ignition spec {@code spec}. */
    public static String versionFor(String spec) {
        Ignition.checkSpec(spec);
        return spec.equals("3.3.0") ? "1.0.0" : "1.1.0";
    }

    public static String write(NodeSpec spec, String ignitionSpec) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("variant", "flatcar");
        doc.put("version", versionFor(ignitionSpec));
        List<Object> files = new ArrayList<>();
        for (NodeFile f : spec.files()) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("path", f.path());
            o.put("mode", new Yaml.Octal(f.mode()));
            Map<String, Object> contents = new LinkedHashMap<>();
            if (f.remote().isPresent()) {
                contents.put("source", f.remote().get().url().toString());
                contents.put(
                        "verification",
                        Map.of("hash", "sha512-" + f.remote().get().sha512()));
            } else {
                contents.put("inline", f.contents().get());
            }
            o.put("contents", contents);
            files.add(o);
        }
        doc.put("storage", Map.of("files", files));
        List<Object> units = new ArrayList<>();
        for (NodeUnit u : spec.units()) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("name", u.name());
            if (u.enabled()) {
                o.put("enabled", true);
            }
            u.contents().ifPresent(c -> o.put("contents", c));
            units.add(o);
        }
        doc.put("systemd", Map.of("units", units));
        return "# Written by corezfs provision: merge it into your Butane config, or translate it on its own with"
                + " `butane --strict`.\n" + Yaml.write(doc);
    }
}
