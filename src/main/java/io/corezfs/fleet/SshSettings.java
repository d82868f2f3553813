package io.corezfs.fleet;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * How fleet connects: trust in host keys, the connect timeout and where keys come from.
 *
 * @param knownHosts        the known_hosts file (hashed entries are understood); a missing file knows no host
 * @param acceptNewHostKeys record and accept keys of hosts the file does not name
 * @param agentSocket       ssh-agent's socket ({@code SSH_AUTH_SOCK}), used when a target names no key file
 * @param defaultIdentities key files tried when a target names none and there is no agent
 */
public record SshSettings(
        Path knownHosts,
        boolean acceptNewHostKeys,
        Duration connectTimeout,
        Optional<Path> agentSocket,
        List<Path> defaultIdentities) {}
