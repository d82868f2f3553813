package io.corezfs.provisioner;

import io.fabric8.kubernetes.api.model.NodeSelectorRequirementBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.VolumeNodeAffinityBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@link Cluster} through the fabric8 client (its JDK HTTP transport). The only class that knows fabric8's model, so
 * it is also the only one that needs the provisioner's extra jars; {@code corezfs provisioner} checks they are there
 * before it loads this.
 */
public final class Fabric8Cluster implements Cluster, AutoCloseable {
    /** Set by the scheduler on a claim of a WaitForFirstConsumer class once a pod using it has a node. */
    static final String SELECTED_NODE = "volume.kubernetes.io/selected-node";

    private final KubernetesClient client;

    public Fabric8Cluster(KubernetesClient client) {
        this.client = client;
    }

    /**
     * A client configured from {@code kubeconfig} (the file's text), else as fabric8 finds it: {@code KUBECONFIG},
     * {@code ~/.kube/config}, or the pod's service account when it runs in the cluster.
     */
    public static Fabric8Cluster connect(java.util.Optional<String> kubeconfig) {
        io.fabric8.kubernetes.client.Config config = kubeconfig
                .map(io.fabric8.kubernetes.client.Config::fromKubeconfig)
                .orElseGet(() -> io.fabric8.kubernetes.client.Config.autoConfigure(null));
        // fabric8 retries a failed request ten times with growing pauses by default, which kept a pass waiting for
        // minutes on an API server that is away; the controller's own next pass is the retry.
        config.setRequestRetryBackoffLimit(2);
        return new Fabric8Cluster(new io.fabric8.kubernetes.client.KubernetesClientBuilder()
                .withConfig(config)
                .build());
    }

    @Override
    public void close() {
        client.close();
    }

    @Override
    public List<Claim> claims() {
        return client.persistentVolumeClaims().inAnyNamespace().list().getItems().stream()
                .map(Fabric8Cluster::claim)
                .toList();
    }

    private static Claim claim(PersistentVolumeClaim c) {
        var spec = c.getSpec();
        Optional<String> request = Optional.ofNullable(spec.getResources())
                .map(r -> r.getRequests())
                .map(r -> r.get("storage"))
                .map(Quantity::toString);
        return new Claim(
                c.getMetadata().getNamespace(),
                c.getMetadata().getName(),
                String.valueOf(c.getMetadata().getUid()),
                Optional.ofNullable(spec.getStorageClassName()).filter(s -> !s.isEmpty()),
                c.getStatus() == null || c.getStatus().getPhase() == null
                        ? "Pending"
                        : c.getStatus().getPhase(),
                request,
                spec.getAccessModes() == null ? List.of() : spec.getAccessModes(),
                Optional.ofNullable(spec.getVolumeName()).filter(s -> !s.isEmpty()),
                unsupported(spec),
                Optional.ofNullable(c.getMetadata().getAnnotations())
                        .map(a -> a.get(SELECTED_NODE))
                        .filter(s -> !s.isEmpty()));
    }

    private static Optional<String> unsupported(io.fabric8.kubernetes.api.model.PersistentVolumeClaimSpec spec) {
        if (spec.getSelector() != null) {
            return Optional.of("a selector (labels of an existing volume)");
        }
        if ("Block".equals(spec.getVolumeMode())) {
            return Optional.of("volumeMode Block");
        }
        if (spec.getDataSource() != null || spec.getDataSourceRef() != null) {
            return Optional.of("a dataSource (a clone or a snapshot's copy)");
        }
        return Optional.empty();
    }

    @Override
    public List<Volume> volumes() {
        return client.persistentVolumes().list().getItems().stream()
                .map(Fabric8Cluster::volume)
                .toList();
    }

    @Override
    public Optional<Volume> volume(String name) {
        return Optional.ofNullable(client.persistentVolumes().withName(name).get())
                .map(Fabric8Cluster::volume);
    }

    private static Volume volume(PersistentVolume v) {
        var spec = v.getSpec();
        return new Volume(
                v.getMetadata().getName(),
                v.getStatus() == null || v.getStatus().getPhase() == null
                        ? "Pending"
                        : v.getStatus().getPhase(),
                spec.getPersistentVolumeReclaimPolicy() == null ? "Delete" : spec.getPersistentVolumeReclaimPolicy(),
                v.getMetadata().getAnnotations() == null
                        ? Map.of()
                        : v.getMetadata().getAnnotations(),
                Optional.ofNullable(spec.getClaimRef()).map(r -> r.getUid()));
    }

    @Override
    public Optional<StorageClass> storageClass(String name) {
        return Optional.ofNullable(
                        client.storage().v1().storageClasses().withName(name).get())
                .map(s -> new StorageClass(
                        s.getMetadata().getName(),
                        String.valueOf(s.getProvisioner()),
                        s.getParameters() == null ? Map.of() : s.getParameters(),
                        Optional.ofNullable(s.getReclaimPolicy()),
                        "WaitForFirstConsumer".equals(s.getVolumeBindingMode())));
    }

    @Override
    public boolean createVolume(VolumeSpec s) {
        PersistentVolumeBuilder b = new PersistentVolumeBuilder()
                .withNewMetadata()
                .withName(s.name())
                .withAnnotations(s.annotations())
                .endMetadata()
                .withNewSpec()
                .withCapacity(Map.of("storage", new Quantity(s.capacity())))
                .withAccessModes(s.accessModes())
                .withPersistentVolumeReclaimPolicy(s.reclaimPolicy())
                .withStorageClassName(s.storageClass())
                .withVolumeMode("Filesystem")
                .withClaimRef(new ObjectReferenceBuilder()
                        .withApiVersion("v1")
                        .withKind("PersistentVolumeClaim")
                        .withNamespace(s.claimNamespace())
                        .withName(s.claimName())
                        .withUid(s.claimUid())
                        .build())
                .endSpec();
        if (s.source() instanceof HostPath h) {
            b.editSpec()
                    .withNewHostPath()
                    .withPath(h.path())
                    .withType("Directory")
                    .endHostPath()
                    .withNodeAffinity(new VolumeNodeAffinityBuilder()
                            .withNewRequired()
                            .addNewNodeSelectorTerm()
                            .withMatchExpressions(new NodeSelectorRequirementBuilder()
                                    .withKey("kubernetes.io/hostname")
                                    .withOperator("In")
                                    .withValues(h.node())
                                    .build())
                            .endNodeSelectorTerm()
                            .endRequired()
                            .build())
                    .endSpec();
        } else if (s.source() instanceof Nfs n) {
            b.editSpec()
                    .withNewNfs()
                    .withServer(n.server())
                    .withPath(n.path())
                    .endNfs()
                    .endSpec();
        }
        try {
            client.persistentVolumes().resource(b.build()).create();
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                return false;
            }
            throw e;
        }
    }

    @Override
    public void deleteVolume(String name) {
        client.persistentVolumes().withName(name).delete();
    }

    @Override
    public void annotateClaim(String namespace, String name, Map<String, String> annotations) {
        // A merge patch of the annotations alone, without the claim's resourceVersion: the PV controller updates the
        // claim at this very moment (it binds it to the new PV), and a read-modify-write (fabric8's edit) then lost
        // with a 409 on every pass after the PV existed (ProvisionerIT, against the real apiserver).
        String patch;
        try {
            patch = io.corezfs.JsonMapping.newMapper()
                    .writeValueAsString(Map.of("metadata", Map.of("annotations", annotations)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        client.persistentVolumeClaims()
                .inNamespace(namespace)
                .withName(name)
                .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
    }

    @Override
    public void claimEvent(Claim claim, boolean warning, String reason, String message) {
        String now = java.time.format.DateTimeFormatter.ISO_INSTANT.format(
                java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        try {
            client.v1()
                    .events()
                    .inNamespace(claim.namespace())
                    .resource(new io.fabric8.kubernetes.api.model.EventBuilder()
                            .withNewMetadata()
                            .withGenerateName(claim.name() + ".")
                            .withNamespace(claim.namespace())
                            .endMetadata()
                            .withNewInvolvedObject()
                            .withApiVersion("v1")
                            .withKind("PersistentVolumeClaim")
                            .withNamespace(claim.namespace())
                            .withName(claim.name())
                            .withUid(claim.uid())
                            .endInvolvedObject()
                            .withType(warning ? "Warning" : "Normal")
                            .withReason(reason)
                            .withMessage(message.length() > 1000 ? message.substring(0, 1000) : message)
                            .withNewSource()
                            .withComponent(Provisioner.NAME)
                            .endSource()
                            .withFirstTimestamp(now)
                            .withLastTimestamp(now)
                            .withCount(1)
                            .build())
                    .create();
        } catch (KubernetesClientException e) {
            org.slf4j.LoggerFactory.getLogger(Fabric8Cluster.class)
                    .warn(
                            "could not record the event {} on claim {}/{}: {}",
                            reason,
                            claim.namespace(),
                            claim.name(),
                            e.getMessage());
        }
    }

    @Override
    public AutoCloseable watch(Runnable changed) {
        Watch claims = client.persistentVolumeClaims().inAnyNamespace().watch(new Poke<>(changed));
        Watch volumes = client.persistentVolumes().watch(new Poke<>(changed));
        return () -> {
            claims.close();
            volumes.close();
        };
    }

    /**
     * Runs {@code lead} on a thread of its own while this replica holds the Lease {@code namespace/name}
     * (coordination.k8s.io), as {@code identity}. When the Lease is lost, or this thread is interrupted (the Lease is
     * then given up), {@code lost} runs, which must make {@code lead} return; this returns after {@code lead} did (or
     * after 30 seconds).
     *
     * <p>fabric8 calls its callbacks inside its renewal, holding the elector's lock: a callback that blocked there
     * would stop the renewals, let the Lease run out and another replica lead beside this one. So the callbacks here
     * only start and stop the thread.
     */
    public void whileLeader(String namespace, String name, String identity, Runnable lead, Runnable lost) {
        java.util.concurrent.atomic.AtomicReference<Thread> leading =
                new java.util.concurrent.atomic.AtomicReference<>();
        Runnable start = () -> {
            // A new term after a lost one gets a new thread; the old one has been told to stop by then.
            Thread before = leading.get();
            if (before == null || !before.isAlive()) {
                Thread t = new Thread(lead, "corezfs-provisioner-leader");
                t.setDaemon(true);
                leading.set(t);
                t.start();
            }
        };
        Runnable stop = () -> {
            Thread t = leading.get();
            if (t != null) {
                lost.run();
            }
        };
        try {
            client.leaderElector()
                    .withConfig(new LeaderElectionConfigBuilder()
                            .withName("corezfs-provisioner")
                            .withLock(new LeaseLock(namespace, name, identity))
                            .withLeaseDuration(Duration.ofSeconds(15))
                            .withRenewDeadline(Duration.ofSeconds(10))
                            .withRetryPeriod(Duration.ofSeconds(2))
                            .withReleaseOnCancel(true)
                            .withLeaderCallbacks(new LeaderCallbacks(start, stop, leader -> {}))
                            .build())
                    .build()
                    .run();
        } finally {
            Thread t = leading.get();
            if (t != null) {
                lost.run();
                try {
                    t.join(30_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private record Poke<T>(Runnable changed) implements Watcher<T> {
        @Override
        public void eventReceived(Action action, T resource) {
            changed.run();
        }

        @Override
        public void onClose(WatcherException cause) {
            // fabric8 reconnects a watch itself and calls this only when it gives up; the periodic passes go on.
            changed.run();
        }
    }
}
