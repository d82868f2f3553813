package io.corezfs.build;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Reporter;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The build container's life: isolated, labelled, fed, followed, emptied and always removed. */
class BuildRunTest {
    @TempDir
    Path tmp;
    final FakeDocker docker = new FakeDocker();
    final List<String> told = new ArrayList<>();
    final Reporter reporter = new Reporter() {
        @Override
        public void info(String m) {
            told.add(m);
        }

        @Override
        public void warn(String m) {
            told.add("warn " + m);
        }
    };

    private void run() throws IOException {
        Path src = Files.writeString(tmp.resolve("zfs-2.1.11.tar.gz"), "tarball");
        new BuildRun(docker, reporter).run("corezfs/devcontainer:flatcar-9999.0.0", "6.1.0-56-cloud-amd64",
                List.of(src), "zfs-2.1.11", 1700000000L, 2, tmp.resolve("build.log"), tmp.resolve("out"));
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
        String dead = BuildRun.currentOwner().replaceFirst(":[0-9]+:", ":999999999:");
        docker.containers.put("mine-earlier", Map.of(BuildRun.LABEL, "old", BuildRun.OWNER_LABEL, dead));
        docker.containers.put("running-now", Map.of(BuildRun.LABEL, "other", BuildRun.OWNER_LABEL, BuildRun.currentOwner()));
        docker.containers.put("other-host", Map.of(BuildRun.LABEL, "x", BuildRun.OWNER_LABEL, "elsewhere:1:2"));
        run();
        assertFalse(docker.containers.containsKey("mine-earlier"), "its process is gone");
        assertTrue(docker.containers.containsKey("running-now"), "a live build keeps its container");
        assertTrue(docker.containers.containsKey("other-host"), "another host's build is not judged from here");
        assertEquals(BuildRun.currentOwner(), docker.lastSpec.labels().get(BuildRun.OWNER_LABEL));
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
        assertTrue(e.getMessage().contains("line 49") && e.getMessage().contains("line 20") && !e.getMessage().contains("line 19\n"),
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
}
