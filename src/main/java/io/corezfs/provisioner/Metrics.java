package io.corezfs.provisioner;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** The controller's counters and gauges, rendered in Prometheus's text exposition format (version 0.0.4). */
public final class Metrics {
    private final Map<String, AtomicLong> claims = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> volumes = new ConcurrentHashMap<>();
    private final AtomicLong resyncs = new AtomicLong();
    private final AtomicLong leader = new AtomicLong();

    void claim(Provisioner.Outcome o) {
        claims.computeIfAbsent(o.label(), k -> new AtomicLong()).incrementAndGet();
    }

    void volume(Provisioner.Outcome o) {
        volumes.computeIfAbsent(o.label(), k -> new AtomicLong()).incrementAndGet();
    }

    void resync() {
        resyncs.incrementAndGet();
    }

    /** Whether this replica holds the lease and acts. */
    public void leader(boolean held) {
        leader.set(held ? 1 : 0);
    }

    public String render() {
        StringBuilder b = new StringBuilder();
        counter(b, "corezfs_provisioner_claims_total", "Claims of corezfs.io/zfs handled, by outcome.", claims);
        counter(b, "corezfs_provisioner_volumes_total", "Released volumes handled, by outcome.", volumes);
        b.append("# HELP corezfs_provisioner_resyncs_total Passes over all claims and volumes.\n")
                .append("# TYPE corezfs_provisioner_resyncs_total counter\n")
                .append("corezfs_provisioner_resyncs_total ")
                .append(resyncs.get())
                .append('\n');
        b.append("# HELP corezfs_provisioner_leader 1 while this replica holds the lease.\n")
                .append("# TYPE corezfs_provisioner_leader gauge\n")
                .append("corezfs_provisioner_leader ")
                .append(leader.get())
                .append('\n');
        return b.toString();
    }

    private static void counter(StringBuilder b, String name, String help, Map<String, AtomicLong> byOutcome) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(" counter\n");
        new TreeMap<>(byOutcome)
                .forEach((k, v) -> b.append(name)
                        .append("{outcome=\"")
                        .append(k)
                        .append("\"} ")
                        .append(v.get())
                        .append('\n'));
    }
}
