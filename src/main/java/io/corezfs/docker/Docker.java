package io.corezfs.docker;

import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The Docker operations a build needs, and nothing more. The build logic depends on this seam only, so it can be
 * driven by a fake in unit tests and by docker-java against a real engine in the lab tests.
 */
public interface Docker {
    /** Fails with exit 3 and how to start Docker when no engine answers. */
    void ping();

    /** An image by reference (name:tag or id). */
    Optional<Image> image(String ref);

    /**
     * Creates an image from a root filesystem tar, tagged {@code repository:tag} and carrying {@code labels}.
     *
     * @return the image id
     */
    String importImage(InputStream rootfsTar, String repository, String tag, Map<String, String> labels);

    /** Creates a container that is not started yet. */
    String create(ContainerSpec spec);

    /** Unpacks a tar stream into {@code dir} inside the container. */
    void copyInto(String container, String dir, InputStream tar);

    /** A tar stream of {@code path} inside the container; the caller closes it. */
    InputStream copyOut(String container, String path);

    void start(String container);

    /** Streams the container's output, line by line, until it exits; returns the exit code. */
    int follow(String container, Consumer<String> line);

    /** Kills if needed and removes, with its anonymous volumes. Never fails for a missing container. */
    void remove(String container);

    /** Containers (running or not) carrying {@code label}, whatever its value: id → all of their labels. */
    Map<String, Map<String, String>> containersLabelled(String label);

    /** Removes an image; never fails for a missing one. */
    void removeImage(String ref);

    record Image(String id, Map<String, String> labels) {}

    /**
     * @param network {@code none} for builds; nothing a build does needs the network
     */
    record ContainerSpec(
            String image,
            List<String> command,
            Map<String, String> labels,
            String network,
            Map<String, String> env,
            String workingDir) {}
}
