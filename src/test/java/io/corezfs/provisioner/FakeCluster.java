package io.corezfs.provisioner;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The API server on paper: claims, classes and volumes in maps, every write recorded. */
final class FakeCluster implements Cluster {
    final Map<String, Claim> claims = new LinkedHashMap<>();
    final Map<String, StorageClass> classes = new HashMap<>();
    final Map<String, VolumeSpec> created = new LinkedHashMap<>();
    final Map<String, Volume> volumes = new LinkedHashMap<>();
    final Map<String, Map<String, String>> claimAnnotations = new HashMap<>();
    final List<String> deleted = new ArrayList<>();
    final List<String> events = new ArrayList<>();
    /** The API server refuses to create PVs (down, or the provisioner's token expired). */
    boolean failCreate;

    FakeCluster storageClass(String name, String provisioner, Map<String, String> parameters, String reclaim) {
        classes.put(name, new StorageClass(name, provisioner, parameters, Optional.ofNullable(reclaim)));
        return this;
    }

    FakeCluster claim(String namespace, String name, String uid, String storageClass, String request) {
        claims.put(
                namespace + "/" + name,
                new Claim(
                        namespace,
                        name,
                        uid,
                        Optional.of(storageClass),
                        "Pending",
                        Optional.of(request),
                        List.of("ReadWriteOnce"),
                        Optional.empty()));
        return this;
    }

    /** What the PV controller does after the provisioner made a PV: bind, then on the claim's deletion, release. */
    void release(String pv) {
        Volume v = volumes.get(pv);
        volumes.put(pv, new Volume(v.name(), "Released", v.reclaimPolicy(), v.annotations(), v.claimUid()));
    }

    @Override
    public List<Claim> claims() {
        return List.copyOf(claims.values());
    }

    @Override
    public List<Volume> volumes() {
        return List.copyOf(volumes.values());
    }

    @Override
    public Optional<Volume> volume(String name) {
        return Optional.ofNullable(volumes.get(name));
    }

    @Override
    public Optional<StorageClass> storageClass(String name) {
        return Optional.ofNullable(classes.get(name));
    }

    @Override
    public boolean createVolume(VolumeSpec spec) {
        if (failCreate) {
            throw new IllegalStateException("the API server refused the PV: connection refused");
        }
        if (volumes.containsKey(spec.name())) {
            return false;
        }
        created.put(spec.name(), spec);
        volumes.put(
                spec.name(),
                new Volume(
                        spec.name(), "Bound", spec.reclaimPolicy(), spec.annotations(), Optional.of(spec.claimUid())));
        return true;
    }

    @Override
    public void deleteVolume(String name) {
        volumes.remove(name);
        deleted.add(name);
    }

    @Override
    public void annotateClaim(String namespace, String name, Map<String, String> annotations) {
        claimAnnotations
                .computeIfAbsent(namespace + "/" + name, k -> new HashMap<>())
                .putAll(annotations);
    }

    @Override
    public void claimEvent(Claim claim, boolean warning, String reason, String message) {
        events.add((warning ? "Warning " : "Normal ") + reason + " " + claim.namespace() + "/" + claim.name() + ": "
                + message);
    }

    @Override
    public AutoCloseable watch(Runnable changed) {
        return () -> {};
    }
}
