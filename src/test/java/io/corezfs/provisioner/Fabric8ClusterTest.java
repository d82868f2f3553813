package io.corezfs.provisioner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.testing.FakeZfsHost;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fabric8 side of the cluster seam against fabric8's API server mock in CRUD mode (objects stored and served as
 * posted; no controllers run, so the test plays the PV controller's part): the claim and class read back as the
 * controller needs them, the PV it writes is bound to the claim with hostPath and node affinity, and a Released PV
 * with Delete is deleted.
 */
class Fabric8ClusterTest {

    @TempDir
    Path tmp;

    KubernetesMockServer server;
    KubernetesClient client;
    FakeZfsHost zfs;

    @BeforeEach
    void start() throws IOException {
        server = new KubernetesMockServer(
                new io.fabric8.mockwebserver.Context(),
                new io.fabric8.mockwebserver.MockWebServer(),
                new java.util.HashMap<>(),
                new io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher(),
                false);
        server.init(java.net.InetAddress.getLoopbackAddress(), 0);
        client = server.createClient();
        zfs = new FakeZfsHost(Files.createDirectories(tmp.resolve("root"))).dataset("tank/kube", "/tank/kube");
    }

    @AfterEach
    void stop() {
        client.close();
        server.destroy();
    }

    @Test
    void aClaimOfTheClassBecomesABoundHostPathVolumeAndDeleteRemovesIt() {
        client.storage()
                .v1()
                .storageClasses()
                .resource(new StorageClassBuilder()
                        .withNewMetadata()
                        .withName("zfs")
                        .endMetadata()
                        .withProvisioner(Provisioner.NAME)
                        .withReclaimPolicy("Delete")
                        .withParameters(Map.of("compression", "lz4"))
                        .build())
                .create();
        PersistentVolumeClaim pvc = new PersistentVolumeClaimBuilder()
                .withNewMetadata()
                .withNamespace("apps")
                .withName("data")
                .endMetadata()
                .withNewSpec()
                .withStorageClassName("zfs")
                .withAccessModes("ReadWriteOnce")
                .withNewResources()
                .withRequests(Map.of("storage", new Quantity("100Mi")))
                .endResources()
                .endSpec()
                .withNewStatus()
                .withPhase("Pending")
                .endStatus()
                .build();
        // The server assigns the uid, as a real one does.
        String UID = client.persistentVolumeClaims()
                .inNamespace("apps")
                .resource(pvc)
                .create()
                .getMetadata()
                .getUid();

        Fabric8Cluster cluster = new Fabric8Cluster(client);
        Cluster.Claim claim = cluster.claims().get(0);
        assertEquals(
                new Cluster.Claim(
                        "apps",
                        "data",
                        UID,
                        Optional.of("zfs"),
                        "Pending",
                        Optional.of("100Mi"),
                        List.of("ReadWriteOnce"),
                        Optional.empty()),
                claim);

        Metrics metrics = new Metrics();
        Provisioner p = new Provisioner(
                cluster,
                ZfsCommands.local(zfs),
                new Provisioner.Settings("tank/kube", "node-1", Optional.empty()),
                metrics);
        p.resync();

        PersistentVolume pv = client.persistentVolumes().withName("pvc-" + UID).get();
        assertEquals("100Mi", pv.getSpec().getCapacity().get("storage").toString());
        assertEquals("/tank/kube/pvc-" + UID, pv.getSpec().getHostPath().getPath());
        assertEquals(UID, pv.getSpec().getClaimRef().getUid());
        assertEquals("data", pv.getSpec().getClaimRef().getName());
        assertEquals("Delete", pv.getSpec().getPersistentVolumeReclaimPolicy());
        var term = pv.getSpec()
                .getNodeAffinity()
                .getRequired()
                .getNodeSelectorTerms()
                .get(0);
        assertEquals("kubernetes.io/hostname", term.getMatchExpressions().get(0).getKey());
        assertEquals(List.of("node-1"), term.getMatchExpressions().get(0).getValues());
        assertEquals(Provisioner.NAME, pv.getMetadata().getAnnotations().get(Provisioner.PROVISIONED_BY));
        assertEquals(
                "tank/kube/pvc-" + UID,
                client.persistentVolumeClaims()
                        .inNamespace("apps")
                        .withName("data")
                        .get()
                        .getMetadata()
                        .getAnnotations()
                        .get(Provisioner.DATASET_ANNOTATION));
        assertEquals("lz4", zfs.properties("tank/kube/pvc-" + UID).get("compression"));
        var events = client.v1().events().inNamespace("apps").list().getItems();
        assertEquals(1, events.size(), events::toString);
        assertEquals("ProvisioningSucceeded", events.get(0).getReason());
        assertEquals(UID, events.get(0).getInvolvedObject().getUid());

        // A second create of the same PV is "exists", not an error.
        assertFalse(cluster.createVolume(new Cluster.VolumeSpec(
                "pvc-" + UID,
                "1Gi",
                List.of("ReadWriteOnce"),
                "Delete",
                "zfs",
                "apps",
                "data",
                UID,
                Map.of(),
                new Cluster.HostPath("/x", "node-1"))));

        // The claim is deleted; the PV controller marks the PV Released.
        pv.setStatus(new io.fabric8.kubernetes.api.model.PersistentVolumeStatusBuilder()
                .withPhase("Released")
                .build());
        client.persistentVolumes().resource(pv).updateStatus();
        assertEquals("Released", cluster.volume("pvc-" + UID).get().phase());

        p.resync();
        assertNull(client.persistentVolumes().withName("pvc-" + UID).get());
        assertFalse(zfs.exists("tank/kube/pvc-" + UID));
        assertTrue(metrics.render().contains("corezfs_provisioner_volumes_total{outcome=\"deleted\"} 1\n"));
    }
}
