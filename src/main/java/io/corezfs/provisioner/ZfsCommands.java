package io.corezfs.provisioner;

import io.corezfs.fleet.Ssh;
import io.corezfs.system.LiveSystem;
import io.corezfs.system.ProcessRunner;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The provisioner's seam to ZFS: the four things it does to datasets, wherever {@code zfs} runs. {@link #local} runs
 * it on this machine, {@link #overSsh} on the ZFS node through the fleet's SSH seam (strict host keys), as
 * {@code sudo -n zfs ...}. Names and values reach here already checked by {@code ZfsValues}; they travel as argv
 * words, never through a shell of this machine, and over SSH each is quoted for the node's shell.
 *
 * <p>A failed command is a {@link io.corezfs.CorezfsException} naming the command and zfs's last line; a dataset that
 * does not exist is not a failure of {@link #get}.
 */
public interface ZfsCommands {
    /**
     * Creates {@code dataset} with {@code properties} set by the create itself ({@code zfs create -o k=v ...}), so the
     * dataset never exists without them. Its parent must exist. Fails if the dataset exists.
     */
    void create(String dataset, Map<String, String> properties);

    /**
     * The values of {@code properties} on {@code dataset} ({@code zfs get -H -p}: sizes in bytes, {@code -} for a user
     * property that is not set), or empty when the dataset does not exist.
     */
    Optional<Map<String, String>> get(String dataset, List<String> properties);

    /** Whether {@code dataset} exists. */
    default boolean exists(String dataset) {
        return get(dataset, List.of("type")).isPresent();
    }

    /** Destroys {@code dataset} alone: no {@code -r}, so one with snapshots or children is refused by zfs. */
    void destroy(String dataset);

    /** {@code zfs} on this machine. */
    static ZfsCommands local(ProcessRunner runner) {
        return new CommandZfs(runner::run, List.of("zfs"), "");
    }

    /** {@code zfs} on the running host, its stdout kept apart from stderr. */
    static ZfsCommands local(LiveSystem system) {
        return new CommandZfs(system::runSeparately, List.of("zfs"), "");
    }

    /**
     * {@code sudo -n zfs} on a node, over one session from {@code connect}, kept between commands (each pass runs
     * several, and a connection costs a key exchange and a login). A session that failed or let a command overrun
     * is closed, and the next command connects again.
     */
    static ZfsCommands overSsh(Supplier<Ssh.Session> connect, String node) {
        return new CommandZfs(new KeptSession(connect)::run, List.of("sudo", "-n", "zfs"), " on " + node);
    }
}
