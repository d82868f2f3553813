package io.corezfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/corezfs (src/dist/bin) in a bundle whose runtime is a script that prints what it was started with: the class
 * data sharing archive is used only when it is the bundled runtime's own, whole, and descriptor 9 is free; in every
 * other case the launcher starts as it did without one, and says nothing about it.
 */
// Alone: it writes scripts in this JVM and then runs them. A process another test class forks meanwhile inherits the
// open write descriptor until it execs, and the kernel then refuses to run the script ("Text file busy", ETXTBSY).
@org.junit.jupiter.api.parallel.Isolated
class LauncherTest {
    private static final String RELEASE = "JAVA_VERSION=\"17.0.15\"\nMODULES=\"java.base jdk.zipfs\"\n";
    private static final byte[] ARCHIVE = new byte[1234];
    /** lib/classpath: the jars in class path order. */
    private static final String JARS = "corezfs.jar\npicocli.jar\na-dependency.jar\n";

    private static final String CLASS_PATH =
            "/proc/self/fd/9/lib/corezfs.jar:/proc/self/fd/9/lib/picocli.jar" + ":/proc/self/fd/9/lib/a-dependency.jar";
    private static final String SHARED = "-XX:SharedArchiveFile=/proc/self/fd/9/lib/cds/corezfs.jsa";

    @TempDir
    Path tmp;

    /** The unpacked bundle; its path holds a space, as a user's might. */
    private Path home;

    @BeforeEach
    void bundle() throws IOException {
        home = tmp.resolve("opt here/corezfs-1.0");
        Files.createDirectories(home.resolve("bin"));
        Files.copy(Path.of("src/dist/bin/corezfs"), home.resolve("bin/corezfs"));
        executable(home.resolve("bin/corezfs"));
        fakeJava(home.resolve("runtime"));
        Files.writeString(home.resolve("runtime/release"), RELEASE);
        Files.createDirectories(home.resolve("lib/cds"));
        Files.writeString(home.resolve("lib/cds/runtime.release"), RELEASE);
        Files.writeString(home.resolve("lib/classpath"), JARS);
        Files.write(home.resolve("lib/cds/corezfs.jsa"), ARCHIVE);
        Files.writeString(home.resolve("lib/cds/corezfs.jsa.size"), Integer.toString(ARCHIVE.length));
    }

    @Test
    void theBundledRuntimeMapsTheArchiveThroughDescriptor9() throws Exception {
        Started s = start(Map.of(), "--version");
        assertTrue(s.args.contains(SHARED), s.toString());
        assertTrue(s.args.contains("-Xlog:cds=off"), "a refused archive must not be reported: " + s);
        assertEquals(CLASS_PATH, s.classPath(), s.toString());
        assertEquals(home.toString(), s.fd9, "descriptor 9 names the bundle");
        assertEquals(List.of("io.corezfs.cli.Main", "--version"), s.args.subList(s.args.size() - 2, s.args.size()));
        assertEquals("", s.err);
    }

    @Test
    void startedThroughASymlinkElsewhere() throws Exception {
        Path link = Files.createSymbolicLink(tmp.resolve("corezfs"), home.resolve("bin/corezfs"));
        Started s = run(List.of(link.toString(), "status"), Map.of());
        assertTrue(s.args.contains(SHARED), s.toString());
        assertTrue(s.args.contains("-Dcorezfs.home=" + home), s.toString());
    }

    @Test
    void anotherRuntimeBuildLeavesTheArchiveAlone() throws Exception {
        Files.writeString(home.resolve("runtime/release"), RELEASE.replace("17.0.15", "17.0.16"));
        assertPlain(start(Map.of(), "--version"));
    }

    @Test
    void aRuntimeFromJavaHomeLeavesTheArchiveAlone() throws Exception {
        Path jdk = tmp.resolve("jdk");
        fakeJava(jdk);
        Files.writeString(jdk.resolve("release"), RELEASE);
        deleteTree(home.resolve("runtime"));
        Started s = start(Map.of("JAVA_HOME", jdk.toString()), "--version");
        assertPlain(s);
        assertTrue(s.java.startsWith(jdk.toString()), s.toString());
    }

    @Test
    void aCutShortArchiveIsNotMapped() throws Exception {
        Files.write(home.resolve("lib/cds/corezfs.jsa"), new byte[ARCHIVE.length / 2]);
        Started s = start(Map.of(), "--version");
        assertFalse(s.args.contains(SHARED), s.toString());
        assertEquals("", s.err);
    }

    @Test
    void aBundleWithoutTheArchiveStartsAsBefore() throws Exception {
        deleteTree(home.resolve("lib/cds"));
        assertPlain(start(Map.of(), "--version"));
    }

    @Test
    void withoutTheJarOrderEveryJarInLib() throws Exception {
        Files.delete(home.resolve("lib/classpath"));
        Started s = start(Map.of(), "--version");
        assertEquals(home.resolve("lib") + "/*", s.classPath(), s.toString());
        assertFalse(s.args.contains(SHARED), s.toString());
    }

    @Test
    void picocliDoesNotLookForGroovy() throws Exception {
        // A class missing from the class path is looked for in every jar, which opens each of them.
        assertTrue(start(Map.of(), "--version").args.contains("-Dpicocli.disable.closures=true"));
    }

    @Test
    void aDescriptor9OfTheCallerIsKept() throws Exception {
        Path lock = Files.writeString(tmp.resolve("lock"), "");
        Started s = run(
                List.of(
                        "sh",
                        "-c",
                        "exec 9<\"$0\"; exec \"$1\" --version",
                        lock.toString(),
                        home.resolve("bin/corezfs").toString()),
                Map.of());
        assertPlain(s);
        assertEquals(lock.toString(), s.fd9, "the caller's descriptor 9 is passed on untouched");
    }

    @Test
    void turnedOffByTheEnvironment() throws Exception {
        assertPlain(start(Map.of("COREZFS_CDS", "off"), "--version"));
    }

    private void assertPlain(Started s) {
        assertFalse(
                s.args.stream().anyMatch(a -> a.startsWith("-XX:SharedArchiveFile") || a.startsWith("-Xlog:cds")),
                s.toString());
        String lib = home.resolve("lib").toString();
        assertEquals(
                lib + "/corezfs.jar:" + lib + "/picocli.jar:" + lib + "/a-dependency.jar", s.classPath(), s.toString());
        assertEquals("", s.err);
    }

    /** A java that prints its path, each argument on a line and what descriptor 9 names, if open. */
    private static void fakeJava(Path javaHome) throws IOException {
        Path java = javaHome.resolve("bin/java");
        Files.createDirectories(java.getParent());
        Files.writeString(java, """
                #!/bin/sh
                echo "java=$0"
                for a in "$@"; do echo "arg=$a"; done
                if [ -e /proc/self/fd/9 ]; then echo "fd9=$(readlink /proc/self/fd/9)"; fi
                """);
        executable(java);
    }

    private static void executable(Path file) throws IOException {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private Started start(Map<String, String> env, String... args) throws Exception {
        List<String> command =
                new ArrayList<>(List.of(home.resolve("bin/corezfs").toString()));
        command.addAll(List.of(args));
        return run(command, env);
    }

    private Started run(List<String> command, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(tmp.toFile());
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/bin:/bin");
        pb.environment().putAll(env);
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "launcher hung");
        String stdout = Files.readString(out, StandardCharsets.UTF_8);
        String stderr = Files.readString(err, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), stdout + stderr);
        String java = "";
        String fd9 = "";
        List<String> args = new ArrayList<>();
        for (String line : stdout.lines().toList()) {
            if (line.startsWith("java=")) {
                java = line.substring(5);
            } else if (line.startsWith("arg=")) {
                args.add(line.substring(4));
            } else if (line.startsWith("fd9=")) {
                fd9 = line.substring(4);
            }
        }
        return new Started(java, args, fd9, stderr);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** What the fake runtime was started with. */
    private record Started(String java, List<String> args, String fd9, String err) {
        String classPath() {
            return args.get(args.indexOf("-cp") + 1);
        }
    }
}
