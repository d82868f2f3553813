package io.corezfs.provisioner;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The provisioner's seam to the Kubernetes API: only what the controller reads and writes, in plain records, so the
 * controller is tested against a fake and knows nothing of the client library. {@code Fabric8Cluster} is the real
 * one. Everything read here is untrusted (a claim's namespace user writes it) and is checked by the controller.
 */
public interface Cluster {
    /** All PersistentVolumeClaims, every namespace. */
    List<Claim> claims();

    /** All PersistentVolumes. */
    List<Volume> volumes();

    Optional<Volume> volume(String name);

    Optional<StorageClass> storageClass(String name);

    /** Creates the PV; false if one of that name exists already (then nothing changed). */
    boolean createVolume(VolumeSpec spec);

    /** Deletes the PV; nothing if it is gone already. */
    void deleteVolume(String name);

    /** Adds {@code annotations} to the claim (a merge, other annotations stay). */
    void annotateClaim(String namespace, String name, Map<String, String> annotations);

    /**
     * Records an Event on the claim ({@code kubectl describe pvc} shows it): {@code warning} false for Normal.
     * Best effort: a failure here never fails the claim.
     */
    void claimEvent(Claim claim, boolean warning, String reason, String message);

    /**
     * Calls {@code changed} whenever a claim or volume changes, until the returned handle is closed. The calls carry no
     * data: the controller lists again, so a missed event costs only time until the next resync.
     */
    AutoCloseable watch(Runnable changed);

    /**
     * A claim as the controller sees it.
     *
     * @param storageClass its {@code storageClassName}, empty when it names none
     * @param request      {@code spec.resources.requests.storage} as the API spelled it ({@code 100Mi}), or empty
     * @param volumeName   {@code spec.volumeName}, set once bound
     * @param unsupported  what it asks for that a provisioned dataset cannot give, if anything: a
     *                     {@code spec.selector} (labels of an existing PV), {@code volumeMode: Block}, a
     *                     {@code dataSource} (a clone or a snapshot's copy)
     * @param selectedNode the scheduler's {@code volume.kubernetes.io/selected-node}, for WaitForFirstConsumer classes
     */
    record Claim(
            String namespace,
            String name,
            String uid,
            Optional<String> storageClass,
            String phase,
            Optional<String> request,
            List<String> accessModes,
            Optional<String> volumeName,
            Optional<String> unsupported,
            Optional<String> selectedNode) {
        public Claim {
            accessModes = List.copyOf(accessModes);
        }

        /** A claim that asks for nothing unsupported and has no selected node. */
        public Claim(
                String namespace,
                String name,
                String uid,
                Optional<String> storageClass,
                String phase,
                Optional<String> request,
                List<String> accessModes,
                Optional<String> volumeName) {
            this(
                    namespace,
                    name,
                    uid,
                    storageClass,
                    phase,
                    request,
                    accessModes,
                    volumeName,
                    Optional.empty(),
                    Optional.empty());
        }
    }

    /** A PV: its phase, policy, annotations and the uid of the claim it was made for ({@code spec.claimRef.uid}). */
    record Volume(
            String name,
            String phase,
            String reclaimPolicy,
            Map<String, String> annotations,
            Optional<String> claimUid) {
        public Volume {
            annotations = Map.copyOf(annotations);
        }
    }

    /**
     * A StorageClass: its provisioner, parameters and reclaim policy (empty: the API's default, Delete), and whether
     * its volumeBindingMode is WaitForFirstConsumer.
     */
    record StorageClass(
            String name,
            String provisioner,
            Map<String, String> parameters,
            Optional<String> reclaimPolicy,
            boolean waitForFirstConsumer) {
        public StorageClass {
            parameters = Map.copyOf(parameters);
        }

        /** A class that binds at once (Immediate). */
        public StorageClass(
                String name, String provisioner, Map<String, String> parameters, Optional<String> reclaimPolicy) {
            this(name, provisioner, parameters, reclaimPolicy, false);
        }
    }

    /** Where a PV's data lives. */
    sealed interface Source {}

    /** A directory on {@code node}, with node affinity to it ({@code kubernetes.io/hostname}). */
    record HostPath(String path, String node) implements Source {}

    /** An NFS export of {@code server}. */
    record Nfs(String server, String path) implements Source {}

    /** The PV to create for a claim, bound to it by {@code claimRef}. */
    record VolumeSpec(
            String name,
            String capacity,
            List<String> accessModes,
            String reclaimPolicy,
            String storageClass,
            String claimNamespace,
            String claimName,
            String claimUid,
            Map<String, String> annotations,
            Source source) {
        public VolumeSpec {
            accessModes = List.copyOf(accessModes);
            annotations = Map.copyOf(annotations);
        }
    }
}
