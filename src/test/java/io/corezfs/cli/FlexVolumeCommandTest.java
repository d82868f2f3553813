package io.corezfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corezfs.system.LiveSystem;
import io.corezfs.testing.Cli;
import io.corezfs.testing.FakeZfsHost;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code corezfs flexvolume} as the kubelet calls it: {@code init}, {@code mount DIR JSON}, {@code unmount DIR} and
 * "Not supported" for every attach verb, each answered with one JSON object on stdout and nothing on stderr. A pod's
 * options are untrusted: a name or value outside the rules is a Failure before any program runs. Data is never
 * destroyed. {@code flexvolume install} writes the driver where the kubelet looks and the parent it uses.
 */
class FlexVolumeCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String POD_DIR = "/var/lib/kubelet/pods/7f3c2a9e-1d2b-4c5d-9e8f-0a1b2c3d4e5f/volumes/corezfs~zfs/data";
    static final String OTHER_POD_DIR =
            "/var/lib/kubelet/pods/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0/volumes/corezfs~zfs/data";

    @TempDir
    Path tmp;

    Path root;
    Path work;
    FakeZfsHost host;

    @BeforeEach
    void node() throws IOException {
        root = Files.createDirectories(tmp.resolve("root"));
        work = Files.createDirectories(tmp.resolve("work"));
        host = new FakeZfsHost(root).dataset("tank/kube", "/tank/kube");
        Files.createDirectories(root.resolve("etc/corezfs"));
        Files.writeString(root.resolve("etc/corezfs/flexvolume.conf"), "PARENT=tank/kube\n");
    }

    private Cli.Run driver(String... args) {
        String[] argv = Stream.concat(Stream.of("flexvolume"), Stream.of(args)).toArray(String[]::new);
        return new Cli(work).live(root, LiveSystem.over(host)).run(argv);
    }

    /** The options the kubelet 1.20 passes for a pod's flexVolume, with the pod's own {@code options} merged in. */
    static String kubeletJson(Map<String, String> podOptions) {
        ObjectNode o = JSON.createObjectNode();
        o.put("kubernetes.io/fsType", "");
        o.put("kubernetes.io/readwrite", "rw");
        o.put("kubernetes.io/pvOrVolumeName", "data");
        o.put("kubernetes.io/pod.name", "writer");
        o.put("kubernetes.io/pod.namespace", "default");
        o.put("kubernetes.io/pod.uid", "7f3c2a9e-1d2b-4c5d-9e8f-0a1b2c3d4e5f");
        o.put("kubernetes.io/serviceAccount.name", "default");
        podOptions.forEach(o::put);
        return o.toString();
    }

    static String pod(String dataset) {
        return kubeletJson(Map.of("dataset", dataset, "quota", "64M", "compression", "lz4"));
    }

    /** The reply: exactly one JSON object on one line of stdout, and nothing on stderr. */
    static JsonNode reply(Cli.Run r) throws IOException {
        assertEquals("", r.err(), r::toString);
        assertEquals(1, r.out().lines().count(), r::toString);
        JsonNode j = JSON.readTree(r.out());
        assertTrue(j.isObject(), r::toString);
        assertTrue(j.path("status").isTextual(), r::toString);
        return j;
    }

    @Test
    void initAnswersSuccessWithoutAttach() throws IOException {
        Cli.Run r = driver("init");
        JsonNode j = reply(r);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("Success", j.get("status").asText());
        assertFalse(j.path("capabilities").path("attach").asBoolean(true), r::toString);
        assertTrue(j.path("capabilities").path("attach").isBoolean(), r::toString);
        assertEquals(List.of(), host.calls());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "attach",
                "detach",
                "waitforattach",
                "isattached",
                "mountdevice",
                "unmountdevice",
                "getvolumename",
                "expandvolume",
                "expandfs",
                "provision"
            })
    void everyOtherVerbIsNotSupported(String verb) throws IOException {
        Cli.Run r = driver(verb, "{\"kubernetes.io/fsType\":\"\"}", "node-1");
        JsonNode j = reply(r);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("Not supported", j.get("status").asText());
        assertTrue(j.get("message").asText().contains(verb), r::toString);
        assertEquals(List.of(), host.calls());
    }

    @Test
    void mountCreatesTheDatasetWithThePodsPropertiesAndBindMountsIt() throws IOException {
        Cli.Run r = driver("mount", POD_DIR, pod("data"));
        JsonNode j = reply(r);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("Success", j.get("status").asText(), r::toString);
        assertTrue(host.exists("tank/kube/data"));
        assertEquals("64M", host.properties("tank/kube/data").get("quota"));
        assertEquals("lz4", host.properties("tank/kube/data").get("compression"));
        assertTrue(
                host.calls()
                        .contains(
                                List.of("zfs", "create", "-o", "quota=64M", "-o", "compression=lz4", "tank/kube/data")),
                host.calls()::toString);
        assertTrue(
                host.calls().contains(List.of("mount", "--bind", "/tank/kube/data", POD_DIR)), host.calls()::toString);
        assertTrue(Files.isDirectory(root.resolve(POD_DIR.substring(1))));
        assertTrue(host.mountTable().contains(" " + POD_DIR + " rw,"), host::mountTable);
    }

    @Test
    void reservationIsAppliedWhenAsked() throws IOException {
        Cli.Run r =
                driver("mount", POD_DIR, kubeletJson(Map.of("dataset", "db", "quota", "1.5G", "reservation", "512M")));
        assertEquals("Success", reply(r).get("status").asText(), r::toString);
        assertEquals("512M", host.properties("tank/kube/db").get("reservation"));
        assertEquals("1.5G", host.properties("tank/kube/db").get("quota"));
    }

    @Test
    void mountingTheSameDirectoryAgainChangesNothing() throws IOException {
        assertEquals(0, driver("mount", POD_DIR, pod("data")).exitCode());
        int before = host.calls().size();
        Cli.Run again = driver("mount", POD_DIR, pod("data"));
        assertEquals("Success", reply(again).get("status").asText(), again::toString);
        assertEquals(0, again.exitCode());
        assertEquals(before, host.calls().size(), () -> "no program ran again: " + host.calls());
        assertEquals(
                1, host.mountTable().lines().filter(l -> l.contains(POD_DIR)).count(), host::mountTable);
    }

    @Test
    void aSecondPodMountsTheSameDatasetWhichIsReusedWithItsPropertiesApplied() throws IOException {
        assertEquals(0, driver("mount", POD_DIR, pod("data")).exitCode());
        Cli.Run second = driver(
                "mount", OTHER_POD_DIR, kubeletJson(Map.of("dataset", "data", "quota", "128M", "compression", "zstd")));
        JsonNode j = reply(second);
        assertEquals("Success", j.get("status").asText(), second::toString);
        assertTrue(j.get("message").asText().startsWith("reused tank/kube/data"), second::toString);
        assertEquals(
                1, host.calls().stream().filter(c -> c.get(1).equals("create")).count(), host.calls()::toString);
        assertTrue(
                host.calls().contains(List.of("zfs", "set", "quota=128M", "compression=zstd", "tank/kube/data")),
                host.calls()::toString);
        assertEquals("128M", host.properties("tank/kube/data").get("quota"));
        assertTrue(host.mountTable().contains(" " + POD_DIR + " "), host::mountTable);
        assertTrue(host.mountTable().contains(" " + OTHER_POD_DIR + " "), host::mountTable);
    }

    @Test
    void aDatasetCreatedMeanwhileByAnotherMountIsReused() throws IOException {
        host.failing("zfs create", "cannot create 'tank/kube/data': dataset already exists");
        host.dataset("tank/kube/data", "/tank/kube/data");
        // The first look found nothing: the other pod's create won the race between the look and this create.
        Cli.Run r = driver("mount", POD_DIR, pod("data"));
        assertEquals("Success", reply(r).get("status").asText(), r::toString);
        assertEquals("64M", host.properties("tank/kube/data").get("quota"));
    }

    @Test
    void aDatasetMountedMeanwhileByAnotherMountIsUsedNotAFailure() throws IOException {
        // Two first mounts at once: the other one's create mounted the dataset between this look and this zfs mount.
        host.dataset("tank/kube/data", "/tank/kube/data").mountedMeanwhile("tank/kube/data");
        Cli.Run r = driver("mount", POD_DIR, pod("data"));
        assertEquals("Success", reply(r).get("status").asText(), r::toString);
        assertTrue(host.mountTable().contains(" " + POD_DIR + " "), host::mountTable);
    }

    @Test
    void aZfsMountThatFailsAndLeavesTheDatasetUnmountedIsAFailure() throws IOException {
        host.dataset("tank/kube/data", "/tank/kube/data").failing("zfs mount", "cannot mount: I/O error");
        host.mountedMeanwhile("tank/kube/data");
        Cli.Run r = driver("mount", POD_DIR, pod("data"));
        assertEquals("Failure", reply(r).get("status").asText(), r::toString);
        assertTrue(reply(r).get("message").asText().contains("I/O error"), r::toString);
        assertFalse(host.mountTable().contains(POD_DIR), host::mountTable);
    }

    @Test
    void unmountUnmountsAndKeepsTheDataset() throws IOException {
        assertEquals(0, driver("mount", POD_DIR, pod("data")).exitCode());
        Cli.Run r = driver("unmount", POD_DIR);
        JsonNode j = reply(r);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("Success", j.get("status").asText(), r::toString);
        assertFalse(host.mountTable().contains(POD_DIR), host::mountTable);
        assertTrue(host.exists("tank/kube/data"));
        assertEquals("64M", host.properties("tank/kube/data").get("quota"));
        assertTrue(
                host.calls().stream().noneMatch(c -> c.contains("destroy") || c.contains("rm")),
                host.calls()::toString);

        Cli.Run again = driver("unmount", POD_DIR);
        assertEquals("Success", reply(again).get("status").asText(), again::toString);
        assertEquals(0, again.exitCode());
    }

    @Test
    void aReadOnlyVolumeIsRemountedReadOnly() throws IOException {
        String json = kubeletJson(Map.of("dataset", "data", "quota", "64M")).replace("\"rw\"", "\"ro\"");
        Cli.Run r = driver("mount", POD_DIR, json);
        assertEquals("Success", reply(r).get("status").asText(), r::toString);
        assertTrue(host.calls().contains(List.of("mount", "-o", "remount,bind,ro", POD_DIR)), host.calls()::toString);
        assertTrue(host.mountTable().contains(" " + POD_DIR + " ro,"), host::mountTable);
    }

    /**
     * Names a pod may not give: anything that is not exactly one ZFS name component of the safe characters, whatever
     * it would have meant to zfs (a path out of the parent, a snapshot, a bookmark, an option, an empty name).
     */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                ".",
                "..",
                "../etc",
                "a/b",
                "/tank",
                "tank/kube/../other",
                "data@snap",
                "data#mark",
                "-o",
                "-rf",
                "_hidden",
                ".hidden",
                "a b",
                "a\nb",
                "a\tb",
                "%recv",
                "data$(reboot)",
                "dätä",
                "data;rm",
                "a*",
                "x\u0000y"
            })
    void hostileDatasetNamesFailBeforeAnyProgramRuns(String name) throws IOException {
        assertRefused(kubeletJson(Map.of("dataset", name, "quota", "64M")), "option dataset");
    }

    @Test
    void aNameLongerThanZfsAllowsFails() throws IOException {
        assertRefused(kubeletJson(Map.of("dataset", "d".repeat(250), "quota", "64M")), "longer than");
        assertRefused(kubeletJson(Map.of("dataset", "d".repeat(256), "quota", "64M")), "option dataset");
    }

    static Stream<Arguments> badValues() {
        return Stream.of(
                Arguments.of(Map.of("dataset", "data"), "quota are required"),
                Arguments.of(Map.of("quota", "64M"), "required"),
                Arguments.of(Map.of("dataset", "data", "quota", ""), "option quota"),
                Arguments.of(Map.of("dataset", "data", "quota", "0"), "option quota"),
                Arguments.of(Map.of("dataset", "data", "quota", "0M"), "option quota"),
                Arguments.of(Map.of("dataset", "data", "quota", "none"), "option quota"),
                Arguments.of(Map.of("dataset", "data", "quota", "-1"), "option quota"),
                Arguments.of(Map.of("dataset", "data", "quota", "64X"), "option quota"),
                Arguments.of(Map.of("dataset", "data", "quota", "64 M"), "option quota"),
                Arguments.of(Map.of("dataset", "data", "quota", "1e9"), "option quota"),
                Arguments.of(Map.of("dataset", "data", "quota", "64M -o mountpoint=/"), "option quota"),
                Arguments.of(Map.of("dataset", "data", "quota", "16E"), "option quota"),
                Arguments.of(Map.of("dataset", "data", "quota", "99999999999999999999"), "option quota"),
                Arguments.of(Map.of("dataset", "data", "quota", "064M"), "option quota"),
                Arguments.of(Map.of("dataset", "data", "quota", "64M", "reservation", "lots"), "option reservation"),
                Arguments.of(Map.of("dataset", "data", "quota", "64M", "compression", "lz5"), "option compression"),
                Arguments.of(Map.of("dataset", "data", "quota", "64M", "compression", "LZ4"), "option compression"),
                Arguments.of(Map.of("dataset", "data", "quota", "64M", "compression", "gzip-10"), "option compression"),
                Arguments.of(Map.of("dataset", "data", "quota", "64M", "quoat", "1G"), "unknown option 'quoat'"),
                Arguments.of(Map.of("dataset", "data", "quota", "64M", "mountpoint", "/"), "unknown option"),
                Arguments.of(Map.of("dataset", "data", "quota", "64M", "kubernetes.io/fsType", "ext4"), "fsType"),
                Arguments.of(Map.of("dataset", "data", "quota", "64M", "kubernetes.io/readwrite", "rx"), "readwrite"));
    }

    @ParameterizedTest
    @MethodSource("badValues")
    void badOptionValuesFailBeforeAnyProgramRuns(Map<String, String> options, String said) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        options.forEach(o::put);
        assertRefused(o.toString(), said);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "not json",
                "[]",
                "\"dataset\"",
                "{\"dataset\":\"data\",\"quota\":\"64M\"} {}",
                "{\"dataset\":\"data\",\"dataset\":\"other\",\"quota\":\"64M\"}",
                "{\"dataset\":[\"data\"],\"quota\":\"64M\"}",
                "{\"dataset\":\"data\",\"quota\":64}",
                "{\"dataset\":null,\"quota\":\"64M\"}"
            })
    void optionsThatAreNotOneObjectOfStringsFail(String json) throws IOException {
        assertRefused(json, "");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {"relative/dir", "/var/lib/kubelet/../../etc", "/var/lib//kubelet/x", "/", "/a/./b", "/a\nb"})
    void aMountDirectoryThatIsNotAnAbsoluteNormalPathFails(String dir) throws IOException {
        Cli.Run r = driver("mount", dir, pod("data"));
        JsonNode j = reply(r);
        assertEquals("Failure", j.get("status").asText(), r::toString);
        assertEquals(2, r.exitCode(), r::toString);
        assertEquals(List.of(), host.calls());
        Cli.Run u = driver("unmount", dir);
        assertEquals("Failure", reply(u).get("status").asText(), u::toString);
        assertEquals(List.of(), host.calls());
    }

    private void assertRefused(String json, String said) throws IOException {
        Cli.Run r = driver("mount", POD_DIR, json);
        JsonNode j = reply(r);
        assertEquals("Failure", j.get("status").asText(), r::toString);
        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(j.get("message").asText().contains(said), r::toString);
        assertEquals(List.of(), host.calls(), "nothing ran");
        assertFalse(Files.exists(root.resolve("var/lib/kubelet")), "nothing was created");
    }

    @Test
    void withoutItsConfigurationTheDriverFailsAndRunsNothing() throws IOException {
        Files.delete(root.resolve("etc/corezfs/flexvolume.conf"));
        Cli.Run r = driver("mount", POD_DIR, pod("data"));
        JsonNode j = reply(r);
        assertEquals("Failure", j.get("status").asText());
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(j.get("message").asText().contains("corezfs flexvolume install --parent"), r::toString);
        assertEquals(List.of(), host.calls());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "PARENT=tank/kube\nPARENT=tank/other\n",
                "PARENT=tank/kube\nQUOTA=1G\n",
                "PARENT=tank/../etc\n",
                "PARENT=\n",
                "# nothing\n",
                "PARENT=\"tank/kube\n"
            })
    void aConfigurationReadStrictlyNamesTheFileAndLine(String text) throws IOException {
        Files.writeString(root.resolve("etc/corezfs/flexvolume.conf"), text);
        Cli.Run r = driver("mount", POD_DIR, pod("data"));
        JsonNode j = reply(r);
        assertEquals("Failure", j.get("status").asText());
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(j.get("message").asText().startsWith("/etc/corezfs/flexvolume.conf"), r::toString);
        assertEquals(List.of(), host.calls());
    }

    @Test
    void aZfsFailureIsAFailureReplyWithZfsOwnWords() throws IOException {
        host.failing("zfs create", "cannot create 'tank/kube/data': out of space");
        Cli.Run r = driver("mount", POD_DIR, pod("data"));
        JsonNode j = reply(r);
        assertEquals("Failure", j.get("status").asText());
        assertEquals(1, r.exitCode(), r::toString);
        assertTrue(j.get("message").asText().contains("out of space"), r::toString);
        assertFalse(host.mountTable().contains(POD_DIR));
    }

    @Test
    void aMissingParentIsNamed() throws IOException {
        Files.writeString(root.resolve("etc/corezfs/flexvolume.conf"), "PARENT=tank/missing\n");
        Cli.Run r = driver("mount", POD_DIR, pod("data"));
        JsonNode j = reply(r);
        assertEquals("Failure", j.get("status").asText());
        assertTrue(j.get("message").asText().contains("zfs create tank/missing"), r::toString);
    }

    @Test
    void aParentWithoutAMountpointIsRefused() throws IOException {
        host.dataset("tank/legacy", "legacy");
        Files.writeString(root.resolve("etc/corezfs/flexvolume.conf"), "PARENT=tank/legacy\n");
        Cli.Run r = driver("mount", POD_DIR, pod("data"));
        JsonNode j = reply(r);
        assertEquals("Failure", j.get("status").asText());
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(j.get("message").asText().contains("mountpoint=legacy"), r::toString);
        assertFalse(host.mountTable().contains(POD_DIR));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "mount", "mount " + POD_DIR, "unmount", "init extra"})
    void aMalformedCallIsAFailureReplyNotAUsageText(String call) throws IOException {
        Cli.Run r = driver(call.isEmpty() ? new String[0] : call.split(" "));
        JsonNode j = reply(r);
        assertEquals("Failure", j.get("status").asText(), r::toString);
        assertEquals(2, r.exitCode(), r::toString);
    }

    @Test
    void helpTeachesTheCallingConventionInstallAndTheDeprecation() {
        Cli.Run r = new Cli(work).run("flexvolume", "--help");
        assertEquals(0, r.exitCode(), r::toString);
        for (String s : List.of(
                "init",
                "mount DIR JSON",
                "unmount DIR",
                "Not supported",
                "dataset and quota",
                "flexvolume install",
                "deprecated",
                "CSI")) {
            assertTrue(r.out().contains(s), () -> s + " in\n" + r.out());
        }
        Cli.Run i = new Cli(work).run("flexvolume", "install", "--help");
        assertEquals(0, i.exitCode(), i::toString);
        for (String s : List.of(
                "--parent",
                "--plugin-dir",
                "/opt/libexec/kubernetes/kubelet-plugins/volume/exec",
                "--volume-plugin-dir",
                "/etc/corezfs/flexvolume.conf",
                "--root",
                "--launcher")) {
            assertTrue(i.out().contains(s), () -> s + " in\n" + i.out());
        }
    }

    // --- install

    Cli.Run install(String... args) {
        String[] argv = Stream.concat(Stream.of("flexvolume", "install"), Stream.of(args))
                .toArray(String[]::new);
        return new Cli(work).live(root, LiveSystem.over(host)).run(argv);
    }

    @Test
    void installWritesTheDriverWhereTheKubeletLooksAndItsConfiguration() throws IOException {
        Files.delete(root.resolve("etc/corezfs/flexvolume.conf"));
        Path node = Files.createDirectories(tmp.resolve("node"));
        Cli.Run r = install("--parent", "tank/kube", "--root", node.toString());
        assertEquals(0, r.exitCode(), r::toString);
        Path driver = node.resolve("opt/libexec/kubernetes/kubelet-plugins/volume/exec/corezfs~zfs/zfs");
        assertTrue(Files.isRegularFile(driver), r::toString);
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(driver)));
        String script = Files.readString(driver);
        assertTrue(script.startsWith("#!/bin/sh\n"), script);
        assertTrue(script.contains("\nexec /opt/corezfs-tool/bin/corezfs flexvolume \"$@\"\n"), script);
        String conf = Files.readString(node.resolve("etc/corezfs/flexvolume.conf"));
        assertTrue(conf.lines().anyMatch("PARENT=tank/kube"::equals), conf);
        try (Stream<Path> s = Files.list(driver.getParent())) {
            assertEquals(List.of(driver), s.toList(), "no temporary file is left");
        }
        assertTrue(r.err().contains("corezfs/zfs"), r::toString);
    }

    @Test
    void theInstalledConfigurationIsTheOneMountsUse() throws IOException {
        host.dataset("tank/pods", "/tank/pods");
        assertEquals(
                0, install("--parent", "tank/pods", "--root", root.toString()).exitCode());
        Cli.Run r = driver("mount", POD_DIR, pod("data"));
        assertEquals("Success", reply(r).get("status").asText(), r::toString);
        assertTrue(host.exists("tank/pods/data"));
        assertFalse(host.exists("tank/kube/data"));
    }

    @Test
    void installTakesAnotherPluginDirectoryAndLauncher() throws IOException {
        Cli.Run r = install(
                "--parent",
                "tank/kube",
                "--root",
                root.toString(),
                "--plugin-dir",
                "/usr/libexec/kubernetes/kubelet-plugins/volume/exec",
                "--launcher",
                "/opt/bin/corezfs");
        assertEquals(0, r.exitCode(), r::toString);
        String script =
                Files.readString(root.resolve("usr/libexec/kubernetes/kubelet-plugins/volume/exec/corezfs~zfs/zfs"));
        assertTrue(script.contains("exec /opt/bin/corezfs flexvolume \"$@\""), script);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "tank",
                "tank/",
                "/tank/kube",
                "tank//kube",
                "tank/../etc",
                "tank/kube@snap",
                "-o",
                "mirror/kube",
                "1tank/kube",
                "tank/kube\nPARENT=x",
                "tank/ku be"
            })
    void anInvalidParentIsOneLineExitTwoAndWritesNothing(String parent) throws IOException {
        Path node = Files.createDirectories(tmp.resolve("node"));
        Cli.Run r = install("--parent", parent, "--root", node.toString());
        if (parent.equals("tank")) {
            // A pool itself is a valid parent.
            assertEquals(0, r.exitCode(), r::toString);
            return;
        }
        assertEquals(2, r.exitCode(), r::toString);
        assertEquals(1, r.err().lines().count(), r::toString);
        assertTrue(r.err().startsWith("corezfs: "), r::toString);
        try (Stream<Path> s = Files.list(node)) {
            assertEquals(List.of(), s.toList());
        }
    }

    @Test
    void installWithoutALauncherToRunSaysSo() throws IOException {
        Path node = Files.createDirectories(tmp.resolve("node"));
        Cli.Run r = new Cli(work).run("flexvolume", "install", "--parent", "tank/kube", "--root", node.toString());
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(r.err().contains("--launcher"), r::toString);
        Cli.Run bad = install("--parent", "tank/kube", "--root", node.toString(), "--launcher", "corezfs; reboot");
        assertEquals(2, bad.exitCode(), bad::toString);
    }

    @Test
    void installReplacesAnEarlierInstallWhole() throws IOException {
        assertEquals(
                0, install("--parent", "tank/kube", "--root", root.toString()).exitCode());
        assertEquals(
                0, install("--parent", "tank/pods", "--root", root.toString()).exitCode());
        String conf = Files.readString(root.resolve("etc/corezfs/flexvolume.conf"));
        assertTrue(conf.contains("PARENT=tank/pods\n") && !conf.contains("tank/kube"), conf);
    }

    @Test
    void installRefusesToReplaceADirectory() throws IOException {
        Files.createDirectories(root.resolve("opt/libexec/kubernetes/kubelet-plugins/volume/exec/corezfs~zfs/zfs"));
        Cli.Run r = install("--parent", "tank/kube", "--root", root.toString());
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(r.err().contains("not a regular file"), r::toString);
    }
}
