package io.corezfs.provisioner;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.flexvolume.ZfsValues;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What {@code kubectl apply -f} needs to run the provisioner in a cluster: its ServiceAccount, a ClusterRole with
 * exactly the verbs {@link Fabric8Cluster} uses (plus events), a Role for its Lease, the bindings, a Deployment of two
 * replicas (one leads, the other waits on the Lease) reaching the ZFS node over SSH with keys from a Secret, and an
 * example StorageClass. Built as maps and written by the YAML library, so every value is quoted as YAML needs.
 *
 * @param namespace where the provisioner runs
 * @param image     its container image (built locally; no registry is assumed)
 * @param pullPolicy the container's {@code imagePullPolicy}: {@code Never} for an image loaded onto every node,
 *     {@code IfNotPresent} or {@code Always} for one a registry serves
 * @param parent    the dataset under which volumes are made
 * @param node      the Kubernetes name of the ZFS node, for the PVs' node affinity
 * @param zfsSsh    {@code [user@]host[:port]} of that node's sshd
 */
public record Manifests(String namespace, String image, String pullPolicy, String parent, String node, String zfsSsh) {
    public static final String NAME = "corezfs-provisioner";
    public static final String SSH_SECRET = "corezfs-provisioner-ssh";

    /** A DNS-1123 label: namespaces and node names (node names may hold dots, as subdomains do). */
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    private static final Pattern SUBDOMAIN =
            Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
    private static final Pattern IMAGE = Pattern.compile("[a-z0-9][a-z0-9._/:@-]{0,254}");
    private static final Pattern PULL_POLICY = Pattern.compile("Always|IfNotPresent|Never");
    private static final Pattern ADDRESS = Pattern.compile("([a-z_][a-z0-9_.-]{0,31}@)?[A-Za-z0-9_.-]+(:[0-9]{1,5})?");

    public Manifests {
        check(LABEL, namespace, "--namespace");
        check(IMAGE, image, "--image");
        check(PULL_POLICY, pullPolicy, "--pull-policy");
        ZfsValues.dataset(parent, "--parent");
        check(SUBDOMAIN, node, "--node");
        check(ADDRESS, zfsSsh, "--zfs-ssh");
    }

    private static void check(Pattern p, String value, String option) {
        if (!p.matcher(value).matches() || value.length() > 253) {
            throw new CorezfsException(ExitCode.USAGE, option + ": not a valid value: '" + value + "'");
        }
    }

    public List<Map<String, Object>> documents() {
        List<Map<String, Object>> docs = new ArrayList<>();
        docs.add(object("v1", "ServiceAccount", NAME, namespace));

        Map<String, Object> role = object("rbac.authorization.k8s.io/v1", "ClusterRole", NAME, null);
        role.put(
                "rules",
                List.of(
                        rule("", "persistentvolumes", "get", "list", "watch", "create", "delete"),
                        rule("", "persistentvolumeclaims", "get", "list", "watch", "patch"),
                        rule("storage.k8s.io", "storageclasses", "get", "list", "watch"),
                        rule("", "events", "create", "patch")));
        docs.add(role);
        docs.add(binding("ClusterRoleBinding", "ClusterRole", null));

        // The Lease lives in the provisioner's namespace; a Role keeps the right to it there. fabric8's LeaseLock
        // takes and renews it with a patch (the real apiserver refused the renewal without it: ProvisionerIT).
        Map<String, Object> leaseRole = object("rbac.authorization.k8s.io/v1", "Role", NAME, namespace);
        leaseRole.put("rules", List.of(rule("coordination.k8s.io", "leases", "get", "create", "update", "patch")));
        docs.add(leaseRole);
        docs.add(binding("RoleBinding", "Role", namespace));

        docs.add(deployment());

        Map<String, Object> sc = object("storage.k8s.io/v1", "StorageClass", "corezfs", null);
        sc.put("provisioner", Provisioner.NAME);
        sc.put("reclaimPolicy", "Delete");
        sc.put("volumeBindingMode", "Immediate");
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("compression", "lz4");
        params.put("reserveSpace", "true");
        sc.put("parameters", params);
        docs.add(sc);
        return docs;
    }

    /** The group of the image's user (scripts/provisioner-image.sh). */
    static final int IMAGE_GROUP = 65532;

    private Map<String, Object> deployment() {
        Map<String, Object> d = object("apps/v1", "Deployment", NAME, namespace);
        Map<String, Object> labels = Map.of("app", NAME);
        List<String> args = List.of(
                "provisioner",
                "run",
                "--parent",
                parent,
                "--node",
                node,
                "--zfs-ssh",
                zfsSsh,
                "--ssh-identity",
                "/etc/corezfs/ssh/id_ed25519",
                "--known-hosts",
                "/etc/corezfs/ssh/known_hosts",
                "--lease-namespace",
                namespace,
                // The pod's own address: only inside its network namespace, for a scrape of the pod.
                "--metrics-address",
                "0.0.0.0:9808",
                // Its INFO lines (leading, provisioned, destroyed) in the pod's log; without -v only warnings.
                "-v");
        Map<String, Object> container = new LinkedHashMap<>();
        container.put("name", "provisioner");
        container.put("image", image);
        container.put("imagePullPolicy", pullPolicy);
        container.put("args", args);
        container.put(
                "env",
                List.of(Map.of(
                        "name", "POD_NAME", "valueFrom", Map.of("fieldRef", Map.of("fieldPath", "metadata.name")))));
        container.put("ports", List.of(Map.of("name", "metrics", "containerPort", 9808)));
        container.put(
                "volumeMounts", List.of(Map.of("name", "ssh", "mountPath", "/etc/corezfs/ssh", "readOnly", true)));
        container.put(
                "securityContext",
                Map.of("allowPrivilegeEscalation", false, "readOnlyRootFilesystem", true, "runAsNonRoot", true));
        Map<String, Object> podSpec = new LinkedHashMap<>();
        podSpec.put("serviceAccountName", NAME);
        // The SSH Secret's files are root's with mode 0400. fsGroup makes them this group's and group-readable (the
        // kubelet adds g+r on a read-only volume) and adds the group to the container's process, whatever its uid.
        podSpec.put("securityContext", Map.of("fsGroup", IMAGE_GROUP));
        podSpec.put("containers", List.of(container));
        podSpec.put(
                "volumes",
                List.of(Map.of("name", "ssh", "secret", Map.of("secretName", SSH_SECRET, "defaultMode", 0400))));
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("replicas", 2);
        spec.put("selector", Map.of("matchLabels", labels));
        spec.put("template", Map.of("metadata", Map.of("labels", labels), "spec", podSpec));
        d.put("spec", spec);
        return d;
    }

    private Map<String, Object> binding(String kind, String roleKind, String ns) {
        Map<String, Object> b = object("rbac.authorization.k8s.io/v1", kind, NAME, ns);
        b.put("roleRef", Map.of("apiGroup", "rbac.authorization.k8s.io", "kind", roleKind, "name", NAME));
        b.put("subjects", List.of(Map.of("kind", "ServiceAccount", "name", NAME, "namespace", namespace)));
        return b;
    }

    private static Map<String, Object> rule(String group, String resource, String... verbs) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("apiGroups", List.of(group));
        r.put("resources", List.of(resource));
        r.put("verbs", List.of(verbs));
        return r;
    }

    private static Map<String, Object> object(String apiVersion, String kind, String name, String ns) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("apiVersion", apiVersion);
        o.put("kind", kind);
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("name", name);
        if (ns != null) {
            meta.put("namespace", ns);
        }
        o.put("metadata", meta);
        return o;
    }

    /** The documents as one YAML stream, each starting with {@code ---}. */
    public String yaml() {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory().enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));
        StringBuilder b = new StringBuilder();
        for (Map<String, Object> d : documents()) {
            try {
                b.append(yaml.writeValueAsString(d));
            } catch (JsonProcessingException e) {
                throw new UncheckedIOException(e);
            }
        }
        return b.toString();
    }
}
