package io.corezfs.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.cli.Context;
import io.corezfs.cli.Main;
import io.corezfs.docker.DockerJavaEngine;
import io.corezfs.testing.Lab;
import io.corezfs.testing.SshLab;
import io.corezfs.testing.StaticHttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * {@code corezfs build} for real: the lab's Flatcar-format developer container, served from 127.0.0.1 in the
 * release-server layout and signed with the lab's key, imported into the real Docker engine, and a real compile of
 * OpenZFS against its kernel headers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BuildIT {
    static final String IMAGE = "corezfs/devcontainer:flatcar-" + Lab.flatcarVersion();

    Path work;
    Path cache;
    StaticHttpServer mirror;
    DockerJavaEngine docker;
    Path first;

    @BeforeAll
    void lab() throws IOException {
        Lab.requireBuilt();
        Lab.requireDocker();
        work = Files.createTempDirectory("corezfs-build-it");
        cache = work.resolve("cache");
        mirror = new StaticHttpServer(Lab.mirror());
        docker = DockerJavaEngine.fromEnvironment(Optional.empty());
        // Start from nothing: the first build must download, verify and import.
        docker.removeImage(IMAGE);
    }

    @AfterAll
    void clean() throws IOException {
        if (mirror != null) {
            mirror.close();
        }
        if (work != null) {
            io.corezfs.system.FileTrees.deleteTree(work);
        }
    }

    record Run(int code, String out, String err) {}

    Run corezfs(String... args) {
        return corezfs(false, args);
    }

    /** {@code ssh}: with the real SSH transport, for {@code fleet}. */
    Run corezfs(boolean ssh, String... args) {
        Context ctx = new Context(
                io.corezfs.host.Environment.system(),
                io.corezfs.install.FileOps.DEFAULT,
                io.corezfs.archive.ArchiveLimits.DEFAULT,
                work,
                "it",
                () -> docker,
                Main.devImages(new io.corezfs.system.LocalProcessRunner()),
                Context.Live.NONE);
        if (ssh) {
            ctx = ctx.withSsh(io.corezfs.fleet.JschSsh::new);
        }
        CommandLine cl = Main.commandLine(ctx);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** Where a build takes its inputs: the lab's mirror, signed with the lab's key, and a cache directory. */
    List<String> inputs(Path cacheDir) {
        return List.of(
                "--release-mirror",
                mirror.base().toString(),
                "--zfs-mirror",
                mirror.base().toString(),
                "--keyring",
                Lab.signingKey().toString(),
                "--cache-dir",
                cacheDir.toString());
    }

    Run build(Path cacheDir, Path output, String... extra) {
        List<String> a =
                new ArrayList<>(List.of("build", "--root", Lab.hostRoot().toString()));
        a.addAll(inputs(cacheDir));
        a.addAll(List.of("-o", output.toString()));
        a.addAll(Arrays.asList(extra));
        return corezfs(a.toArray(String[]::new));
    }

    @Test
    @Order(1)
    // A real OpenZFS compile: about 6 minutes alone on 2 cores, twice that while a VM test class holds one core in the
    // other lane (pom.xml, failsafe). The limit is there to end a hung build, not to time a slow one.
    @Timeout(value = 40, unit = TimeUnit.MINUTES)
    void buildsRealZfsForTheHostKernel() throws IOException {
        first = work.resolve("first.tar.gz");
        Run r = build(cache, first);
        assertEquals(0, r.code(), () -> r.out() + r.err());
        assertEquals(first.toString(), r.out().strip());
        assertEquals(1, mirror.count("GET", "flatcar_developer_container.bin.bz2"), "downloaded once");

        List<String> names = names(first);
        String mods = "opt/corezfs/usr/lib/modules/" + Lab.kernel() + "/";
        assertTrue(names.stream().anyMatch(n -> n.startsWith(mods + "extra/") && n.endsWith("/zfs.ko")), "zfs.ko");
        assertTrue(names.stream().anyMatch(n -> n.startsWith(mods + "extra/") && n.endsWith("/spl.ko")), "spl.ko");
        assertTrue(names.contains(mods + "modules.dep"));
        for (String tool : List.of("zpool", "zfs", "mount.zfs")) {
            assertTrue(names.contains("opt/corezfs/usr/sbin/" + tool), tool);
        }
        for (String lib : List.of(
                "libtirpc.so.3",
                "libgssapi_krb5.so.2",
                "libkrb5.so.3",
                "libk5crypto.so.3",
                "libkrb5support.so.0",
                "libkeyutils.so.1")) {
            assertTrue(
                    names.stream().anyMatch(n -> n.startsWith("opt/corezfs/usr/lib") && n.endsWith("/" + lib)),
                    lib + " is bundled: the lab host root has no libraries");
        }
        // Only the test suite (mmap_libaio) needs libaio, and the archive drops the test suite: its needs are not
        // carried either, so nothing extra shadows the node's own libraries.
        assertFalse(
                names.stream().anyMatch(n -> n.endsWith("/libaio.so.1")),
                "libaio is needed by the dropped test suite only");
        assertFalse(names.stream().anyMatch(n -> n.endsWith("/libc.so.6")), "never the C runtime");
        for (String unit :
                List.of("zfs-overlay.service", "zfs-import-cache.service", "zfs-mount.service", "zfs.target")) {
            assertTrue(names.contains("etc/systemd/system/" + unit), unit);
        }
        String dep = entry(first, mods + "modules.dep");
        assertTrue(dep.lines().anyMatch(l -> l.startsWith("kernel/")), "the base modules are still indexed");
        assertTrue(dep.lines().anyMatch(l -> l.matches("extra/.*zfs\\.ko:.*spl\\.ko.*")), "zfs and its dependencies");
        assertEquals(Lab.kernel() + "\n", entry(first, "opt/corezfs/kernel-release"));
        Run v = corezfs("archive", "verify", first.toString());
        assertEquals(0, v.code(), v::err);
    }

    @Test
    @Order(2)
    @Timeout(value = 40, unit = TimeUnit.MINUTES) // as above
    // The second compile is fleet's: a node whose target has no archive anywhere gets one built here, once, through
    // the same developer container, and it must be the first build's bytes.
    void fleetBuildsTheMissingArchiveForItsNodeReusingTheImageAndGivesTheSameBytes() throws Exception {
        String imageId = docker.image(IMAGE).orElseThrow().id();
        Path store = Files.createDirectories(work.resolve("fleet-archives"));
        Path bundle = Lab.bundle().toAbsolutePath();
        try (SshLab lab = SshLab.start(1, work.resolve("ssh-lab"), Lab.hostRoot())) {
            SshLab.Node node = lab.nodes.get(0);
            Path knownHosts = work.resolve("known_hosts");
            Files.writeString(knownHosts, node.knownHosts());
            // Whatever the machine's own ~/.ssh/config says stays out of the test.
            Path sshConfig = Files.writeString(work.resolve("ssh_config"), "");
            List<String> a = new ArrayList<>(List.of(
                    "fleet",
                    "prepare",
                    node.address(),
                    "--known-hosts",
                    knownHosts.toString(),
                    "--ssh-config",
                    sshConfig.toString(),
                    "--identity",
                    lab.clientKey.toString(),
                    "--remote-root",
                    "/flatcar",
                    "--state",
                    work.resolve("fleet-state.json").toString(),
                    "--bundle",
                    bundle.toString(),
                    "--archive-dir",
                    store.toString()));
            a.addAll(inputs(cache));
            Run r = corezfs(true, a.toArray(String[]::new));
            assertEquals(0, r.code(), () -> r.out() + r.err());
            assertTrue(r.err().contains("building it here, once for every node of that target"), r::err);
            assertEquals(1, mirror.count("GET", "flatcar_developer_container.bin.bz2"), "no second download");
            assertEquals(imageId, docker.image(IMAGE).orElseThrow().id(), "no second import");
            List<Path> built;
            try (var files = Files.list(store)) {
                built = files.filter(f -> f.getFileName().toString().endsWith(".tar.gz"))
                        .toList();
            }
            assertEquals(1, built.size(), () -> "one archive built into --archive-dir: " + built);
            byte[] bytes = Files.readAllBytes(first);
            assertArrayEquals(bytes, Files.readAllBytes(built.get(0)), "reproducible archive bytes");
            String onNode = node.sh("sha256sum /flatcar/var/lib/corezfs/archives/"
                    + built.get(0).getFileName() + " | cut -c1-64");
            assertEquals(
                    io.corezfs.testing.TarBuilder.sha256(bytes), onNode.strip(), "the node holds the built archive");
        }
    }

    @Test
    @Order(3)
    void aTamperedDeveloperContainerIsRefusedAndNothingIsImported() throws IOException {
        Path bad = work.resolve("bad-mirror");
        Path dir = bad.resolve(Lab.board() + "/" + Lab.flatcarVersion());
        Files.createDirectories(dir);
        Path src = Lab.mirror().resolve(Lab.board() + "/" + Lab.flatcarVersion());
        for (String f : List.of(".sig", ".DIGESTS", "")) {
            Files.copy(
                    src.resolve("flatcar_developer_container.bin.bz2" + f),
                    dir.resolve("flatcar_developer_container.bin.bz2" + f),
                    StandardCopyOption.REPLACE_EXISTING);
        }
        try (var ch = java.nio.channels.FileChannel.open(
                dir.resolve("flatcar_developer_container.bin.bz2"), java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {0x42}), 1_000_000);
        }
        Path badCache = work.resolve("bad-cache");
        try (StaticHttpServer evil = new StaticHttpServer(bad)) {
            List<String> a = List.of(
                    "build",
                    "--root",
                    Lab.hostRoot().toString(),
                    "--release-mirror",
                    evil.base().toString(),
                    "--zfs-source",
                    Lab.dir()
                            .resolve("zfs-source/zfs-linux_" + Lab.zfsVersion() + ".orig.tar.gz")
                            .toString(),
                    "--keyring",
                    Lab.signingKey().toString(),
                    "--cache-dir",
                    badCache.toString(),
                    "-o",
                    work.resolve("bad.tar.gz").toString());
            docker.removeImage(IMAGE);
            Run r = corezfs(a.toArray(String[]::new));
            assertEquals(5, r.code(), () -> r.out() + r.err());
            assertTrue(docker.image(IMAGE).isEmpty(), "nothing imported");
            assertFalse(Files.exists(work.resolve("bad.tar.gz")));
            try (var s = Files.walk(badCache)) {
                assertTrue(
                        s.noneMatch(p -> p.getFileName().toString().equals("flatcar_developer_container.bin.bz2")),
                        "nothing cached under the real name");
            }
        }
    }

    @Test
    @Order(4)
    void aKernelOutsideTheSourcesRangeIsRefusedBeforeAnyCompile() {
        long before = docker.containersLabelled(BuildRun.LABEL).size();
        Run r = corezfs(
                "build",
                "--root",
                Lab.hostRoot().toString(),
                "--kernel",
                "6.9.0-1-cloud-amd64",
                "--zfs-source",
                Lab.dir()
                        .resolve("zfs-source/zfs-linux_" + Lab.zfsVersion() + ".orig.tar.gz")
                        .toString(),
                "--cache-dir",
                work.resolve("cache-k").toString(),
                "-o",
                work.resolve("k.tar.gz").toString());
        assertEquals(3, r.code(), () -> r.out() + r.err());
        assertTrue(r.err().contains("6.9") && r.err().contains("6.2"), r::err);
        assertEquals(before, docker.containersLabelled(BuildRun.LABEL).size());
    }

    static List<String> names(Path archive) throws IOException {
        List<String> names = new ArrayList<>();
        try (InputStream in = new GZIPInputStream(Files.newInputStream(archive));
                TarArchiveInputStream t = new TarArchiveInputStream(in)) {
            TarArchiveEntry e;
            while ((e = t.getNextEntry()) != null) {
                names.add(
                        e.getName().endsWith("/")
                                ? e.getName().substring(0, e.getName().length() - 1)
                                : e.getName());
            }
        }
        return names;
    }

    static String entry(Path archive, String name) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(archive));
                TarArchiveInputStream t = new TarArchiveInputStream(in)) {
            TarArchiveEntry e;
            while ((e = t.getNextEntry()) != null) {
                if (e.getName().equals(name)) {
                    return new String(t.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                }
            }
        }
        throw new AssertionError(name + " not in " + archive);
    }
}
