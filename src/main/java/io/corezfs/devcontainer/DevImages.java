package io.corezfs.devcontainer;

import io.corezfs.docker.Docker;
import io.corezfs.net.Downloader;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a build's developer image comes from: the vendor's developer container, downloaded, verified and
 * imported once, then reused from Docker's image store.
 */
public interface DevImages {
    /**
     * @param keyring the OpenPGP keyring to verify the image's signature with; empty means the vendor key bundled
     *                with the tool
     * @return a Docker image reference
     */
    String imageFor(DevContainerSource source, Optional<Path> keyring);

    /** Makes the {@link DevImages} of one command run. */
    @FunctionalInterface
    interface Factory {
        DevImages create(Docker docker, Path cacheDir, io.corezfs.Reporter reporter, Downloader downloader);
    }
}
