package io.corezfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.archive.ArchiveLimits;
import io.corezfs.docker.Docker;
import io.corezfs.host.Environment;
import io.corezfs.install.FileOps;
import io.corezfs.testing.FakeDocker;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code corezfs build --os-version V} for a release the host does not run: its kernel comes from V's developer
 * image (the one tree under /usr/lib/modules with build/Makefile), never from the running kernel. The builds here
 * stop at the OpenZFS source (an empty local mirror), which names the kernel the build was for.
 */
class BuildForOsVersionTest {
    private static final String IMAGE = "corezfs-dev:9999.1.0";
    private static final String NEXT = "6.12.95+deb12-cloud-amd64";

    @TempDir
    Path tmp;

    final FakeDocker docker = new FakeDocker();
    final List<String> imagesAskedFor = new ArrayList<>();

    record Run(int exitCode, String out, String err) {
        String all() {
            return out + err;
        }
    }

    @BeforeEach
    void image() throws IOException {
        docker.images.put(IMAGE, new Docker.Image("sha256:dev", Map.of()));
        Files.createDirectories(tmp.resolve("empty-mirror"));
    }

    private Run run(String... extra) {
        Context ctx = new Context(
                Environment.of(Map.of(), "x86_64", Clock.fixed(Instant.parse("2026-11-29T00:00:00Z"), ZoneOffset.UTC)),
                FileOps.DEFAULT,
                ArchiveLimits.DEFAULT,
                tmp,
                "0.0.0-test",
                () -> docker,
                (d, c, r, dl) -> {
                    throw new AssertionError("the developer container must not be fetched: --dev-image is given");
                },
                Context.Live.NONE);
        List<String> args = new ArrayList<>(List.of(
                "build",
                "--os-version",
                "9999.1.0",
                "--dev-image",
                IMAGE,
                "--zfs-mirror",
                tmp.resolve("empty-mirror").toUri().toString(),
                "--cache-dir",
                tmp.resolve("cache").toString()));
        args.addAll(List.of(extra));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(ctx, args.toArray(String[]::new));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void withoutKernelTheKernelIsReadFromTheReleasesDeveloperImage() {
        docker.output = List.of("corezfs-kernel: tree " + NEXT);

        Run r = run();

        assertEquals(3, r.exitCode(), r.all());
        assertTrue(r.all().contains("kernel " + NEXT + ": the one kernel tree in " + IMAGE), r.all());
        assertTrue(r.all().contains("none of the pinned OpenZFS releases that support kernel " + NEXT), r.all());
        assertEquals(IMAGE, docker.lastSpec.image());
        assertEquals("none", docker.lastSpec.network(), "listing the modules needs no network");
        assertTrue(docker.containers.isEmpty(), "the probe container is removed");
    }

    @Test
    void treesWithoutBuildMakefileDoNotCount() {
        docker.output = List.of("corezfs-kernel: other 6.1.0-56-cloud-amd64", "corezfs-kernel: tree " + NEXT);

        Run r = run();

        assertTrue(r.all().contains("support kernel " + NEXT), r.all());
    }

    @Test
    void anImageWithoutAKernelTreeIsAPreconditionFailureNamingWhatWasFound() {
        docker.output = List.of("corezfs-kernel: other 6.1.0-56-cloud-amd64");

        Run r = run();

        assertEquals(3, r.exitCode(), r.all());
        assertTrue(r.err().contains("no kernel tree with build/Makefile under /usr/lib/modules of " + IMAGE), r.err());
        assertTrue(r.err().contains("found only 6.1.0-56-cloud-amd64"), r.err());
    }

    @Test
    void anEmptyModulesFolderIsSaidSo() {
        docker.output = List.of();

        Run r = run();

        assertEquals(3, r.exitCode(), r.all());
        assertTrue(r.err().contains("(it is empty)"), r.err());
    }

    @Test
    void severalKernelTreesAreAPreconditionFailureListingThem() {
        docker.output = List.of("corezfs-kernel: tree 6.1.0-56-cloud-amd64", "corezfs-kernel: tree " + NEXT);

        Run r = run();

        assertEquals(3, r.exitCode(), r.all());
        assertTrue(r.err().contains("several kernel trees"), r.err());
        assertTrue(r.err().contains("6.1.0-56-cloud-amd64, " + NEXT), r.err());
        assertTrue(r.err().contains("--kernel"), r.err());
    }

    @Test
    void aListingThatFailsIsAPreconditionFailure() {
        docker.exitCode = 2;

        Run r = run();

        assertEquals(3, r.exitCode(), r.all());
        assertTrue(r.err().contains("cannot list /usr/lib/modules in " + IMAGE), r.err());
    }

    @Test
    void anExplicitKernelIsTakenAsGivenAndNoImageIsAsked() {
        docker.output = List.of("corezfs-kernel: tree " + NEXT);

        Run r = run("--kernel", "6.1.0-56-cloud-amd64");

        assertEquals(3, r.exitCode(), r.all());
        assertTrue(r.err().contains("support kernel 6.1.0-56-cloud-amd64"), r.err());
        assertFalse(docker.calls.contains("create"), "the source is checked before Docker: " + docker.calls);
    }

    @Test
    void aSigningKeyThatCannotBeUsedFailsBeforeAnyBuildStarts() throws IOException {
        java.nio.file.Path key = java.nio.file.Files.writeString(tmp.resolve("not-a-key"), "hello");
        java.nio.file.Files.setPosixFilePermissions(
                key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));

        Run r = run("--sign-key", key.toString());

        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().contains("not an OpenSSH private key"), r.err());
        assertTrue(docker.calls.isEmpty(), "nothing may start before the key is known to work: " + docker.calls);
    }
}
