package io.corezfs.compile;

import io.corezfs.CorezfsException;
import io.corezfs.docker.Docker;
import io.corezfs.host.Environment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The kernel an OS release's developer image was made for: the one tree under its {@code /usr/lib/modules} that
 * can build modules (it has {@code build/Makefile}). When building for another OS version, this is the only
 * trustworthy source: the running kernel says nothing about the next release's.
 */
final class ImageKernel {
    private static final String PREFIX = "corezfs-kernel: ";
    // What uname -r can print; anything else in the listing is not a kernel tree we would hand to the build.
    private static final Pattern RELEASE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+~-]{0,127}");
    static final String SCRIPT = "for d in /usr/lib/modules/*/; do [ -d \"$d\" ] || continue;"
            + " n=${d%/}; n=${n##*/}; if [ -f \"$d/build/Makefile\" ]; then echo \"" + PREFIX
            + "tree $n\"; else echo \"" + PREFIX + "other $n\"; fi; done";

    private ImageKernel() {}

    /**
     * Lists the image's kernel trees in a short container without network.
     *
     * @throws CorezfsException exit 3 when there is no such tree or several, naming what was found
     */
    static String read(Docker docker, Environment env, String image) {
        String container = docker.create(new Docker.ContainerSpec(
                image,
                List.of("/bin/sh", "-c", SCRIPT),
                Map.of("corezfs.kernel-probe", UUID.randomUUID().toString()),
                "none",
                Map.of(),
                "/"));
        Runnable withdrawCleanup = env.onExit("corezfs-kernel-probe-cleanup", () -> docker.remove(container));
        List<String> trees = new ArrayList<>();
        List<String> others = new ArrayList<>();
        int code;
        try {
            docker.start(container);
            code = docker.follow(container, line -> {
                if (!line.startsWith(PREFIX)) {
                    return;
                }
                String[] kind = line.substring(PREFIX.length()).split(" ", 2);
                if (kind.length == 2 && RELEASE.matcher(kind[1]).matches()) {
                    (kind[0].equals("tree") ? trees : others).add(kind[1]);
                }
            });
        } finally {
            docker.remove(container);
            withdrawCleanup.run();
        }
        if (code != 0) {
            throw CorezfsException.precondition("cannot list /usr/lib/modules in " + image + " (exit " + code + ")");
        }
        if (trees.size() == 1) {
            return trees.get(0);
        }
        if (trees.isEmpty()) {
            throw CorezfsException.precondition("no kernel tree with build/Makefile under /usr/lib/modules of "
                    + image + (others.isEmpty() ? " (it is empty)" : "; found only " + String.join(", ", others))
                    + "; name the kernel with --kernel or use another image");
        }
        throw CorezfsException.precondition("several kernel trees with build/Makefile under /usr/lib/modules of "
                + image + ": " + String.join(", ", trees) + "; name the one to build for with --kernel");
    }
}
