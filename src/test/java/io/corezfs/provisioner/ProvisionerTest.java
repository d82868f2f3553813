package io.corezfs.provisioner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.provisioner.Provisioner.Outcome;
import io.corezfs.testing.FakeZfsHost;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The controller of {@code corezfs.io/zfs} against a cluster and a node's zfs on paper: a pending claim of its class
 * becomes a dataset {@code PARENT/pvc-<uid>} sized by the request and a PV bound to the claim; a Released PV with
 * Delete loses its dataset only if the dataset says it is that claim's and Delete. Hostile class parameters and
 * foreign datasets are refused before zfs creates anything.
 */
class ProvisionerTest {
    static final String UID = "5b0c1a2e-3d4f-4a5b-8c6d-7e8f9a0b1c2d";
    static final String OTHER_UID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
    static final String DATASET = "tank/kube/pvc-" + UID;

    @TempDir
    Path tmp;

    FakeZfsHost zfs;
    FakeCluster cluster;
    Metrics metrics;
    Provisioner provisioner;

    @BeforeEach
    void node() throws IOException {
        zfs = new FakeZfsHost(Files.createDirectories(tmp.resolve("root"))).dataset("tank/kube", "/tank/kube");
        cluster = new FakeCluster();
        metrics = new Metrics();
        provisioner = provisioner(Optional.empty());
    }

    Provisioner provisioner(Optional<String> nfsServer) {
        return new Provisioner(
                cluster, ZfsCommands.local(zfs), new Provisioner.Settings("tank/kube", "node-1", nfsServer), metrics);
    }

    Outcome provision(Map<String, String> parameters, String reclaim, String request) {
        cluster.storageClass("zfs", Provisioner.NAME, parameters, reclaim).claim("apps", "data", UID, "zfs", request);
        return provisioner.provision(cluster.claims.get("apps/data"));
    }

    List<List<String>> creates() {
        return zfs.calls().stream().filter(c -> c.get(1).equals("create")).toList();
    }

    @Test
    void aPendingClaimGetsItsDatasetSizedByTheRequestAndABoundHostPathVolume() {
        assertEquals(Outcome.PROVISIONED, provision(Map.of("compression", "lz4", "recordsize", "16K"), null, "100Mi"));

        Map<String, String> p = zfs.properties(DATASET);
        assertEquals("104857600", p.get("refquota"));
        assertEquals("104857600", p.get("refreservation"));
        assertEquals("lz4", p.get("compression"));
        assertEquals("16K", p.get("recordsize"));
        assertEquals(UID, p.get(Provisioner.CLAIM_PROPERTY));
        assertEquals("Delete", p.get(Provisioner.RECLAIM_PROPERTY), "the API's default policy is recorded");
        assertEquals("apps/data", p.get(Provisioner.PVC_PROPERTY));

        Cluster.VolumeSpec pv = cluster.created.get("pvc-" + UID);
        assertEquals("100Mi", pv.capacity());
        assertEquals("Delete", pv.reclaimPolicy());
        assertEquals("zfs", pv.storageClass());
        assertEquals(List.of("apps", "data", UID), List.of(pv.claimNamespace(), pv.claimName(), pv.claimUid()));
        assertEquals(new Cluster.HostPath("/tank/kube/pvc-" + UID, "node-1"), pv.source());
        assertEquals(Provisioner.NAME, pv.annotations().get(Provisioner.PROVISIONED_BY));
        assertEquals(DATASET, cluster.claimAnnotations.get("apps/data").get(Provisioner.DATASET_ANNOTATION));
        assertTrue(
                metrics.render().contains("corezfs_provisioner_claims_total{outcome=\"provisioned\"} 1\n"),
                metrics::render);
    }

    @Test
    void aThinClassSetsTheQuotaButReservesNothing() {
        assertEquals(Outcome.PROVISIONED, provision(Map.of("reserveSpace", "false"), "Retain", "1Gi"));

        Map<String, String> p = zfs.properties(DATASET);
        assertEquals("1073741824", p.get("refquota"));
        assertFalse(p.containsKey("refreservation"), p::toString);
        assertEquals("Retain", p.get(Provisioner.RECLAIM_PROPERTY));
    }

    @Test
    void aClassWithSharenfsGetsAnNfsVolumeFromTheConfiguredServer() {
        provisioner = provisioner(Optional.of("zfs-1.example"));
        assertEquals(Outcome.PROVISIONED, provision(Map.of("sharenfs", "rw=@10.0.0.0/8"), null, "10Gi"));

        assertEquals("rw=@10.0.0.0/8", zfs.properties(DATASET).get("sharenfs"));
        assertEquals(
                new Cluster.Nfs("zfs-1.example", "/tank/kube/pvc-" + UID),
                cluster.created.get("pvc-" + UID).source());
    }

    @Test
    void aRetryAfterAHalfFailureReusesTheDatasetItMadeAndMakesTheMissingVolume() {
        // First pass: the dataset is made, then the API server refuses the PV: the half state a crash also leaves.
        cluster.failCreate = true;
        assertEquals(Outcome.FAILED, provision(Map.of(), "Delete", "100Mi"));
        assertTrue(zfs.exists(DATASET));
        assertTrue(cluster.volumes.isEmpty());
        assertEquals(1, creates().size());

        cluster.failCreate = false;
        provisioner.resync();
        assertEquals(1, creates().size(), "the dataset is reused, not created again");
        assertEquals(
                new Cluster.HostPath("/tank/kube/pvc-" + UID, "node-1"),
                cluster.created.get("pvc-" + UID).source());

        // A further look finds the PV and changes nothing.
        assertEquals(Outcome.EXISTS, provisioner.provision(cluster.claims.get("apps/data")));
        assertEquals(1, creates().size());
    }

    @Test
    void aDatasetOfAnotherClaimOrOfNobodyIsRefusedAndLeftAlone() {
        zfs.dataset(DATASET, "/tank/kube/pvc-" + UID).property(DATASET, Provisioner.CLAIM_PROPERTY, OTHER_UID);
        assertEquals(Outcome.REFUSED, provision(Map.of(), null, "100Mi"));
        assertTrue(cluster.created.isEmpty());
        assertEquals(OTHER_UID, zfs.properties(DATASET).get(Provisioner.CLAIM_PROPERTY));

        zfs.property(DATASET, Provisioner.CLAIM_PROPERTY, "-");
        assertEquals(Outcome.REFUSED, provisioner.provision(cluster.claims.get("apps/data")));
        assertTrue(cluster.created.isEmpty());
        assertTrue(creates().isEmpty());
    }

    @Test
    void deleteOfAReleasedVolumeDestroysItsDatasetAndThenTheVolume() {
        provision(Map.of(), "Delete", "100Mi");
        assertEquals(Outcome.IGNORED, provisioner.reclaim(cluster.volumes.get("pvc-" + UID)), "bound: kept");
        cluster.release("pvc-" + UID);

        provisioner.resync();

        assertFalse(zfs.exists(DATASET));
        assertEquals(List.of("pvc-" + UID), cluster.deleted);
        assertTrue(zfs.exists("tank/kube"), "only the volume's own dataset");
    }

    @Test
    void retainKeepsTheDatasetAndTheVolume() {
        provision(Map.of(), "Retain", "100Mi");
        cluster.release("pvc-" + UID);

        assertEquals(Outcome.RETAINED, provisioner.reclaim(cluster.volumes.get("pvc-" + UID)));
        assertTrue(zfs.exists(DATASET));
        assertTrue(cluster.deleted.isEmpty());
    }

    @Test
    void aVolumeSwitchedToDeleteIsNotDestroyedWhileItsDatasetSaysRetain() {
        provision(Map.of(), "Retain", "100Mi");
        Cluster.Volume v = cluster.volumes.get("pvc-" + UID);
        cluster.volumes.put(
                v.name(), new Cluster.Volume(v.name(), "Released", "Delete", v.annotations(), v.claimUid()));

        assertEquals(Outcome.REFUSED, provisioner.reclaim(cluster.volumes.get("pvc-" + UID)));
        assertTrue(zfs.exists(DATASET));

        zfs.property(DATASET, Provisioner.RECLAIM_PROPERTY, "Delete");
        assertEquals(Outcome.DELETED, provisioner.reclaim(cluster.volumes.get("pvc-" + UID)));
        assertFalse(zfs.exists(DATASET));
    }

    @Test
    void aReleasedVolumeWhoseDatasetCarriesAnotherClaimIsKept() {
        provision(Map.of(), "Delete", "100Mi");
        cluster.release("pvc-" + UID);
        zfs.property(DATASET, Provisioner.CLAIM_PROPERTY, OTHER_UID);

        assertEquals(Outcome.REFUSED, provisioner.reclaim(cluster.volumes.get("pvc-" + UID)));
        assertTrue(zfs.exists(DATASET));
        assertTrue(cluster.deleted.isEmpty());
    }

    @Test
    void aForeignReleasedVolumeOrOneWhoseAnnotationPointsElsewhereIsNeverTouched() {
        cluster.volumes.put("pvc-x", new Cluster.Volume("pvc-x", "Released", "Delete", Map.of(), Optional.of(UID)));
        assertEquals(Outcome.IGNORED, provisioner.reclaim(cluster.volumes.get("pvc-x")));

        zfs.dataset("tank/other", "/tank/other");
        Map<String, String> ann = new HashMap<>();
        ann.put(Provisioner.PROVISIONED_BY, Provisioner.NAME);
        ann.put(Provisioner.DATASET_ANNOTATION, "tank/other");
        cluster.volumes.put(
                "pvc-" + UID, new Cluster.Volume("pvc-" + UID, "Released", "Delete", ann, Optional.of(UID)));
        assertEquals(Outcome.REFUSED, provisioner.reclaim(cluster.volumes.get("pvc-" + UID)));
        assertTrue(zfs.exists("tank/other"));
        assertTrue(zfs.calls().stream().noneMatch(c -> c.get(1).equals("destroy")));
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "compression|lz4 -o mountpoint=/",
                "compression|lz4,mountpoint=/etc",
                "recordsize|3K",
                "recordsize|128K -o canmount=on",
                "recordsize|32M",
                "reserveSpace|no",
                "sharenfs|rw;reboot",
                "sharenfs|-o mountpoint=/",
                "sharenfs|off",
                "mountpoint|/etc",
                "refquota|1",
            })
    void hostileClassParametersAreRefusedBeforeZfsCreatesAnything(String key, String value) {
        provisioner = provisioner(Optional.of("zfs-1.example"));
        assertEquals(Outcome.REFUSED, provision(Map.of(key, value), null, "100Mi"));
        assertTrue(creates().isEmpty(), () -> zfs.calls().toString());
        assertTrue(cluster.created.isEmpty());
    }

    @ParameterizedTest
    @CsvSource({"0", "1.5Gi", "1e9", "100m", "-1Gi", "16Ei", "100 Mi", "''"})
    void aRequestThatIsNotAPlainSizeIsRefused(String request) {
        assertEquals(Outcome.REFUSED, provision(Map.of(), null, request));
        assertTrue(creates().isEmpty());
    }

    @Test
    void aClaimWhoseUidIsNotAUuidOrWhosePolicyIsRecycleIsRefused() {
        cluster.storageClass("zfs", Provisioner.NAME, Map.of(), null).claim("apps", "data", "../../etc", "zfs", "1Gi");
        assertEquals(Outcome.REFUSED, provisioner.provision(cluster.claims.get("apps/data")));
        cluster.storageClass("zfs", Provisioner.NAME, Map.of(), "Recycle");
        assertEquals(Outcome.REFUSED, provision(Map.of(), "Recycle", "1Gi"));
        assertTrue(creates().isEmpty());
    }

    @Test
    void aClaimOfAnotherProvisionerOrOfNoClassIsIgnoredWithoutAnyZfsCall() {
        cluster.storageClass("local", "kubernetes.io/no-provisioner", Map.of(), null)
                .claim("apps", "other", UID, "local", "1Gi")
                .claim("apps", "ghost", OTHER_UID, "missing", "1Gi");
        provisioner.resync();
        assertTrue(zfs.calls().isEmpty(), () -> zfs.calls().toString());
        assertTrue(cluster.created.isEmpty());
    }

    @Test
    void aWaitForFirstConsumerClaimWaitsUntilTheSchedulerPutsItsPodOnThisNode() {
        cluster.classes.put(
                "late", new Cluster.StorageClass("late", Provisioner.NAME, Map.of(), Optional.empty(), true));
        Cluster.Claim waiting = new Cluster.Claim(
                "apps", "data", UID, Optional.of("late"), "Pending", Optional.of("1Gi"), List.of(), Optional.empty());
        assertEquals(Outcome.IGNORED, provisioner.provision(waiting));
        Cluster.Claim elsewhere = new Cluster.Claim(
                "apps",
                "data",
                UID,
                Optional.of("late"),
                "Pending",
                Optional.of("1Gi"),
                List.of(),
                Optional.empty(),
                Optional.empty(),
                Optional.of("node-2"));
        assertEquals(Outcome.IGNORED, provisioner.provision(elsewhere));
        assertTrue(zfs.calls().isEmpty());
        Cluster.Claim here = new Cluster.Claim(
                "apps",
                "data",
                UID,
                Optional.of("late"),
                "Pending",
                Optional.of("1Gi"),
                List.of(),
                Optional.empty(),
                Optional.empty(),
                Optional.of("node-1"));
        assertEquals(Outcome.PROVISIONED, provisioner.provision(here));
    }

    @ParameterizedTest
    @CsvSource({
        "a selector (labels of an existing volume)",
        "volumeMode Block",
        "a dataSource (a clone or a snapshot's copy)"
    })
    void aClaimThatAsksForWhatADatasetCannotGiveIsRefused(String what) {
        cluster.storageClass("zfs", Provisioner.NAME, Map.of(), null);
        Cluster.Claim asking = new Cluster.Claim(
                "apps",
                "data",
                UID,
                Optional.of("zfs"),
                "Pending",
                Optional.of("1Gi"),
                List.of(),
                Optional.empty(),
                Optional.of(what),
                Optional.empty());
        assertEquals(Outcome.REFUSED, provisioner.provision(asking));
        assertTrue(
                cluster.events.get(0).endsWith("it asks for " + what + ", which corezfs.io/zfs does not give"),
                cluster.events::toString);
        assertTrue(zfs.calls().isEmpty());
    }

    @Test
    void aRefusalIsToldOnTheClaimOncePerReason() {
        provision(Map.of("compression", "lz5"), null, "1Gi");
        provisioner.resync();
        provisioner.resync();
        assertEquals(1, cluster.events.size(), cluster.events::toString);
        assertTrue(
                cluster.events
                        .get(0)
                        .startsWith("Warning ProvisioningFailed apps/data: StorageClass zfs:"
                                + " parameter compression must be"),
                cluster.events::toString);

        cluster.storageClass("zfs", Provisioner.NAME, Map.of("compression", "lz4"), null);
        provisioner.resync();
        assertEquals(2, cluster.events.size(), cluster.events::toString);
        assertTrue(
                cluster.events.get(1).startsWith("Normal ProvisioningSucceeded apps/data: created " + DATASET),
                cluster.events::toString);
    }

    @Test
    void aBoundClaimIsLeftAlone() {
        cluster.storageClass("zfs", Provisioner.NAME, Map.of(), null);
        Cluster.Claim bound = new Cluster.Claim(
                "apps", "data", UID, Optional.of("zfs"), "Bound", Optional.of("1Gi"), List.of(), Optional.of("pv-1"));
        assertEquals(Outcome.IGNORED, provisioner.provision(bound));
        assertTrue(zfs.calls().isEmpty());
    }

    @Test
    void aZfsFailureIsCountedAndTheNextPassTriesAgain() {
        zfs.failing("zfs create", "cannot create '" + DATASET + "': out of space\n");
        assertEquals(Outcome.FAILED, provision(Map.of(), null, "100Mi"));
        assertTrue(metrics.render().contains("corezfs_provisioner_claims_total{outcome=\"failed\"} 1\n"));
    }
}
