package io.corezfs.provisioner;

import io.corezfs.CorezfsException;
import io.corezfs.Text;
import io.corezfs.flexvolume.ZfsValues;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller of {@code corezfs.io/zfs}: a pending claim of one of its StorageClasses gets a dataset
 * {@code PARENT/pvc-<claim uid>} and a PV of the same name bound to it; a Released PV of policy Delete loses its
 * dataset, and then itself. It is level-driven: each pass looks at everything again, so a pass cut short (a crash
 * between the dataset and the PV, a lost leader) is finished by the next one.
 *
 * <p>Who owns a dataset is written on it at its creation, in ZFS user properties: the claim's uid and the reclaim
 * policy. A dataset is reused only for the claim whose uid it carries and destroyed only when it carries that uid and
 * Delete; anything else under the parent is never touched.
 */
public final class Provisioner {
    public static final String NAME = "corezfs.io/zfs";

    /** The claim's uid, set when the dataset is created. */
    public static final String CLAIM_PROPERTY = "io.corezfs:claim";
    /** Delete or Retain, from the StorageClass, set when the dataset is created. */
    public static final String RECLAIM_PROPERTY = "io.corezfs:reclaim";
    /** namespace/name of the claim, for people reading {@code zfs get}. */
    public static final String PVC_PROPERTY = "io.corezfs:pvc";

    public static final String PROVISIONED_BY = "pv.kubernetes.io/provisioned-by";
    public static final String DATASET_ANNOTATION = "corezfs.io/dataset";

    private static final Pattern UID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final Logger LOG = LoggerFactory.getLogger(Provisioner.class);

    /** What one look at a claim or volume came to; the metrics count these. */
    public enum Outcome {
        /** Not ours, or nothing to do. */
        IGNORED,
        /** Dataset and PV made (or the dataset of an earlier, cut-short pass reused, and the PV made). */
        PROVISIONED,
        /** The PV exists already. */
        EXISTS,
        /** Invalid input or a dataset that is not this claim's: left alone, said in the log. */
        REFUSED,
        /** zfs or the API failed; the next pass tries again. */
        FAILED,
        /** Released with Delete: dataset destroyed, PV deleted. */
        DELETED,
        /** Released with Retain: dataset and PV kept. */
        RETAINED;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * @param parent    the dataset under which volumes are made, {@code POOL/NAME}
     * @param node      the Kubernetes node name that has the pool: hostPath PVs get affinity to it
     * @param nfsServer the address NFS clients mount from, for classes with {@code sharenfs}
     */
    public record Settings(String parent, String node, Optional<String> nfsServer) {
        public Settings {
            ZfsValues.dataset(parent, "--parent");
        }
    }

    private final Cluster cluster;
    private final ZfsCommands zfs;
    private final Settings settings;
    private final Metrics metrics;
    /** The last reason each claim (by uid) was refused for. Claims come and go; a uid is 36 characters. */
    private final Map<String, String> lastRefusal = new java.util.concurrent.ConcurrentHashMap<>();

    public Provisioner(Cluster cluster, ZfsCommands zfs, Settings settings, Metrics metrics) {
        this.cluster = cluster;
        this.zfs = zfs;
        this.settings = settings;
        this.metrics = metrics;
    }

    /** One pass: every claim, then every volume. A failure on one never stops the others. */
    public void resync() {
        metrics.resync();
        for (Cluster.Claim c : cluster.claims()) {
            provision(c);
        }
        for (Cluster.Volume v : cluster.volumes()) {
            reclaim(v);
        }
    }

    public Outcome provision(Cluster.Claim claim) {
        if (claim.volumeName().isPresent()
                || !claim.phase().equals("Pending")
                || claim.storageClass().isEmpty()) {
            return Outcome.IGNORED;
        }
        Optional<Cluster.StorageClass> sc;
        try {
            sc = cluster.storageClass(claim.storageClass().get());
        } catch (RuntimeException e) {
            return count(failed(claim, e));
        }
        if (sc.isEmpty() || !sc.get().provisioner().equals(NAME)) {
            return Outcome.IGNORED;
        }
        // Binding waits for a pod: only once the scheduler has put it on this provisioner's node (the only one
        // whose pool the volume can be on) is there a volume to make.
        if (sc.get().waitForFirstConsumer()
                && !claim.selectedNode().map(settings.node()::equals).orElse(false)) {
            return Outcome.IGNORED;
        }
        try {
            return count(provision(claim, sc.get()));
        } catch (CorezfsException e) {
            return count(e.exitCode() == io.corezfs.ExitCode.USAGE ? refused(claim, e.getMessage()) : failed(claim, e));
        } catch (RuntimeException e) {
            return count(failed(claim, e));
        }
    }

    private Outcome provision(Cluster.Claim claim, Cluster.StorageClass sc) {
        if (claim.unsupported().isPresent()) {
            return refused(claim, "it asks for " + claim.unsupported().get() + ", which corezfs.io/zfs does not give");
        }
        if (!UID.matcher(claim.uid()).matches()) {
            return refused(claim, "its uid is not a UUID: '" + Text.printable(claim.uid(), 60) + "'");
        }
        ClassParameters p;
        BigInteger size;
        try {
            p = ClassParameters.parse(sc.parameters());
            size = Quantity.bytes(claim.request().orElse(""));
        } catch (CorezfsException e) {
            return refused(claim, "StorageClass " + sc.name() + ": " + e.getMessage());
        }
        String policy = sc.reclaimPolicy().orElse("Delete");
        if (!policy.equals("Delete") && !policy.equals("Retain")) {
            return refused(
                    claim,
                    "StorageClass " + sc.name() + " has reclaimPolicy " + Text.printable(policy, 40)
                            + "; corezfs.io/zfs supports Delete and Retain");
        }
        if (p.sharenfs().isPresent() && settings.nfsServer().isEmpty()) {
            return refused(
                    claim,
                    "StorageClass " + sc.name() + " asks for NFS, and this provisioner has no" + " --nfs-server");
        }
        String pv = "pvc-" + claim.uid();
        if (cluster.volume(pv).isPresent()) {
            return Outcome.EXISTS;
        }
        String dataset = settings.parent() + "/" + pv;
        List<String> asked = List.of(CLAIM_PROPERTY, "mountpoint");
        Optional<Map<String, String>> found = zfs.get(dataset, asked);
        if (found.isPresent()) {
            String owner = found.get().get(CLAIM_PROPERTY);
            if (!owner.equals(claim.uid())) {
                return refused(
                        claim,
                        dataset + " exists and is not this claim's (" + CLAIM_PROPERTY + "=" + Text.printable(owner, 60)
                                + "); it is left alone");
            }
            LOG.info("{}: reusing {}, made for this claim by an earlier pass", ref(claim), dataset);
        } else {
            Map<String, String> props = new LinkedHashMap<>();
            props.put("refquota", size.toString());
            if (p.reserveSpace()) {
                props.put("refreservation", size.toString());
            }
            p.compression().ifPresent(v -> props.put("compression", v));
            p.recordsize().ifPresent(v -> props.put("recordsize", v));
            p.sharenfs().ifPresent(v -> props.put("sharenfs", v));
            props.put(CLAIM_PROPERTY, claim.uid());
            props.put(RECLAIM_PROPERTY, policy);
            props.put(PVC_PROPERTY, claim.namespace() + "/" + claim.name());
            zfs.create(dataset, props);
            found = zfs.get(dataset, asked);
            if (found.isEmpty()) {
                throw new IllegalStateException(dataset + " is gone right after its creation");
            }
        }
        String mountpoint = found.get().get("mountpoint");
        if (!mountpoint.startsWith("/")) {
            return refused(
                    claim,
                    dataset + " has no mount point (mountpoint=" + Text.printable(mountpoint, 60)
                            + "); give the parent " + settings.parent() + " one");
        }
        Cluster.Source source = p.sharenfs().isPresent()
                ? new Cluster.Nfs(settings.nfsServer().get(), mountpoint)
                : new Cluster.HostPath(mountpoint, settings.node());
        Cluster.VolumeSpec spec = new Cluster.VolumeSpec(
                pv,
                claim.request().get(),
                claim.accessModes().isEmpty() ? List.of("ReadWriteOnce") : claim.accessModes(),
                policy,
                sc.name(),
                claim.namespace(),
                claim.name(),
                claim.uid(),
                Map.of(PROVISIONED_BY, NAME, DATASET_ANNOTATION, dataset),
                source);
        if (!cluster.createVolume(spec)) {
            return Outcome.EXISTS;
        }
        cluster.annotateClaim(claim.namespace(), claim.name(), Map.of(DATASET_ANNOTATION, dataset));
        lastRefusal.remove(claim.uid());
        cluster.claimEvent(claim, false, "ProvisioningSucceeded", "created " + dataset + " as volume " + pv);
        LOG.info(
                "{}: provisioned {} ({} bytes{}) as {}",
                ref(claim),
                dataset,
                size,
                p.reserveSpace() ? "" : ", thin",
                pv);
        return Outcome.PROVISIONED;
    }

    public Outcome reclaim(Cluster.Volume v) {
        if (!NAME.equals(v.annotations().get(PROVISIONED_BY)) || !v.phase().equals("Released")) {
            return Outcome.IGNORED;
        }
        try {
            return countVolume(reclaimReleased(v));
        } catch (RuntimeException e) {
            LOG.warn("volume {}: {}; tried again on the next pass", v.name(), e.getMessage());
            return countVolume(Outcome.FAILED);
        }
    }

    private Outcome reclaimReleased(Cluster.Volume v) {
        if (!v.reclaimPolicy().equals("Delete")) {
            return Outcome.RETAINED;
        }
        // The annotation is only a cross-check: the dataset is always the one this provisioner would have named.
        String dataset = settings.parent() + "/" + v.name();
        if (!dataset.equals(v.annotations().get(DATASET_ANNOTATION))
                || v.claimUid().isEmpty()) {
            LOG.warn(
                    "volume {}: its annotation {} or claim does not match {}; nothing is destroyed",
                    v.name(),
                    DATASET_ANNOTATION,
                    dataset);
            return Outcome.REFUSED;
        }
        Optional<Map<String, String>> found = zfs.get(dataset, List.of(CLAIM_PROPERTY, RECLAIM_PROPERTY));
        if (found.isPresent()) {
            String owner = found.get().get(CLAIM_PROPERTY);
            String policy = found.get().get(RECLAIM_PROPERTY);
            if (!owner.equals(v.claimUid().get()) || !policy.equals("Delete")) {
                LOG.warn(
                        "volume {}: {} carries {}={} and {}={}, not this volume's claim and Delete; it is kept"
                                + " (zfs set {}=Delete to let it go)",
                        v.name(),
                        dataset,
                        CLAIM_PROPERTY,
                        Text.printable(owner, 60),
                        RECLAIM_PROPERTY,
                        Text.printable(policy, 20),
                        RECLAIM_PROPERTY);
                return Outcome.REFUSED;
            }
            zfs.destroy(dataset);
            LOG.info("volume {}: destroyed {}", v.name(), dataset);
        }
        cluster.deleteVolume(v.name());
        return Outcome.DELETED;
    }

    private Outcome refused(Cluster.Claim c, String why) {
        // Each pass finds the claim refused again; the log and the claim's events say it once per reason.
        if (!why.equals(lastRefusal.put(c.uid(), why))) {
            LOG.warn("{}: {}", ref(c), why);
            cluster.claimEvent(c, true, "ProvisioningFailed", why);
        }
        return Outcome.REFUSED;
    }

    private Outcome failed(Cluster.Claim c, RuntimeException e) {
        LOG.warn("{}: {}; tried again on the next pass", ref(c), e.getMessage());
        return Outcome.FAILED;
    }

    private Outcome count(Outcome o) {
        metrics.claim(o);
        return o;
    }

    private Outcome countVolume(Outcome o) {
        metrics.volume(o);
        return o;
    }

    private static String ref(Cluster.Claim c) {
        return "claim " + Text.printable(c.namespace(), 64) + "/" + Text.printable(c.name(), 254);
    }
}
