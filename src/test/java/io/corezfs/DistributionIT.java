package io.corezfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.Requirements;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The self-contained bundle (corezfs-&lt;version&gt;-linux-x86_64.tar.gz) as a node without Java gets it: unpacked
 * into a directory of its own, started from another one, with an environment that holds PATH=/usr/bin:/bin and nothing
 * else, so no JAVA_HOME and no locale. Run by failsafe after {@code package}, which made the bundle.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DistributionIT {
    private static final String VERSION = System.getProperty("corezfs.version", "");
    private static final String PATH = "/usr/bin:/bin";

    @TempDir
    static Path tmp;

    /** The unpacked corezfs-&lt;version&gt; directory; its path holds a space, as a user's might. */
    private static Path home;
    /** Where every command starts: neither the bundle nor the project. */
    private static Path elsewhere;

    @BeforeAll
    static void unpack() throws Exception {
        Requirements.need(
                "Linux".equals(System.getProperty("os.name")) && "amd64".equals(System.getProperty("os.arch")),
                "a Linux x86_64 build (only there does package make the bundle)");
        Path bundle =
                Path.of(System.getProperty("corezfs.bundle", "target/corezfs-" + VERSION + "-linux-x86_64.tar.gz"));
        assertFalse(VERSION.isEmpty(), "failsafe sets corezfs.version");
        assertTrue(Files.isRegularFile(bundle), "no bundle at " + bundle + "; run mvn package first");
        Path into = Files.createDirectories(tmp.resolve("unpacked here"));
        elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
        Result tar = run(List.of("tar", "-xzf", bundle.toAbsolutePath().toString(), "-C", into.toString()), Map.of());
        assertEquals(0, tar.code, tar.err);
        home = into.resolve("corezfs-" + VERSION);
        assertTrue(Files.isExecutable(home.resolve("bin/corezfs")), "launcher missing or not executable");
        assertTrue(Files.isExecutable(home.resolve("runtime/bin/java")), "bundled runtime missing");
    }

    @Test
    void versionRunsOnTheBundledRuntime() throws Exception {
        // -XshowSettings prints the properties to stderr; -Xshare:on fails the start if the runtime's CDS archive
        // cannot be mapped after unpacking (auto, the launcher's setting, would just start slower).
        Result r = corezfs(Map.of("COREZFS_JAVA_OPTS", "-XshowSettings:properties -Xshare:on"), "--version");
        assertEquals(0, r.code, r.err);
        assertEquals("corezfs " + VERSION, r.out.strip());
        assertTrue(r.err.contains("java.home = " + home.resolve("runtime")), "not the bundled runtime:\n" + r.err);
        // No locale in the environment: the launcher asks for C.UTF-8, else Java would take file names as ASCII.
        assertTrue(r.err.contains("sun.jnu.encoding = UTF-8"), "file names not UTF-8:\n" + r.err);
    }

    /**
     * The Kubernetes client ships only in corezfs-provisioner-&lt;version&gt;.tar.gz: the node bundle has none of its
     * jars, and its provisioner says where the provisioner is instead of failing on a missing class.
     */
    @Test
    void theNodeBundleHasNoKubernetesClientAndSaysSo() throws Exception {
        try (var jars = Files.list(home.resolve("lib"))) {
            List<String> client = jars.map(j -> j.getFileName().toString())
                    .filter(n -> n.startsWith("kubernetes-")
                            || n.startsWith("zjsonpatch")
                            || n.startsWith("snakeyaml-engine"))
                    .toList();
            assertEquals(List.of(), client);
        }
        Result r = corezfs(Map.of(), "provisioner", "run", "--parent", "tank/kube", "--node", "n", "--id", "x");
        assertEquals(3, r.code, r.err);
        assertTrue(r.err.contains("corezfs-provisioner-" + VERSION + ".tar.gz"), r.err);
    }

    @Test
    void versionWithTheLaunchersOwnSettings() throws Exception {
        Result r = corezfs(Map.of(), "--version");
        assertEquals(0, r.code, r.err);
        assertEquals("corezfs " + VERSION, r.out.strip());
        assertEquals("", r.err);
    }

    /**
     * The archive of the tool's classes made at package time still maps once the bundle is unpacked elsewhere
     * (-Xshare:on with it named fails the start otherwise), and the tool's classes come out of it.
     */
    @Test
    void toolClassesComeFromTheArchiveMadeAtPackageTime() throws Exception {
        Result r = corezfs(
                Map.of(
                        "COREZFS_JAVA_OPTS",
                        "-Xshare:on -XX:SharedArchiveFile=/proc/self/fd/9/lib/cds/corezfs.jsa -Xlog:class+load=info:stderr"),
                "--version");
        assertEquals(0, r.code, r.err);
        assertEquals("corezfs " + VERSION, r.out.strip());
        assertTrue(
                r.err.contains("io.corezfs.cli.Main source: shared objects file"), "not from the archive:\n" + r.err);
        assertTrue(
                r.err.contains("picocli.CommandLine source: shared objects file"), "not from the archive:\n" + r.err);
    }

    @Test
    void runtimeIsTrimmedButHasWhatTheToolLoads() throws Exception {
        Result r = run(List.of(home.resolve("runtime/bin/java").toString(), "--list-modules"), Map.of());
        assertEquals(0, r.code, r.err);
        List<String> modules = r.out.lines().map(l -> l.replaceFirst("@.*", "")).toList();
        for (String m : List.of(
                "java.base",
                "java.logging",
                "java.naming",
                "java.net.http",
                "java.sql",
                "java.security.jgss",
                "jdk.unsupported",
                "jdk.crypto.ec",
                "jdk.zipfs")) {
            assertTrue(modules.contains(m), m + " missing from " + modules);
        }
        assertFalse(modules.contains("jdk.compiler"), "not a trimmed runtime: " + modules);
    }

    @Test
    void statusReadsTheHostUnderRoot() throws Exception {
        Path root = HostRoots.at(tmp.resolve("debian-root"))
                .file(
                        "/usr/lib/os-release",
                        "ID=debian\nVERSION_ID=12\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n")
                .kernel("6.1.0-28-amd64")
                .root();
        Result r = corezfs(Map.of(), "status", "--root", root.toString(), "--json");
        assertEquals(0, r.code, r.err);
        JsonNode status = new ObjectMapper().readTree(r.out);
        assertEquals("debian", status.path("os").asText(), r.out);
        assertEquals("12", status.path("version").asText(), r.out);
        assertEquals("6.1.0-28-amd64", status.path("kernel").asText(), r.out);

        Result flatcar = corezfs(
                Map.of(),
                "status",
                "--root",
                HostRoots.flatcar(tmp.resolve("flatcar-root")).root().toString());
        assertEquals(0, flatcar.code, flatcar.err);
        assertTrue(flatcar.out.contains(HostRoots.FLATCAR_VERSION), flatcar.out);
    }

    /** commons-compress, the parallel gzip writer, jackson for the manifest and sha256 on the way back in. */
    @Test
    void packsAndVerifiesAnArchive() throws Exception {
        Path root = HostRoots.flatcar(tmp.resolve("pack-root")).root();
        Path tree = tmp.resolve("tree");
        write(tree.resolve("etc/modules-load.d/zfs.conf"), "zfs\n");
        write(tree.resolve("opt/corezfs/usr/sbin/zpool"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(
                tree.resolve("opt/corezfs/usr/sbin/zpool"), PosixFilePermissions.fromString("rwxr-xr-x"));
        // A name outside ASCII: with no locale this failed ("Malformed input") before the launcher set one.
        write(tree.resolve("opt/corezfs/usr/share/zfs/d\u00e9j\u00e0-vu.txt"), "x\n");
        Path archive = tmp.resolve("out/zfs.tar.gz");
        Files.createDirectories(archive.getParent());

        Result pack = corezfs(
                Map.of("SOURCE_DATE_EPOCH", "1767225600"),
                "archive",
                "pack",
                tree.toString(),
                "--root",
                root.toString(),
                "--zfs-version",
                "2.2.6",
                "-o",
                archive.toString());
        assertEquals(0, pack.code, pack.err);
        assertEquals(archive.toString(), pack.out.strip());

        Result verify = corezfs(Map.of(), "archive", "verify", archive.toString(), "--json");
        assertEquals(0, verify.code, verify.err);
        JsonNode verified = new ObjectMapper().readTree(verify.out);
        assertTrue(verified.path("valid").asBoolean(), verify.out);
        assertEquals("2.2.6", verified.path("zfsVersion").asText(), verify.out);
    }

    /**
     * TreeCollector.copyResources reads the units and overlay out of lib/corezfs.jar through a "jar:" FileSystem,
     * whose provider (jdk.zipfs) is found at run time only, which jdeps cannot see; the same goes for the EC
     * algorithms TLS needs (jdk.crypto.ec). {@link Probe} runs on the bundled runtime and uses both.
     */
    @Test
    void readsResourcesFromTheJarAndHasTlsCurves() throws Exception {
        Path testClasses = Path.of(DistributionIT.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
        Path out = tmp.resolve("probe");
        Result r = run(
                List.of(
                        home.resolve("runtime/bin/java").toString(),
                        "-cp",
                        home.resolve("lib") + "/*:" + testClasses,
                        Probe.class.getName(),
                        out.toString()),
                Map.of());
        assertEquals(0, r.code, r.out + r.err);
        Path unit = out.resolve("zfs-overlay.service");
        assertTrue(Files.isRegularFile(unit), "not copied: " + unit + "\n" + r.out + r.err);
        assertArrayEquals(
                Files.readAllBytes(home.resolve("share/corezfs/units/zfs-overlay.service")), Files.readAllBytes(unit));
    }

    /** Started on the bundled runtime by the test above; uses nothing from the test class path but itself. */
    public static final class Probe {
        public static void main(String[] args) throws Exception {
            Class<?> collector = Class.forName("io.corezfs.compile.TreeCollector");
            String scheme = collector.getResource("/io/corezfs/units").toURI().getScheme();
            if (!scheme.equals("jar")) {
                throw new IllegalStateException("units not read from a jar but from " + scheme);
            }
            Method copy = collector.getDeclaredMethod("copyResources", String.class, Path.class);
            copy.setAccessible(true);
            copy.invoke(null, "/io/corezfs/units", Path.of(args[0]));

            javax.crypto.KeyAgreement.getInstance("ECDH");
            javax.crypto.KeyAgreement.getInstance("X25519");
            java.security.Signature.getInstance("SHA256withECDSA");
            List<String> suites = List.of(javax.net.ssl.SSLContext.getDefault()
                    .getDefaultSSLParameters()
                    .getCipherSuites());
            if (!suites.contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")) {
                throw new IllegalStateException("no ECDHE cipher suites: " + suites);
            }
            System.out.println("ok");
        }

        private Probe() {}
    }

    private static void write(Path file, String content) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
    }

    private static Result corezfs(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(home.resolve("bin/corezfs").toString());
        command.addAll(List.of(args));
        return run(command, env);
    }

    /** Runs {@code command} in {@link #elsewhere} with PATH and {@code env} as its whole environment. */
    private static Result run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(elsewhere.toFile());
        pb.environment().clear();
        pb.environment().put("PATH", PATH);
        pb.environment().putAll(env);
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("timed out: " + command);
        }
        return new Result(
                p.exitValue(),
                Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    private record Result(int code, String out, String err) {}
}
