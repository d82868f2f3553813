package io.corezfs.provisioner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Two replicas and one Lease (fabric8's API server mock in CRUD mode): only one leads at a time; when the leader
 * stops, it gives the Lease up and the other takes over.
 */
class LeaseTest {
    @Test
    void oneReplicaLeadsAtATimeAndTheOtherTakesOverWhenItStops() throws Exception {
        KubernetesMockServer server = new KubernetesMockServer(
                new io.fabric8.mockwebserver.Context(),
                new MockWebServer(),
                new HashMap<>(),
                new KubernetesCrudDispatcher(),
                false);
        server.init(InetAddress.getLoopbackAddress(), 0);
        AtomicInteger leading = new AtomicInteger();
        List<String> log = new CopyOnWriteArrayList<>();
        CountDownLatch firstLeads = new CountDownLatch(1);
        CountDownLatch secondLeads = new CountDownLatch(1);
        try (KubernetesClient a = server.createClient();
                KubernetesClient b = server.createClient()) {
            Thread ta = replica(new Fabric8Cluster(a), "a", leading, log, firstLeads);
            ta.start();
            assertTrue(firstLeads.await(30, TimeUnit.SECONDS), log::toString);
            Thread tb = replica(new Fabric8Cluster(b), "b", leading, log, secondLeads);
            tb.start();
            assertTrue(!secondLeads.await(5, TimeUnit.SECONDS), "b led while a held the Lease: " + log);

            ta.interrupt();
            ta.join(30_000);
            assertTrue(secondLeads.await(40, TimeUnit.SECONDS), log::toString);
            tb.interrupt();
            tb.join(30_000);
        } finally {
            server.destroy();
        }
        assertEquals("a leads", log.get(0), log::toString);
        assertTrue(log.indexOf("a stops") < log.indexOf("b leads"), log::toString);
        assertTrue(log.stream().noneMatch(s -> s.equals("overlap")), log::toString);
    }

    /** A replica whose leading lasts until it is told to stop, as the controller's does. */
    private static Thread replica(
            Fabric8Cluster cluster, String id, AtomicInteger leading, List<String> log, CountDownLatch leads) {
        CountDownLatch stopped = new CountDownLatch(1);
        return new Thread(() -> cluster.whileLeader(
                "default",
                "corezfs-provisioner",
                id,
                () -> {
                    if (leading.incrementAndGet() > 1) {
                        log.add("overlap");
                    }
                    log.add(id + " leads");
                    leads.countDown();
                    try {
                        stopped.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    log.add(id + " stops");
                    leading.decrementAndGet();
                },
                stopped::countDown));
    }
}
