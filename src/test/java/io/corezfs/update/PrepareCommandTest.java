package io.corezfs.update;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.archive.store.NodeStore;
import io.corezfs.system.LiveSystem;
import io.corezfs.testing.Cli;
import io.corezfs.testing.FakeProcessRunner;
import io.corezfs.testing.FakeProcessRunner.Script;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.StaticHttpServer;
import io.corezfs.testing.TarBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code corezfs prepare}: the next OS version's archive reaches the node store before the reboot, from a mirror
 * (the index names its kernel), never half; update_engine's status is read as untrusted input; {@code --check}
 * gates the reboot on what the store holds.
 */
class PrepareCommandTest {
    static final String NEXT = "9999.1.0";
    static final String NEXT_KERNEL = "6.12.95+deb12-cloud-amd64";
    static final String NEXT_NAME = "corezfs_amd64-usr_" + NEXT + "_stable_zfs-2.3.2.tar.gz";
    static final String RUNNING_NAME = "corezfs_amd64-usr_" + HostRoots.FLATCAR_VERSION + "_stable_zfs-2.1.11.tar.gz";

    @TempDir
    Path tmp;

    Path root;
    Path work;
    Path served;
    FakeProcessRunner processes;

    @BeforeEach
    void nodeAndMirror() throws IOException {
        root = HostRoots.flatcar(tmp.resolve("root")).root();
        work = Files.createDirectories(tmp.resolve("work"));
        served = Files.createDirectories(tmp.resolve("served"));
        TarBuilder.typicalTree()
                .osVersion(NEXT)
                .kernel(NEXT_KERNEL)
                .zfs("2.3.2")
                .writeTo(served.resolve(NEXT_NAME));
        Cli.Run pub = new Cli(work).run("publish", served.toString());
        assertEquals(0, pub.exitCode(), pub::toString);
        processes = new FakeProcessRunner();
    }

    private Cli.Run run(String... args) {
        return new Cli(work).live(root, LiveSystem.over(processes)).run(args);
    }

    private void config(String text) throws IOException {
        Files.createDirectories(root.resolve("etc/corezfs"));
        Files.writeString(root.resolve("etc/corezfs/corezfs.conf"), text);
    }

    private void updateEngineSays(String stdout) {
        processes.on(UpdateEngine.STATUS_COMMAND, Script.exits(0, stdout, "I1129 update_engine_client.cc: Querying\n"));
    }

    private List<String> store() throws IOException {
        Path dir = root.resolve(NodeStore.DIR);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void oneLine(int code, Cli.Run r, String... mentions) {
        assertEquals(code, r.exitCode(), r::toString);
        List<String> errors =
                r.err().lines().filter(l -> l.startsWith("corezfs:")).toList();
        assertEquals(1, errors.size(), "one error line: " + r);
        for (String m : mentions) {
            assertTrue(errors.get(0).contains(m), "names " + m + ": " + r);
        }
    }

    @Test
    void preparesTheNextVersionFromAFileMirrorWithTheKernelItsIndexNames() throws IOException {
        Cli.Run r =
                run("prepare", "--os-version", NEXT, "--mirror", served.toUri().toString());
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(
                "prepared " + NEXT_NAME + " for flatcar " + NEXT + " (kernel " + NEXT_KERNEL + ") from "
                        + served.toUri(),
                r.out().strip());
        assertEquals(List.of(NEXT_NAME), store(), "only the archive, under its real name");
    }

    @Test
    void triesTheConfiguredMirrorsInOrderOverHttp() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertEquals(0, new Cli(work).run("publish", empty.toString()).exitCode());
        try (StaticHttpServer http = new StaticHttpServer(served)) {
            config("MIRRORS=\"" + empty.toUri() + " " + http.base() + "\"\n");
            Cli.Run r = run("prepare", "--os-version", NEXT);
            assertEquals(0, r.exitCode(), r::toString);
            assertTrue(r.out().contains("from " + http.base()), r::toString);
            assertEquals(List.of(NEXT_NAME), store());
        }
    }

    @Test
    void anArchiveAlreadyInTheStoreIsNotFetchedAgain() throws IOException {
        try (StaticHttpServer http = new StaticHttpServer(served)) {
            assertEquals(
                    0,
                    run("prepare", "--os-version", NEXT, "--mirror", http.base().toString())
                            .exitCode());
            long before = http.requests.size();
            Cli.Run again =
                    run("prepare", "--os-version", NEXT, "--mirror", http.base().toString());
            assertEquals(0, again.exitCode(), again::toString);
            assertTrue(
                    again.out().startsWith("already prepared: " + NEXT_NAME + " for flatcar " + NEXT), again::toString);
            assertEquals(before, http.requests.size(), "no network for what the store holds");
        }
    }

    @Test
    void aMirrorWithoutTheVersionAndBuildNeverIsRefusedNamingWhereTheRuleCameFrom() throws IOException {
        config("# this node never compiles\nBUILD=never\n");
        Cli.Run r = run(
                "prepare",
                "--os-version",
                "9999.2.0",
                "--mirror",
                served.toUri().toString());
        oneLine(3, r, "9999.2.0", "BUILD=never", "/etc/corezfs/corezfs.conf:2", "--build prepare");
        assertEquals(List.of(), store(), "nothing left in the store");
    }

    @Test
    void theBuildFlagWinsOverTheFile() throws IOException {
        config("BUILD=prepare\n");
        Cli.Run r = run(
                "prepare",
                "--os-version",
                "9999.2.0",
                "--mirror",
                served.toUri().toString(),
                "--build",
                "never");
        oneLine(3, r, "BUILD=never", "(--build)");
    }

    @Test
    void noMirrorAtAllAndBuildNeverSaysSo() throws IOException {
        config("BUILD=never\n");
        oneLine(3, run("prepare", "--os-version", NEXT), "no mirror is configured");
    }

    @Test
    void anArchiveThatIsNotForTheVersionItIsListedAsIsNotKept() throws IOException {
        // The index says 9999.1.0; the manifest inside says otherwise: the manifest decides.
        Path lying = Files.createDirectories(tmp.resolve("lying"));
        TarBuilder.typicalTree()
                .osVersion(NEXT)
                .kernel(NEXT_KERNEL)
                .zfs("2.3.2")
                .writeTo(lying.resolve(NEXT_NAME));
        assertEquals(0, new Cli(work).run("publish", lying.toString()).exitCode());
        String index = Files.readString(lying.resolve("index.json")).replace(NEXT_KERNEL, "6.12.96-other");
        Files.writeString(lying.resolve("index.json"), index);
        Cli.Run r =
                run("prepare", "--os-version", NEXT, "--mirror", lying.toUri().toString());
        oneLine(5, r, "6.12.96-other");
        assertEquals(List.of(), store());
    }

    @Test
    void aPendingUpdateIsPreparedFromUpdateEngine() throws IOException {
        updateEngineSays(
                "LAST_CHECKED_TIME=1764400000\nPROGRESS=0.000000\nCURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT\n"
                        + "NEW_VERSION=" + NEXT + "\nNEW_SIZE=123456\n");
        Cli.Run r = run(
                "prepare", "--from-update-engine", "--mirror", served.toUri().toString());
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("prepared " + NEXT_NAME), r::toString);
        assertEquals(List.of(List.of("update_engine_client", "-status")), processes.commands());
    }

    @ParameterizedTest
    @ValueSource(strings = {"UPDATE_STATUS_IDLE", "UPDATE_STATUS_DOWNLOADING", "UPDATE_STATUS_CHECKING_FOR_UPDATE"})
    void nothingPendingDoesNothingAndSaysSo(String op) throws IOException {
        updateEngineSays("CURRENT_OP=" + op + "\nNEW_VERSION=0.0.0\n");
        Cli.Run r = run(
                "prepare", "--from-update-engine", "--mirror", served.toUri().toString());
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(
                "no update pending (CURRENT_OP=" + op + "); nothing to prepare",
                r.out().strip());
        assertEquals(List.of(), store());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "CURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT\nNEW_VERSION=../../etc\n",
                "CURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT\nNEW_VERSION=\n",
                "CURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT\n",
                "CURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT\nNEW_VERSION=9999.1.0 ; rm -rf /\n",
                "CURRENT_OP=UPDATE_STATUS_IDLE\nCURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT\nNEW_VERSION=9999.1.0\n",
                "<html>502 Bad Gateway</html>\n",
                "CURRENT_OP=\"UPDATE_STATUS_UPDATED_NEED_REBOOT\nNEW_VERSION=9999.1.0\n",
                "CURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT\u0000\nNEW_VERSION=9999.1.0\n"
            })
    void garbledOrHostileStatusIsOneLineAndPreparesNothing(String stdout) throws IOException {
        updateEngineSays(stdout);
        Cli.Run r = run(
                "prepare", "--from-update-engine", "--mirror", served.toUri().toString());
        oneLine(3, r, "update_engine_client -status");
        assertEquals(List.of(), store());
        assertFalse(r.err().contains("\u0000"), r::toString);
    }

    @Test
    void updateEngineThatFailsOrIsMissingIsAClearError() {
        Cli.Run missing = run("prepare", "--from-update-engine");
        oneLine(3, missing, "update_engine_client is not on PATH", "--os-version");
        processes.on(UpdateEngine.STATUS_COMMAND, Script.exits(1, "", "cannot connect to D-Bus\n"));
        oneLine(3, run("prepare", "--from-update-engine"), "cannot connect to D-Bus");
    }

    @Test
    void checkPassesOnlyWithTheArchiveForThePendingVersion() {
        updateEngineSays("CURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT\nNEW_VERSION=" + NEXT + "\n");
        Cli.Run before = run("prepare", "--check");
        oneLine(3, before, NEXT, "corezfs prepare --os-version " + NEXT);
        assertEquals("", before.out(), "the verdict is the error line alone");
        assertEquals(
                0,
                run("prepare", "--os-version", NEXT, "--mirror", served.toUri().toString())
                        .exitCode());
        Cli.Run after = run("prepare", "--check");
        assertEquals(0, after.exitCode(), after::toString);
        assertTrue(after.out().startsWith("ready: " + NEXT_NAME), after::toString);
    }

    @Test
    void checkWithNothingPendingWantsTheRunningVersion() throws IOException {
        updateEngineSays("CURRENT_OP=UPDATE_STATUS_IDLE\nNEW_VERSION=0.0.0\n");
        oneLine(3, run("prepare", "--check"), "no update pending", HostRoots.FLATCAR_VERSION, HostRoots.KERNEL);
        Path dir = Files.createDirectories(root.resolve(NodeStore.DIR));
        TarBuilder.typicalTree().writeTo(dir.resolve(RUNNING_NAME));
        Cli.Run r = run("prepare", "--check");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("no update pending"), r::toString);
    }

    @Test
    void checkForANamedVersionNeedsNoUpdateEngine() {
        oneLine(3, run("prepare", "--check", "--os-version", NEXT), NEXT);
        assertEquals(
                0,
                run("prepare", "--os-version", NEXT, "--mirror", served.toUri().toString())
                        .exitCode());
        assertEquals(0, run("prepare", "--check", "--os-version", NEXT).exitCode());
        assertEquals(List.of(), processes.commands(), "update_engine was never asked");
    }

    @ParameterizedTest
    @ValueSource(strings = {"BUILD=sometimes\n", "MIRRORS=ftp://x/\n", "KEEP=0\n", "garbage line\n", "NOPE=1\n"})
    void aBrokenConfigIsOneLineExit2ForPrepare(String text) throws IOException {
        config(text);
        oneLine(2, run("prepare", "--os-version", NEXT), "/etc/corezfs/corezfs.conf");
        oneLine(2, run("prepare", "--check", "--os-version", NEXT), "/etc/corezfs/corezfs.conf");
    }

    @Test
    void usageErrors() {
        oneLine(2, run("prepare"), "--os-version");
        oneLine(2, run("prepare", "--os-version", NEXT, "--from-update-engine"), "--os-version");
        oneLine(2, run("prepare", "--os-version", NEXT, "--build", "always"), "--build");
        oneLine(2, run("prepare", "--os-version", "../x"), "--os-version");
    }

    @Test
    void requireUpdateTurnsTheCheckIntoKuredsRebootSentinel() throws IOException {
        Path dir = Files.createDirectories(root.resolve(NodeStore.DIR));
        TarBuilder.typicalTree().writeTo(dir.resolve(RUNNING_NAME));
        updateEngineSays("CURRENT_OP=UPDATE_STATUS_IDLE\nNEW_VERSION=0.0.0\n");
        assertEquals(0, run("prepare", "--check").exitCode(), "the plain gate lets an idle node reboot");
        oneLine(3, run("prepare", "--check", "--require-update"), "no update pending");

        updateEngineSays("CURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT\nNEW_VERSION=" + NEXT + "\n");
        oneLine(3, run("prepare", "--check", "--require-update"), "corezfs prepare --os-version " + NEXT);
        assertEquals(
                0,
                run(
                                "prepare",
                                "--from-update-engine",
                                "--mirror",
                                served.toUri().toString())
                        .exitCode());
        Cli.Run ready = run("prepare", "--check", "--require-update");
        assertEquals(0, ready.exitCode(), ready::toString);
        oneLine(2, run("prepare", "--os-version", NEXT, "--require-update"), "--require-update");
    }

    @Test
    void anUnreachableMirrorIsPassedOverForTheNextOne() throws IOException {
        java.net.URI dead;
        try (StaticHttpServer gone = new StaticHttpServer(served)) {
            dead = gone.base();
        }
        config("MIRRORS=\"" + dead + " " + served.toUri() + "\"\n");
        Cli.Run r = run("prepare", "--os-version", NEXT);
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.err().contains("mirror " + dead + " passed over"), r::toString);
        assertEquals(List.of(NEXT_NAME), store());
    }

    @Test
    void anArchiveWhoseHashDiffersFromTheIndexIsRefusedOverHttpAndNothingIsBuilt() throws IOException {
        byte[] bytes = Files.readAllBytes(served.resolve(NEXT_NAME));
        bytes[bytes.length / 2] ^= 1;
        Files.write(served.resolve(NEXT_NAME), bytes);
        try (StaticHttpServer http = new StaticHttpServer(served)) {
            Cli.Run r =
                    run("prepare", "--os-version", NEXT, "--mirror", http.base().toString(), "--build", "prepare");
            oneLine(5, r, "sha256");
            assertFalse(r.err().contains("Docker"), "a refused archive is not papered over with a build: " + r);
        }
        assertEquals(List.of(), store(), "nothing partial or unverified in the store");
    }
}
