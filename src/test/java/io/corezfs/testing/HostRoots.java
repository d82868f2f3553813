package io.corezfs.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Lays out host roots from the release-file fixtures in src/test/resources/hosts. */
public final class HostRoots {
    /** The host every install test targets, and the kernel its archives are built for. */
    public static final String FLATCAR_VERSION = "3975.2.0";

    public static final String KERNEL = "6.1.0-55-cloud-amd64";

    private final Path root;

    private HostRoots(Path root) {
        this.root = root;
    }

    public static HostRoots at(Path root) {
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new HostRoots(root);
    }

    public Path root() {
        return root;
    }

    /** Copies fixture {@code hosts/<fixture>} to {@code hostPath} under the root. */
    public HostRoots fixture(String fixture, String hostPath) {
        try (InputStream in = HostRoots.class.getResourceAsStream("/hosts/" + fixture)) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture " + fixture);
            }
            return file(hostPath, new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public HostRoots file(String hostPath, String content) {
        try {
            Path p = root.resolve(hostPath.substring(1));
            Files.createDirectories(p.getParent());
            Files.writeString(p, content);
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public HostRoots symlink(String hostPath, String target) {
        try {
            Path p = root.resolve(hostPath.substring(1));
            Files.createDirectories(p.getParent());
            Files.createSymbolicLink(p, Path.of(target));
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public HostRoots kernel(String release) {
        return file("/proc/sys/kernel/osrelease", release + "\n");
    }

    /** A current Flatcar stable node: the layout since 2317, with /usr/share/coreos linking to flatcar. */
    public static HostRoots flatcar(Path root) {
        return at(root).fixture("flatcar-3975.2.0/release", "/usr/share/flatcar/release")
                .fixture("flatcar-3975.2.0/update.conf", "/usr/share/flatcar/update.conf")
                .fixture("flatcar-3975.2.0/os-release", "/usr/lib/os-release")
                .symlink("/usr/share/coreos", "flatcar")
                .symlink("/etc/os-release", "../usr/lib/os-release")
                .kernel(KERNEL);
    }
}
