package io.corezfs.flexvolume;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.JsonMapping;
import io.corezfs.Text;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;

/**
 * What a pod asks of a volume: the kubelet's JSON argument to {@code mount}, a flat object of strings. The kubelet puts
 * its own keys under {@code kubernetes.io/} (fsType, readwrite, pod.name, pod.namespace, pod.uid, pvOrVolumeName,
 * serviceAccount.name, mounterArgs.FsGroup, secret/...) and the pod's {@code options} beside them. Every value is
 * untrusted: anyone who may create a pod chooses them.
 *
 * @param dataset     the child of the configured parent, one name component
 * @param quota       its {@code quota}
 * @param reservation its {@code reservation}, if asked
 * @param compression its {@code compression}, if asked
 * @param readOnly    the kubelet asked for a read-only mount ({@code kubernetes.io/readwrite=ro})
 */
public record MountOptions(
        String dataset, String quota, Optional<String> reservation, Optional<String> compression, boolean readOnly) {
    static final String DATASET = "dataset";
    static final String QUOTA = "quota";
    static final String RESERVATION = "reservation";
    static final String COMPRESSION = "compression";
    static final String KUBE_PREFIX = "kubernetes.io/";
    static final String FS_TYPE = "kubernetes.io/fsType";
    static final String READ_WRITE = "kubernetes.io/readwrite";

    /** A pod's options are small; anything near this is not a kubelet's call. */
    private static final int MAX_JSON = 64 << 10;

    private static final ObjectMapper JSON = JsonMapping.newStrictReader();

    /**
     * Parses the kubelet's JSON strictly: an object of string values, each key once; {@code dataset} and {@code quota}
     * present; no option this driver does not know (a misspelt {@code quoat} must not silently mean no quota).
     */
    public static MountOptions parse(String json) {
        if (json.length() > MAX_JSON) {
            throw bad("the options are " + json.length() + " characters; at most " + MAX_JSON);
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw bad("the options are not one JSON object: " + Text.printable(e.getOriginalMessage(), 200));
        }
        if (root == null || !root.isObject()) {
            throw bad("the options are not one JSON object");
        }
        String dataset = null;
        String quota = null;
        String reservation = null;
        String compression = null;
        boolean readOnly = false;
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            if (!e.getValue().isTextual()) {
                throw bad("option '" + Text.printable(key, 80) + "' must be a string");
            }
            String value = e.getValue().textValue();
            switch (key) {
                case DATASET -> dataset = ZfsValues.component(value, "option dataset");
                case QUOTA -> quota = ZfsValues.size(value, "option quota");
                case RESERVATION -> reservation = ZfsValues.size(value, "option reservation");
                case COMPRESSION -> compression = ZfsValues.compression(value, "option compression");
                case FS_TYPE -> {
                    if (!value.isEmpty() && !value.equals("zfs")) {
                        throw bad("fsType must be empty or zfs: this driver mounts ZFS datasets, not '"
                                + Text.printable(value, 40) + "'");
                    }
                }
                case READ_WRITE -> {
                    if (!value.equals("rw") && !value.equals("ro")) {
                        throw bad(READ_WRITE + " must be rw or ro, not '" + Text.printable(value, 40) + "'");
                    }
                    readOnly = value.equals("ro");
                }
                default -> {
                    // The kubelet's own facts about the pod (and any secret it passes) are not this driver's to judge.
                    if (!key.startsWith(KUBE_PREFIX)) {
                        throw bad("unknown option '" + Text.printable(key, 80)
                                + "' (known: dataset, quota, reservation, compression)");
                    }
                }
            }
        }
        if (dataset == null || quota == null) {
            throw bad("options dataset and quota are required (got " + (dataset == null ? "no dataset" : "no quota")
                    + ")");
        }
        return new MountOptions(
                dataset, quota, Optional.ofNullable(reservation), Optional.ofNullable(compression), readOnly);
    }

    private static CorezfsException bad(String message) {
        return new CorezfsException(ExitCode.USAGE, message);
    }
}
