package io.corezfs.provision;

import java.net.URI;
import java.util.List;
import java.util.Optional;

/**
 * What a fresh node needs to come up with corezfs: the files to place and the units to write or enable. Every output
 * format (Ignition, Butane, cloud-config) is rendered from this one description, so they cannot drift apart.
 *
 * @param files in the order they are to be written
 * @param units in the order they are to be written
 */
public record NodeSpec(List<NodeFile> files, List<NodeUnit> units) {
    public NodeSpec {
        files = List.copyOf(files);
        units = List.copyOf(units);
    }

    /** A file that is downloaded: where from and the sha512 it must have, lower-case hex. */
    public record Remote(URI url, String sha512) {}

    /**
     * One file on the node.
     *
     * @param path     absolute path on the node
     * @param mode     permission bits
     * @param remote   set when the node downloads the file
     * @param contents the text, set when the file is carried in the config itself
     */
    public record NodeFile(String path, int mode, Optional<Remote> remote, Optional<String> contents) {
        public NodeFile {
            if (remote.isPresent() == contents.isPresent()) {
                throw new IllegalArgumentException(path + ": a file is either downloaded or carried inline");
            }
        }

        public static NodeFile inline(String path, int mode, String contents) {
            return new NodeFile(path, mode, Optional.empty(), Optional.of(contents));
        }

        public static NodeFile download(String path, int mode, URI url, String sha512) {
            return new NodeFile(path, mode, Optional.of(new Remote(url, sha512)), Optional.empty());
        }
    }

    /**
     * One systemd unit.
     *
     * @param name     the unit's name
     * @param enabled  true to enable it (through the first boot's presets); false to write it only
     * @param contents the unit file, or empty to only enable a unit that something else ships
     */
    public record NodeUnit(String name, boolean enabled, Optional<String> contents) {}
}
