package io.corezfs.fleet;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One node to reach, as the inventory and {@code ~/.ssh/config} resolved it.
 *
 * @param name       how the operator named it (the inventory's name, or {@code host[:port]}); the key of the report
 *                   and of the state file
 * @param host       the address to connect to
 * @param identities key files to offer, in order; empty: the agent, else the default files
 * @param source     where it was declared ({@code file:line}), for messages
 * @param jump       the host the connection goes through ({@code ProxyJump}, one hop), its host key checked as
 *                   strictly as the node's; empty: direct
 */
public record SshTarget(
        String name,
        String host,
        int port,
        String user,
        List<Path> identities,
        String source,
        Optional<SshTarget> jump) {
    public static final String DEFAULT_USER = "core";

    public SshTarget {
        Objects.requireNonNull(name);
        Objects.requireNonNull(host);
        Objects.requireNonNull(user);
        Objects.requireNonNull(jump);
        identities = List.copyOf(identities);
        if (jump.flatMap(SshTarget::jump).isPresent()) {
            throw new IllegalArgumentException("one jump host at most");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    /** A node reached directly. */
    public SshTarget(String name, String host, int port, String user, List<Path> identities, String source) {
        this(name, host, port, user, identities, source, Optional.empty());
    }

    /** {@code user@host:port}, as messages show where a connection went. */
    public String address() {
        if (port == 22) {
            return user + "@" + host;
        }
        return user + "@" + hostPort();
    }

    /** {@code host:port}, an IPv6 address in brackets, as known_hosts and ssh write it. */
    public String hostPort() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    public Optional<Path> identity() {
        return identities.stream().findFirst();
    }
}
