package io.corezfs.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.docker.Docker;
import io.corezfs.host.Environment;
import io.corezfs.testing.FakeDocker;
import io.corezfs.testing.RecordingReporter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The build container's life: isolated, labelled, fed, followed, emptied and always removed. */
class BuildRunTest {
    @TempDir
    Path tmp;

    final FakeDocker docker = new FakeDocker();
    final RecordingReporter reporter = new RecordingReporter();
    final List<String> told = reporter.told();

    /** The exit actions registered and not yet withdrawn, by name. */
    final Map<String, Runnable> exitActions = new java.util.LinkedHashMap<>();

    final List<String> exitLog = new ArrayList<>();
    final Environment env = new Environment() {
        final Environment base = Environment.of(Map.of(), "x86_64", java.time.Clock.systemUTC());

        @Override
        public java.util.Optional<String> getenv(String name) {
            return base.getenv(name);
        }

        @Override
        public String machineArch() {
            return base.machineArch();
        }

        @Override
        public java.time.Clock clock() {
            return base.clock();
        }

        @Override
        public String hostName() {
            return "builder-1";
        }

        @Override
        public java.util.Optional<java.io.PrintWriter> terminal() {
            return java.util.Optional.empty();
        }

        @Override
        public Runnable onExit(String name, Runnable action) {
            exitActions.put(name, action);
            exitLog.add("registered " + name + " with " + docker.containers.keySet());
            return () -> exitActions.remove(name);
        }
    };

    private void run() throws IOException {
        Path src = Files.writeString(tmp.resolve("zfs-2.1.11.tar.gz"), "tarball");
        new BuildRun(docker, reporter, env)
                .run(
                        "corezfs/devcontainer:flatcar-9999.0.0",
                        "6.1.0-56-cloud-amd64",
                        List.of(src),
                        "zfs-2.1.11",
                        1700000000L,
                        2,
                        tmp.resolve("build.log"),
                        tmp.resolve("out"));
    }

    @Test
    void runsWithoutNetworkLabelledAndRemovedAfterwards() throws IOException {
        run();
        Docker.ContainerSpec spec = docker.lastSpec;
        assertEquals("none", spec.network());
        assertTrue(spec.labels().containsKey(BuildRun.LABEL));
        assertEquals("6.1.0-56-cloud-amd64", spec.env().get("KERNEL"));
        assertEquals("1700000000", spec.env().get("SOURCE_DATE_EPOCH"));
        assertTrue(docker.containers.isEmpty(), "the container is gone");
        assertEquals("zfs", Files.readString(tmp.resolve("out/destdir/usr/sbin/zfs")));
        assertEquals(List.of("configuring", "done"), told, "progress lines reach the user, the rest only the log");
        assertEquals(3, Files.readAllLines(tmp.resolve("build.log")).size());
    }

    @Test
    void anEndedProcessStillRemovesItsContainerAndAFinishedRunWithdrawsThatAction() throws IOException {
        run();
        assertEquals(1, exitLog.size(), "one exit action per run");
        assertTrue(exitActions.isEmpty(), "withdrawn once the container is gone: " + exitActions);

        // As if the JVM were ended right after the container was made: the action removes that container.
        List<String> byTheAction = new ArrayList<>();
        Environment endsAtOnce = new Environment() {
            public java.util.Optional<String> getenv(String n) {
                return env.getenv(n);
            }

            public String machineArch() {
                return env.machineArch();
            }

            public java.time.Clock clock() {
                return env.clock();
            }

            public String hostName() {
                return env.hostName();
            }

            public java.util.Optional<java.io.PrintWriter> terminal() {
                return env.terminal();
            }

            public Runnable onExit(String name, Runnable action) {
                int before = docker.calls.size();
                action.run();
                byTheAction.addAll(docker.calls.subList(before, docker.calls.size()));
                return () -> {};
            }
        };
        new BuildRun(docker, reporter, endsAtOnce)
                .run(
                        "img",
                        "k",
                        List.of(tmp.resolve("zfs-2.1.11.tar.gz")),
                        "zfs",
                        1L,
                        1,
                        tmp.resolve("build2.log"),
                        tmp.resolve("out2"));
        assertEquals(1, byTheAction.size(), byTheAction.toString());
        assertTrue(byTheAction.get(0).startsWith("remove "), byTheAction.toString());
    }

    @Test
    void sourcesAndScriptAreCopiedInNotMounted() throws IOException {
        run();
        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream t = new TarArchiveInputStream(new ByteArrayInputStream(docker.copiedIn))) {
            TarArchiveEntry e;
            while ((e = t.getNextEntry()) != null) {
                names.add(e.getName());
            }
        }
        assertEquals(List.of("corezfs/in/build-zfs.sh", "corezfs/in/zfs.tar.gz"), names);
        try (var s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith("inputs")), "the inputs tar is deleted");
        }
    }

    @Test
    void leftoversOfAnEarlierRunAreRemovedFirst() throws IOException {
        docker.containers.put("stale", Map.of(BuildRun.LABEL, "old"));
        docker.containers.put("unrelated", Map.of("other", "x"));
        run();
        assertFalse(docker.containers.containsKey("stale"));
        assertTrue(docker.containers.containsKey("unrelated"), "only corezfs's containers are touched");
    }

    @Test
    void aContainerOfABuildStillRunningBesideThisOneIsLeftAlone() throws IOException {
        String dead = BuildRun.owner("builder-1").replaceFirst(":[0-9]+:", ":999999999:");
        docker.containers.put("mine-earlier", Map.of(BuildRun.LABEL, "old", BuildRun.OWNER_LABEL, dead));
        docker.containers.put(
                "running-now", Map.of(BuildRun.LABEL, "other", BuildRun.OWNER_LABEL, BuildRun.owner("builder-1")));
        docker.containers.put("other-host", Map.of(BuildRun.LABEL, "x", BuildRun.OWNER_LABEL, "elsewhere:1:2"));
        run();
        assertFalse(docker.containers.containsKey("mine-earlier"), "its process is gone");
        assertTrue(docker.containers.containsKey("running-now"), "a live build keeps its container");
        assertTrue(docker.containers.containsKey("other-host"), "another host's build is not judged from here");
        assertEquals(BuildRun.owner("builder-1"), docker.lastSpec.labels().get(BuildRun.OWNER_LABEL));
    }

    @Test
    void aFailedCompileIsExit6WithTheLogAndItsLastLines() {
        docker.exitCode = 2;
        docker.output = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            docker.output.add("line " + i);
        }
        CorezfsException e = assertThrows(CorezfsException.class, this::run);
        assertEquals(ExitCode.BUILD_FAILED, e.exitCode());
        assertTrue(e.getMessage().contains(tmp.resolve("build.log").toString()));
        assertTrue(
                e.getMessage().contains("line 49")
                        && e.getMessage().contains("line 20")
                        && !e.getMessage().contains("line 19\n"),
                e.getMessage());
        assertTrue(docker.containers.isEmpty(), "removed on failure too");
        assertFalse(Files.exists(tmp.resolve("out")), "no output from a failed build");
    }

    @Test
    void dockerNotRunningIsAPreconditionFailure() {
        docker.running = false;
        CorezfsException e = assertThrows(CorezfsException.class, this::run);
        assertEquals(ExitCode.PRECONDITION, e.exitCode());
        assertFalse(docker.calls.contains("create"));
    }

    @Test
    void hostileBuildOutputIsRefused() {
        docker.outTar = FakeDocker.outputTar(Map.of("out/destdir/x", "x", "out/../../escape", "x"));
        CorezfsException e = assertThrows(CorezfsException.class, this::run);
        assertEquals(ExitCode.BUILD_FAILED, e.exitCode());
        assertFalse(Files.exists(tmp.getParent().resolve("escape")));
        assertTrue(docker.containers.isEmpty());
    }

    @Test
    void aHardlinkThroughALinkToOutsideIsRefusedAndNothingOutsideIsTouched() throws IOException {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "host file");
        byte[] tar = tar(t -> {
            file(t, "out/destdir/x", "x");
            link(t, "out/destdir/s", outside.toString(), TarConstants.LF_SYMLINK);
            link(t, "out/destdir/h", "out/destdir/s/secret", TarConstants.LF_LINK);
        });
        CorezfsException e = assertThrows(
                CorezfsException.class, () -> BuildRun.extract(new ByteArrayInputStream(tar), tmp.resolve("out")));
        assertEquals(ExitCode.BUILD_FAILED, e.exitCode());
        assertFalse(Files.exists(tmp.resolve("out/destdir/h"), LinkOption.NOFOLLOW_LINKS), "no link to a host file");
    }

    @Test
    void buildOutputNamesFollowTheArchiveRules() throws IOException {
        for (String bad : List.of(
                "out/destdir/./x",
                "out/destdir//x",
                "out/destdir/a\\b",
                "out/destdir/bell\u0007",
                "out/destdir/../../escape",
                "out//etc/x")) {
            byte[] tar = tar(t -> file(t, bad, "x"));
            Path out = tmp.resolve("out-" + Math.abs(bad.hashCode()));
            CorezfsException e = assertThrows(
                    CorezfsException.class, () -> BuildRun.extract(new ByteArrayInputStream(tar), out), bad);
            assertEquals(ExitCode.BUILD_FAILED, e.exitCode(), bad);
            assertTrue(e.getMessage().startsWith("build output has an unsafe entry"), e.getMessage());
        }
        // Two dots inside a name are just a name.
        byte[] tar = tar(t -> {
            file(t, "out/destdir/usr/share/doc/zfs..notes", "notes");
            link(t, "out/destdir/usr/share/doc/zfs.link", "out/destdir/usr/share/doc/zfs..notes", TarConstants.LF_LINK);
        });
        BuildRun.extract(new ByteArrayInputStream(tar), tmp.resolve("good"));
        assertEquals("notes", Files.readString(tmp.resolve("good/destdir/usr/share/doc/zfs.link")));
    }

    private interface TarBody {
        void write(TarArchiveOutputStream t) throws IOException;
    }

    private static byte[] tar(TarBody body) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(bos)) {
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            body.write(t);
        }
        return bos.toByteArray();
    }

    private static void file(TarArchiveOutputStream t, String name, String content) throws IOException {
        byte[] b = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(name, true);
        e.setSize(b.length);
        e.setMode(0644);
        t.putArchiveEntry(e);
        t.write(b);
        t.closeArchiveEntry();
    }

    private static void link(TarArchiveOutputStream t, String name, String target, byte type) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, type, true);
        e.setLinkName(target);
        t.putArchiveEntry(e);
        t.closeArchiveEntry();
    }
}
