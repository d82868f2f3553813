package io.corezfs.update;

import io.corezfs.archive.store.NodeStore;
import io.corezfs.host.HostFacts;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Whether the node may reboot without losing ZFS: the store holds an archive for the OS version it will boot (the
 * pending one, else the running one). Reads files only, because reboot managers ask it every minute.
 */
public final class RebootGate {
    /** @param ready whether the reboot may go ahead; {@code line} says why, or what is missing and what to run */
    public record Verdict(boolean ready, String line) {}

    private final NodeStore store;

    public RebootGate(NodeStore store) {
        this.store = store;
    }

    /**
     * @param pending   the version update_engine will boot, if an update waits for the reboot
     * @param running   the running host
     * @param installed the archive installed in /opt/corezfs when it was built for the running OS version and kernel
     */
    public Verdict check(Optional<String> pending, HostFacts running, Optional<String> installed) {
        if (pending.isPresent()) {
            String v = pending.get();
            return store.findVersion(running.os(), v, running.board())
                    .map(p -> new Verdict(
                            true,
                            "ready: " + p.getFileName() + " for " + running.os() + " " + v + " is in the node store"))
                    .orElseGet(() -> new Verdict(
                            false,
                            "not ready: no archive for " + running.os() + " " + v + " (" + running.board()
                                    + ", the pending update) in " + store.dir() + "; run: corezfs prepare --os-version "
                                    + v));
        }
        Optional<Path> here = store.find(running);
        if (here.isPresent()) {
            return new Verdict(
                    true,
                    "ready: no update pending; " + here.get().getFileName() + " for the running " + running.os() + " "
                            + running.version() + " is in the node store");
        }
        if (installed.isPresent()) {
            return new Verdict(
                    true,
                    "ready: no update pending; the installed " + installed.get() + " matches the" + " running "
                            + running.os() + " " + running.version() + " and kernel " + running.kernel());
        }
        return new Verdict(
                false,
                "not ready: no update pending, and no archive for the running " + running.os() + " "
                        + running.version() + " with kernel " + running.kernel() + " in " + store.dir()
                        + "; run: corezfs prepare --os-version " + running.version());
    }
}
