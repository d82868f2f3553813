package io.corezfs.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corezfs.testing.Cli;
import io.corezfs.testing.HostRoots;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code corezfs status --root DIR --json} reads exactly the files each OS provides. */
class HostDetectionTest {
    @TempDir
    Path tmp;

    private JsonNode status(Path root, String... extra) throws Exception {
        String[] args = new String[4 + extra.length];
        args[0] = "status";
        args[1] = "--root";
        args[2] = root.toString();
        args[3] = "--json";
        System.arraycopy(extra, 0, args, 4, extra.length);
        Cli.Run r = new Cli(tmp).run(args);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("", r.err(), "stderr stays quiet when all is well");
        return new ObjectMapper().readTree(r.out());
    }

    private Cli.Run statusFails(Path root) {
        Cli.Run r = new Cli(tmp).run("status", "--root", root.toString(), "--json");
        assertEquals(3, r.exitCode(), r::toString);
        assertEquals("", r.out(), "no data on stdout when detection fails");
        assertEquals(1, r.err().strip().lines().count(), "one-line error: " + r.err());
        return r;
    }

    @Test
    void flatcarWithCoreosCompatLink() throws Exception {
        JsonNode s = status(HostRoots.flatcar(tmp.resolve("r")).root());
        assertEquals("flatcar", s.get("os").asText());
        assertEquals("3975.2.0", s.get("version").asText());
        assertEquals("amd64-usr", s.get("board").asText());
        assertEquals("stable", s.get("channel").asText());
        assertEquals("stable", s.get("updateChannel").asText());
        assertEquals(HostRoots.KERNEL, s.get("kernel").asText());
        assertEquals("x86_64", s.get("arch").asText());
        assertTrue(s.get("installed").isNull());
    }

    @Test
    void flatcarReleaseReachedOnlyThroughTheCoreosPath() throws Exception {
        // Flatcar >= 2317 where only the coreos path is looked at: the file there holds FLATCAR_* keys.
        Path root = HostRoots.at(tmp.resolve("r"))
                .fixture("flatcar-3975.2.0/release", "/usr/share/coreos/release")
                .fixture("flatcar-3975.2.0/update.conf", "/usr/share/coreos/update.conf")
                .kernel("6.6.95-flatcar")
                .root();
        JsonNode s = status(root);
        assertEquals("flatcar", s.get("os").asText());
        assertEquals("3975.2.0", s.get("version").asText());
        assertEquals("6.6.95-flatcar", s.get("kernel").asText());
    }

    @Test
    void earlyFlatcarWithCoreosKeysIsStillFlatcar() throws Exception {
        Path root = HostRoots.at(tmp.resolve("r"))
                .fixture("flatcar-2191.5.0/release", "/usr/share/coreos/release")
                .fixture("flatcar-2191.5.0/update.conf", "/usr/share/coreos/update.conf")
                .fixture("flatcar-2191.5.0/os-release", "/usr/lib/os-release")
                .symlink("/etc/os-release", "../usr/lib/os-release")
                .kernel("4.19.66-flatcar")
                .root();
        JsonNode s = status(root);
        assertEquals("flatcar", s.get("os").asText());
        assertEquals("2191.5.0", s.get("version").asText());
    }

    @Test
    void coreosContainerLinux() throws Exception {
        Path root = HostRoots.at(tmp.resolve("r"))
                .fixture("coreos-2512.3.0/release", "/usr/share/coreos/release")
                .fixture("coreos-2512.3.0/update.conf", "/usr/share/coreos/update.conf")
                .fixture("coreos-2512.3.0/os-release", "/usr/lib/os-release")
                .symlink("/etc/os-release", "../usr/lib/os-release")
                .kernel("4.19.123-coreos")
                .root();
        JsonNode s = status(root);
        assertEquals("coreos", s.get("os").asText());
        assertEquals("2512.3.0", s.get("version").asText());
        assertEquals("amd64-usr", s.get("board").asText());
        assertEquals("stable", s.get("channel").asText());
    }

    @Test
    void updateChannelFromEtcIsReportedApartFromTheReleaseChannel() throws Exception {
        Path root = HostRoots.flatcar(tmp.resolve("r"))
                .file("/etc/flatcar/update.conf", "# follow beta from now on\nGROUP=\"beta\"\n")
                .root();
        JsonNode s = status(root);
        assertEquals("stable", s.get("channel").asText());
        assertEquals("beta", s.get("updateChannel").asText());
    }

    @Test
    void legacyEtcCoreosUpdateConfIsHonoured() throws Exception {
        Path root = HostRoots.flatcar(tmp.resolve("r"))
                .file("/etc/coreos/update.conf", "GROUP=alpha\n")
                .root();
        assertEquals("alpha", status(root).get("updateChannel").asText());
    }

    @Test
    void ltsStreamChannel() throws Exception {
        Path root = HostRoots.flatcar(tmp.resolve("r"))
                .file("/usr/share/flatcar/update.conf", "GROUP=lts-2024\n")
                .root();
        assertEquals("lts-2024", status(root).get("channel").asText());
    }

    @Test
    void genericSystemdHostUsesOsRelease() throws Exception {
        Path root = HostRoots.at(tmp.resolve("r"))
                .fixture("debian-12/os-release", "/usr/lib/os-release")
                .symlink("/etc/os-release", "../usr/lib/os-release")
                .kernel("6.1.0-55-cloud-amd64")
                .root();
        JsonNode s = status(root);
        assertEquals("debian", s.get("os").asText());
        assertEquals("12", s.get("version").asText());
        assertEquals("amd64-usr", s.get("board").asText(), "board derives from the architecture");
        assertEquals("", s.get("channel").asText());
    }

    @Test
    void usrLibOsReleaseIsTheFallback() throws Exception {
        Path root = HostRoots.at(tmp.resolve("r"))
                .fixture("debian-12/os-release", "/usr/lib/os-release")
                .kernel("6.1.0-55-cloud-amd64")
                .root();
        assertEquals("debian", status(root).get("os").asText());
    }

    @Test
    void absoluteSymlinksResolveInsideTheRootNeverToTheMachine() throws Exception {
        // On the machine running the test, /usr/lib/os-release says something else entirely.
        Path root = HostRoots.at(tmp.resolve("r"))
                .file("/usr/lib/os-release", "ID=insideroot\nVERSION_ID=7\n")
                .symlink("/etc/os-release", "/usr/lib/os-release")
                .kernel("6.1.0-55-cloud-amd64")
                .root();
        JsonNode s = status(root);
        assertEquals("insideroot", s.get("os").asText());
        assertEquals("7", s.get("version").asText());
    }

    @Test
    void absoluteSymlinkedReleaseDirResolvesInsideTheRoot() throws Exception {
        Path root = HostRoots.at(tmp.resolve("r"))
                .fixture("flatcar-3975.2.0/release", "/usr/share/flatcar/release")
                .fixture("flatcar-3975.2.0/update.conf", "/usr/share/flatcar/update.conf")
                .symlink("/usr/share/coreos", "/usr/share/flatcar")
                .kernel(HostRoots.KERNEL)
                .root();
        Files.delete(root.resolve("usr/share/flatcar/release"));
        Files.move(root.resolve("usr/share/flatcar"), root.resolve("usr/share/real-flatcar"));
        HostRoots.at(root)
                .symlink("/usr/share/flatcar", "/../../../usr/share/real-flatcar")
                .fixture("flatcar-3975.2.0/release", "/usr/share/real-flatcar/release");
        JsonNode s = status(root);
        assertEquals("3975.2.0", s.get("version").asText(), "'..' above the root stays at the root");
    }

    @Test
    void dotDotInSymlinksCannotClimbOutOfTheRoot() throws Exception {
        Path root = HostRoots.at(tmp.resolve("a/b/r"))
                .symlink("/etc/os-release", "../../../../../../../../r-outside/os-release")
                .kernel("6.1.0-55-cloud-amd64")
                .root();
        HostRoots.at(tmp.resolve("r-outside")).file("/os-release", "ID=outside\nVERSION_ID=1\n");
        Cli.Run r = statusFails(root);
        assertTrue(r.err().contains("cannot identify the OS"), r::toString);
    }

    @Test
    void symlinkLoopIsAClearError() {
        Path root = HostRoots.at(tmp.resolve("r"))
                .symlink("/etc/os-release", "/etc/os-release")
                .kernel("6.1.0-55-cloud-amd64")
                .root();
        assertTrue(statusFails(root).err().contains("too many levels of symbolic links"));
    }

    @Test
    void kernelOverrideWins() throws Exception {
        JsonNode s = status(HostRoots.flatcar(tmp.resolve("r")).root(), "--kernel", "6.6.95-flatcar");
        assertEquals("6.6.95-flatcar", s.get("kernel").asText());
    }

    @Test
    void offlineImageRootTakesTheKernelFromItsOnlyModulesDir() throws Exception {
        Path root = HostRoots.flatcar(tmp.resolve("r")).root();
        Files.delete(root.resolve("proc/sys/kernel/osrelease"));
        Files.createDirectories(root.resolve("usr/lib/modules/6.6.95-flatcar/kernel"));
        assertEquals("6.6.95-flatcar", status(root).get("kernel").asText());
    }

    @Test
    void noKernelAnywhereAsksForKernelOption() throws Exception {
        Path root = HostRoots.flatcar(tmp.resolve("r")).root();
        Files.delete(root.resolve("proc/sys/kernel/osrelease"));
        assertTrue(statusFails(root).err().contains("pass --kernel"));
    }

    @Test
    void missingReleaseFilesNameWhatWasLookedFor() {
        Cli.Run r = statusFails(HostRoots.at(tmp.resolve("r")).kernel("6.1.0").root());
        assertTrue(r.err().contains("/usr/share/flatcar/release") && r.err().contains("/etc/os-release"), r::toString);
    }

    @Test
    void garbledReleaseFileNamesFileAndLine() {
        Path root = HostRoots.flatcar(tmp.resolve("r"))
                .file("/usr/share/flatcar/release", "FLATCAR_RELEASE_VERSION=3975.2.0\nthis is not a key value line\n")
                .root();
        Cli.Run r = statusFails(root);
        assertTrue(r.err().contains("usr/share/flatcar/release:2: garbled line"), r::toString);
    }

    @Test
    void missingVersionKeyIsNamed() {
        Path root = HostRoots.flatcar(tmp.resolve("r"))
                .file("/usr/share/flatcar/release", "FLATCAR_RELEASE_BOARD=amd64-usr\n")
                .root();
        assertTrue(statusFails(root).err().contains("missing FLATCAR_RELEASE_VERSION"));
    }

    @Test
    void malformedVersionIsRejected() {
        Path root = HostRoots.flatcar(tmp.resolve("r"))
                .file(
                        "/usr/share/flatcar/release",
                        "FLATCAR_RELEASE_VERSION=../../x\nFLATCAR_RELEASE_BOARD=amd64-usr\n")
                .root();
        assertTrue(statusFails(root).err().contains("malformed value"));
    }

    @Test
    void humanStatusIsReadable() {
        Cli.Run r = new Cli(tmp)
                .run(
                        "status",
                        "--root",
                        HostRoots.flatcar(tmp.resolve("r")).root().toString());
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("OS:        flatcar 3975.2.0 (amd64-usr)"), r::toString);
        assertTrue(r.out().contains("Installed: nothing"), r::toString);
    }
}
