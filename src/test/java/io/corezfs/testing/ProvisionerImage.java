package io.corezfs.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The provisioner's container image, as scripts/provisioner-image.sh builds it from the tree `mvn package` made
 * (target/corezfs-provisioner): built at most once per JVM, so every test class that runs the provisioner in a
 * container shares one image and one build. Fails (CI) or skips (a developer's machine) without Docker.
 */
public final class ProvisionerImage {
    private static final Duration BUILD = Duration.ofMinutes(5);
    private static String tag;

    private ProvisionerImage() {}

    /** Builds the image (a no-op in the engine when its root file system is unchanged) and returns its tag. */
    public static synchronized String tag() throws IOException, InterruptedException {
        if (tag == null) {
            Lab.requireDocker();
            KubeLab.Result r = KubeLab.run(
                    BUILD,
                    null,
                    "bash",
                    VmLab.repo().resolve("scripts/provisioner-image.sh").toString());
            if (r.code() != 0) {
                throw new AssertionError("scripts/provisioner-image.sh failed\n" + r.describe());
            }
            List<String> lines = r.out().strip().lines().toList();
            tag = lines.get(lines.size() - 1).strip();
        }
        return tag;
    }

    /** The image as `docker save` wrote it, for `docker load` or `ctr images import` on a node. */
    public static Path saved() throws IOException, InterruptedException {
        String version = tag().substring(tag().indexOf(':') + 1);
        return VmLab.repo().resolve("target/corezfs-provisioner-image-" + version + ".tar");
    }
}
