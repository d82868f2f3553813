package io.corezfs.testing;

import io.corezfs.host.KeyValueFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The lab's pinned inputs and artifacts, for the lab tests. The pins live in one place, lab/versions.env, which
 * the lab scripts read too; the artifacts are what lab/all.sh made under $LAB_CACHE.
 */
public final class Lab {
    /** lab/lib.sh's default: outside the clone, so every clone on the machine reuses what the lab built. */
    private static final String DEFAULT_CACHE = "/var/cache/corezfs-lab";

    private static final Path REPO = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    private static final Map<String, String> PINS = load();

    private Lab() {}

    private static Map<String, String> load() {
        try {
            return KeyValueFile.parse(Files.readString(REPO.resolve("lab/versions.env")), "lab/versions.env");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String pin(String key) {
        String v = System.getenv(key) != null ? System.getenv(key) : PINS.get(key);
        if (v == null) {
            throw new IllegalStateException("lab/versions.env has no " + key);
        }
        return v;
    }

    public static String kernel() {
        return pin("LAB_KERNEL_ABI") + "-" + pin("LAB_KERNEL_FLAVOUR");
    }

    public static String flatcarVersion() {
        return pin("LAB_FLATCAR_VERSION");
    }

    public static String board() {
        return pin("LAB_FLATCAR_BOARD");
    }

    public static String zfsVersion() {
        return pin("LAB_ZFS_VERSION");
    }

    /** The next target (versions.env's LAB_NEXT_*): the OS version an update brings, with its own kernel. */
    public static String nextKernel() {
        return pin("LAB_NEXT_KERNEL_ABI") + "-" + pin("LAB_KERNEL_FLAVOUR");
    }

    public static String nextFlatcarVersion() {
        return pin("LAB_NEXT_FLATCAR_VERSION");
    }

    public static String nextZfsVersion() {
        return pin("LAB_NEXT_ZFS_VERSION");
    }

    public static Path dir() {
        String c = System.getenv("LAB_CACHE");
        return c == null ? Path.of(DEFAULT_CACHE) : REPO.resolve(c);
    }

    public static Path mirror() {
        return dir().resolve("mirror");
    }

    /** The bundle this build packed (failsafe names it and its version). */
    public static Path bundle() {
        String version = System.getProperty("corezfs.version", "");
        Path b = Path.of(System.getProperty("corezfs.bundle", "target/corezfs-" + version + "-linux-x86_64.tar.gz"));
        org.junit.jupiter.api.Assertions.assertFalse(version.isEmpty(), "failsafe sets corezfs.version");
        org.junit.jupiter.api.Assertions.assertTrue(
                Files.isRegularFile(b), "no bundle " + b + " (mvn package on Linux x86_64)");
        return b;
    }

    public static Path hostRoot() {
        return dir().resolve("hostroot");
    }

    public static Path signingKey() {
        return dir().resolve("keys/test-signing-key.asc");
    }

    /** Fails (CI) or skips (a developer's machine) when lab/all.sh has not been run. */
    public static void requireBuilt() {
        Requirements.need(
                Files.isDirectory(mirror()) && Files.isRegularFile(signingKey()) && Files.isDirectory(hostRoot()),
                "the lab under " + dir() + " (run: bash lab/all.sh)");
    }

    public static void requireDocker() {
        Requirements.need(dockerAnswers(), "a Docker engine that answers (run: bash lab/docker.sh)");
    }

    /**
     * Whether the engine answers, not only whether its socket file exists: a dockerd that died leaves the socket
     * behind, and the test would then fail far from the cause.
     */
    private static boolean dockerAnswers() {
        io.corezfs.system.ProcessResult r = new io.corezfs.system.LocalProcessRunner()
                .run(io.corezfs.system.ProcessRequest.of("docker", "version", "--format", "{{.Server.Version}}")
                        .timeout(java.time.Duration.ofSeconds(30)));
        return r.ok() && !r.stdout().isBlank();
    }
}
