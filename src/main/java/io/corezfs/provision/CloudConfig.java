package io.corezfs.provision;

import io.corezfs.provision.NodeSpec.NodeFile;
import io.corezfs.provision.NodeSpec.NodeUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code #cloud-config} for nodes still provisioned by coreos-cloudinit. Its {@code write_files} cannot download,
 * so the inline files go there and the downloads are done by a oneshot in {@code coreos.units}: each file is fetched
 * (curl, else wget), its sha512 checked before it is moved into place, and only then is the bundle unpacked and
 * {@code corezfs boot --late} run. coreos-cloudinit runs late in the boot, after the point where
 * {@code corezfs-boot.service} runs, which is why the first install happens in that unit; later boots use the boot
 * unit as on any node.
 */
public final class CloudConfig {
    public static final String FETCH_UNIT = "corezfs-fetch.service";
    public static final String FETCH_SCRIPT = "/var/lib/corezfs/bundle/fetch.sh";

    private CloudConfig() {}

    public static String write(NodeSpec spec) {
        List<Object> files = new ArrayList<>();
        for (NodeFile f : spec.files()) {
            if (f.contents().isPresent()) {
                files.add(writeFile(f.path(), f.mode(), f.contents().get()));
            }
        }
        files.add(writeFile(FETCH_SCRIPT, 0755, fetchScript(spec)));
        List<Object> units = new ArrayList<>();
        for (NodeUnit u : spec.units()) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("name", u.name());
            if (u.enabled()) {
                o.put("enable", true);
            }
            u.contents().ifPresent(c -> o.put("content", c));
            units.add(o);
        }
        Map<String, Object> fetch = new LinkedHashMap<>();
        fetch.put("name", FETCH_UNIT);
        fetch.put("command", "start");
        fetch.put("content", Provisioner.resource(FETCH_UNIT).replace("@LAUNCHER@", Provisioner.LAUNCHER));
        units.add(fetch);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("write_files", files);
        doc.put("coreos", Map.of("units", units));
        return "#cloud-config\n" + Yaml.write(doc);
    }

    private static Map<String, Object> writeFile(String path, int mode, String content) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("path", path);
        o.put("permissions", String.format("0%o", mode));
        o.put("content", content);
        return o;
    }

    /** One {@code fetch PATH URL SHA512} line per download, then the unpack step. */
    static String fetchScript(NodeSpec spec) {
        StringBuilder lines = new StringBuilder();
        for (NodeFile f : spec.files()) {
            f.remote()
                    .ifPresent(r -> lines.append("fetch '")
                            .append(f.path())
                            .append("' '")
                            .append(r.url().toString().replace("'", "%27"))
                            .append("' ")
                            .append(r.sha512())
                            .append('\n'));
        }
        return Provisioner.resource("fetch.sh")
                .replace("@FETCHES@\n", lines.toString())
                .replace("@UNPACK@", Provisioner.UNPACK_SCRIPT);
    }
}
