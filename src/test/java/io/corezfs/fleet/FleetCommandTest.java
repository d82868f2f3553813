package io.corezfs.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.corezfs.JsonMapping;
import io.corezfs.testing.Cli;
import io.corezfs.testing.FakeDocker;
import io.corezfs.testing.FakeSsh;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.Requirements;
import io.corezfs.testing.TarBuilder;
import io.corezfs.testing.TreeSnapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code corezfs fleet}, end to end through the command line, against nodes that are directories (FakeSsh). */
class FleetCommandTest {
    static final String ARCHIVE_NAME = "corezfs_amd64-usr_3975.2.0_stable_zfs-2.1.11.tar.gz";

    @TempDir
    Path tmp;

    FakeSsh ssh;
    Path archive;
    Path bundle;
    Path knownHosts;
    List<FakeSsh.Node> nodes = new ArrayList<>();

    @BeforeEach
    void fleet() throws IOException {
        ssh = new FakeSsh(tmp);
        archive = TarBuilder.typicalTree().writeTo(tmp.resolve("a.tar.gz"));
        bundle = FakeSsh.bundle(tmp, "0.0.0-test");
        knownHosts = tmp.resolve("known_hosts");
        Files.writeString(knownHosts, "");
    }

    FakeSsh.Node node(int i) throws IOException {
        FakeSsh.Node n = ssh.node(
                "127.0.0.1",
                2200 + i,
                HostRoots.flatcar(tmp.resolve("node" + i)).root());
        Files.writeString(
                knownHosts, "[127.0.0.1]:" + (2200 + i) + " key-A\n", java.nio.file.StandardOpenOption.APPEND);
        nodes.add(n);
        return n;
    }

    List<String> hosts(int count) throws IOException {
        List<String> out = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            node(i);
            out.add("127.0.0.1:" + (2200 + i));
        }
        return out;
    }

    Cli.Run fleet(String action, List<String> hosts, String... extra) {
        List<String> a = new ArrayList<>(List.of("fleet", action));
        a.addAll(hosts);
        a.addAll(List.of("--known-hosts", knownHosts.toString()));
        if (!List.of(extra).contains("--state")) {
            a.addAll(List.of("--state", tmp.resolve("state.json").toString()));
        }
        a.addAll(List.of(extra));
        return new Cli(tmp).env("HOME", tmp.resolve("home").toString()).ssh(ssh).run(a.toArray(String[]::new));
    }

    Cli.Run fleetWith(FakeDocker docker, String action, List<String> hosts, List<String> args, String... extra) {
        List<String> a = new ArrayList<>(List.of("fleet", action));
        a.addAll(hosts);
        a.addAll(List.of(
                "--known-hosts",
                knownHosts.toString(),
                "--state",
                tmp.resolve("state.json").toString()));
        a.addAll(args);
        a.addAll(List.of(extra));
        return new Cli(tmp)
                .env("HOME", tmp.resolve("home").toString())
                .ssh(ssh)
                .docker(docker)
                .run(a.toArray(String[]::new));
    }

    /** Into {@code dir}, from a local OpenZFS 2.1.11 tarball, no download: what a build here needs in these specs. */
    List<String> buildOptions(Path dir) throws IOException {
        Path source = Files.write(
                tmp.resolve("zfs-2.1.11.tar.gz"),
                io.corezfs.zfs.TestTarball.zfs("2.1.11").linux("3.10", "6.2").bytes());
        return List.of(
                "--archive-dir",
                dir.toString(),
                "--bundle",
                bundle.toString(),
                "--zfs-source",
                source.toString(),
                "--insecure-source",
                "--cache-dir",
                tmp.resolve("cache").toString());
    }

    static List<String> concat(List<String> a, String... more) {
        List<String> out = new ArrayList<>(a);
        out.addAll(List.of(more));
        return out;
    }

    Cli.Run install(List<String> hosts, String... extra) {
        List<String> a = new ArrayList<>(List.of("--archive", archive.toString(), "--bundle", bundle.toString()));
        a.addAll(List.of(extra));
        return fleet("install", hosts, a.toArray(String[]::new));
    }

    static boolean installed(FakeSsh.Node n) {
        return Files.isRegularFile(n.root.resolve("etc/modules-load.d/zfs.conf"))
                && Files.isRegularFile(n.root.resolve("var/lib/corezfs/archives/" + ARCHIVE_NAME));
    }

    @Test
    void installGivesEveryNodeZfsAndReportsEachOnALine() throws IOException {
        List<String> hosts = hosts(3);

        Cli.Run r = install(hosts, "--parallel", "2");

        assertEquals(0, r.exitCode(), r::toString);
        for (FakeSsh.Node n : nodes) {
            assertTrue(installed(n), r::toString);
            assertTrue(Files.isRegularFile(n.root.resolve("opt/corezfs-0.0.0-test/bin/corezfs")), "bundle unpacked");
            assertFalse(Files.exists(n.root.resolve("var/lib/corezfs/archives/." + ARCHIVE_NAME + ".partial")));
            // The bundle is unpacked and removed; no unpack directory is left beside the tool.
            try (var incoming = Files.list(n.root.resolve("var/lib/corezfs/incoming"))) {
                assertEquals(List.of(), incoming.toList());
            }
            try (var opt = Files.list(n.root.resolve("opt"))) {
                assertEquals(
                        List.of(),
                        opt.map(f -> f.getFileName().toString())
                                .filter(f -> f.startsWith("."))
                                .toList());
            }
        }
        assertTrue(
                r.out().contains("HOST")
                        && r.out().contains("ARCHIVE")
                        && r.out().contains("RESULT"),
                r::toString);
        assertEquals(
                3,
                r.out()
                        .lines()
                        .filter(l -> l.startsWith("127.0.0.1:22") && l.contains(" ok "))
                        .count(),
                r::toString);
        assertTrue(r.out().contains("3 ok, 0 skipped, 0 failed, 0 not started"), r::toString);
        assertTrue(r.err().contains("127.0.0.1:2201: installing"), "a live line per host: " + r);
    }

    @Test
    void theNodesThatActFirstDoSoOnTheConnectionTheirFactsCameOverAndEveryConnectionIsClosed() throws IOException {
        List<String> hosts = hosts(3);

        Cli.Run r = install(hosts, "--parallel", "2", "--canary", "0");

        assertEquals(0, r.exitCode(), r::toString);
        // Three for the facts; the third node, beyond the first round of two, connects again for its turn.
        assertEquals(4, ssh.connects(), r::toString);
        assertEquals(0, ssh.openSessions(), r::toString);
        nodes.forEach(n -> assertTrue(installed(n), r::toString));

        Cli.Run dry = install(hosts, "--dry-run");

        assertEquals(0, dry.exitCode(), dry::toString);
        assertEquals(7, ssh.connects(), "a dry run only reads the facts: " + dry);
        assertEquals(0, ssh.openSessions(), dry::toString);

        Cli.Run canary = fleet(
                "prepare",
                hosts,
                "--archive",
                archive.toString(),
                "--bundle",
                bundle.toString(),
                "--parallel",
                "2",
                "--canary",
                "1");

        assertEquals(0, canary.exitCode(), canary::toString);
        // Only the canary keeps its facts session: the others wait for it, and connect again when their turn comes.
        assertEquals(12, ssh.connects(), canary::toString);
        assertEquals(0, ssh.openSessions(), canary::toString);
    }

    @Test
    void theBundleGoesOnlyToNodesWithoutThatVersionAndTheArchiveOnlyWhereItIsMissing() throws IOException {
        List<String> hosts = hosts(1);
        assertEquals(0, install(hosts).exitCode());
        nodes.get(0).commands.clear();

        Cli.Run again = install(hosts, "--json");

        assertEquals(0, again.exitCode(), again::toString);
        assertTrue(nodes.get(0).changes().stream().noneMatch(c -> c.contains("tar")), "no second unpack");
        JsonNode j = JsonMapping.newMapper().readTree(again.out());
        assertEquals(0, j.get("hosts").get(0).get("bytesSent").asLong(), again::toString);
    }

    @Test
    void theArchivesSignatureTravelsWithItAndTheNodeChecksIt() throws Exception {
        Requirements.need(Requirements.which("ssh-keygen").isPresent(), "ssh-keygen (openssh-client)");
        Path key = tmp.resolve("signing");
        Process p = new ProcessBuilder(
                        "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "builds@example", "-f", key.toString())
                .redirectErrorStream(true)
                .start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(
                0,
                new Cli(tmp)
                        .run("archive", "sign", "--key", key.toString(), archive.toString())
                        .exitCode());
        List<String> hosts = hosts(1);
        FakeSsh.Node n = nodes.get(0);
        Path trusted = n.root.resolve("etc/corezfs/trusted-keys");
        Files.createDirectories(trusted.getParent());
        Files.writeString(trusted, "builds@example " + Files.readString(tmp.resolve("signing.pub")));

        Cli.Run r = install(hosts);

        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(
                Files.readString(tmp.resolve("a.tar.gz.sig")),
                Files.readString(n.root.resolve("var/lib/corezfs/archives/" + ARCHIVE_NAME + ".sig")));
    }

    @Test
    void anUnknownHostKeyStopsThatNodeBeforeAnyCommand() throws IOException {
        List<String> hosts = hosts(2);
        Files.writeString(knownHosts, "[127.0.0.1]:2201 key-A\n");
        Map<String, String> before = TreeSnapshot.of(nodes.get(1).root);

        Cli.Run r = install(hosts, "--max-failures", "1");

        assertEquals(7, r.exitCode(), r::toString);
        assertTrue(r.out().contains("host key unknown"), r::toString);
        assertTrue(installed(nodes.get(0)));
        assertTrue(nodes.get(1).commands.isEmpty(), "nothing ran on the unknown node");
        assertEquals(before, TreeSnapshot.of(nodes.get(1).root));
    }

    @Test
    void aChangedHostKeyIsRefusedEvenWhenNewKeysAreAccepted() throws IOException {
        List<String> hosts = hosts(1);
        nodes.get(0).hostKey = "key-B";
        Map<String, String> before = TreeSnapshot.of(nodes.get(0).root);

        Cli.Run r = install(hosts, "--accept-new-host-keys");

        assertEquals(3, r.exitCode(), "none could start: " + r);
        assertTrue(r.out().contains("host key CHANGED"), r::toString);
        assertTrue(nodes.get(0).commands.isEmpty());
        assertEquals(before, TreeSnapshot.of(nodes.get(0).root));
        assertEquals("[127.0.0.1]:2201 key-A\n", Files.readString(knownHosts), "known_hosts untouched");
    }

    @Test
    void acceptNewRecordsAnUnknownKeyAndProceeds() throws IOException {
        List<String> hosts = hosts(1);
        Files.writeString(knownHosts, "");

        Cli.Run r = install(hosts, "--accept-new-host-keys");

        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("[127.0.0.1]:2201 key-A\n", Files.readString(knownHosts));
    }

    @Test
    void aSudoThatWantsAPasswordFailsAtOnceAndSaysSo() throws IOException {
        List<String> hosts = hosts(1);
        nodes.get(0).sudoWantsPassword = true;

        Cli.Run r = install(hosts);

        assertEquals(7, r.exitCode(), r::toString);
        assertTrue(r.out().contains("sudo wants a password for core"), r::toString);
        assertFalse(installed(nodes.get(0)));
    }

    @Test
    void aNodeThatIsDownOrRefusesTheLoginFailsAloneWithinTheBudget() throws IOException {
        List<String> hosts = hosts(3);
        nodes.get(1).down = true;
        nodes.get(2).refusesLogin = true;

        Cli.Run r = install(hosts, "--max-failures", "2");

        assertEquals(7, r.exitCode(), r::toString);
        assertTrue(installed(nodes.get(0)));
        assertTrue(r.out().contains("cannot connect"), r::toString);
        assertTrue(r.out().contains("authentication failed"), r::toString);
    }

    @Test
    void whenNoNodeCanBeReachedTheExitCodeIs3() throws IOException {
        List<String> hosts = hosts(2);
        nodes.forEach(n -> n.down = true);

        Cli.Run r = install(hosts, "--max-failures", "5");

        assertEquals(3, r.exitCode(), r::toString);
    }

    @Test
    void aFailedCanaryStopsTheRolloutAndTheOthersAreUntouched() throws IOException {
        List<String> hosts = hosts(4);
        nodes.get(0).toolFails = "zfs: module verification failed";
        List<Map<String, String>> before =
                nodes.stream().map(n -> TreeSnapshot.of(n.root)).toList();

        Cli.Run r = install(hosts, "--canary", "1", "--max-failures", "3");

        assertEquals(7, r.exitCode(), r::toString);
        assertTrue(r.out().contains("module verification failed"), r::toString);
        assertEquals(
                3,
                r.out()
                        .lines()
                        .filter(l -> l.contains("not started: a canary failed"))
                        .count(),
                r::toString);
        for (int i = 1; i < 4; i++) {
            assertEquals(before.get(i), TreeSnapshot.of(nodes.get(i).root), "node " + i + " untouched");
        }
    }

    @Test
    void onceFailuresPassTheBudgetNoNewNodeStarts() throws IOException {
        List<String> hosts = hosts(5);
        nodes.get(1).toolFails = "boom";
        nodes.get(2).toolFails = "boom";
        List<Map<String, String>> before =
                nodes.stream().map(n -> TreeSnapshot.of(n.root)).toList();

        Cli.Run r = install(hosts, "--canary", "0", "--parallel", "1", "--max-failures", "1");

        assertEquals(7, r.exitCode(), r::toString);
        assertTrue(installed(nodes.get(0)));
        assertEquals(
                2,
                r.out()
                        .lines()
                        .filter(l -> l.contains("failed ") && l.contains("boom"))
                        .count(),
                r::toString);
        assertEquals(
                2,
                r.out()
                        .lines()
                        .filter(l -> l.contains("not started: 2 failures passed --max-failures 1"))
                        .count(),
                r::toString);
        assertEquals(before.get(3), TreeSnapshot.of(nodes.get(3).root));
        assertEquals(before.get(4), TreeSnapshot.of(nodes.get(4).root));
    }

    @Test
    void aCutTransferResumesWithOnlyTheMissingBytes() throws IOException {
        List<String> hosts = hosts(1);
        FakeSsh.Node n = nodes.get(0);
        // The bundle first, then the archive: cut the archive half-way.
        long bundleSize = Files.size(bundle);
        long size = Files.size(archive);
        n.cutAfter = bundleSize + size / 2;

        Cli.Run cut = install(hosts, "--json");

        assertEquals(7, cut.exitCode(), cut::toString);
        assertTrue(cut.out().contains("connection lost"), cut::toString);
        assertFalse(installed(n));
        assertFalse(Files.exists(n.root.resolve("etc/modules-load.d/zfs.conf")), "nothing half-installed");
        Path partial = n.root.resolve("var/lib/corezfs/archives/." + ARCHIVE_NAME + ".partial");
        assertEquals(size / 2, Files.size(partial));

        n.cutAfter = -1;
        Cli.Run resumed = install(hosts, "--resume", "--json");

        assertEquals(0, resumed.exitCode(), resumed::toString);
        JsonNode h =
                JsonMapping.newMapper().readTree(resumed.out()).get("hosts").get(0);
        assertEquals(size - size / 2, h.get("bytesSent").asLong(), resumed::toString);
        assertTrue(installed(n));
    }

    @Test
    void bytesChangedOnTheWayAreCaughtOnTheNodeAndThePartialCopyIsRemoved() throws IOException {
        List<String> hosts = hosts(1);
        FakeSsh.Node n = nodes.get(0);
        n.flipByteAt = 1000;

        Cli.Run r = install(hosts, "--json");

        assertEquals(7, r.exitCode(), r::toString);
        assertTrue(r.out().contains("did not arrive intact"), r::toString);
        assertFalse(installed(n));
        try (java.util.stream.Stream<Path> files = Files.walk(n.root)) {
            assertEquals(
                    List.of(),
                    files.filter(f -> f.getFileName().toString().endsWith(".partial"))
                            .toList(),
                    "the changed copy is gone");
        }
    }

    @Test
    void aPartialFileWhoseBytesAreNotTheArchivesIsSentAgainWhole() throws IOException {
        List<String> hosts = hosts(1);
        FakeSsh.Node n = nodes.get(0);
        Path partial = n.root.resolve("var/lib/corezfs/archives/." + ARCHIVE_NAME + ".partial");
        Files.createDirectories(partial.getParent());
        Files.write(partial, new byte[100]);

        Cli.Run r = install(hosts, "--json");

        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(installed(n));
    }

    @Test
    void resumeSkipsNodesDoneWithTheSameArchive() throws IOException {
        List<String> hosts = hosts(3);
        nodes.get(2).toolFails = "boom";
        assertEquals(7, install(hosts, "--max-failures", "1").exitCode());
        nodes.get(2).toolFails = null;
        nodes.forEach(n -> n.commands.clear());

        Cli.Run r = install(hosts, "--resume");

        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(2, r.out().lines().filter(l -> l.contains(" skipped ")).count(), r::toString);
        assertTrue(nodes.get(0).changes().isEmpty());
        assertTrue(installed(nodes.get(2)));
    }

    @Test
    void oneNodeNamedTwiceUnderDifferentSpellingsIsRefusedBeforeAnyConnection() throws IOException {
        hosts(1);

        Cli.Run r = install(List.of("127.0.0.1:2201", "root@127.0.0.1:2201"));

        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(
                r.err()
                        .contains("HOST 2: root@127.0.0.1:2201 and 127.0.0.1:2201 (HOST 1) are the same node,"
                                + " 127.0.0.1:2201; name it once"),
                r::toString);
        assertEquals(0, ssh.connects());
    }

    @Test
    void aStateFileThatCannotBeWrittenStopsTheRunBeforeAnyNodeIsReached() throws IOException {
        List<String> hosts = hosts(2);
        Path notADirectory = Files.writeString(tmp.resolve("plain-file"), "");

        Cli.Run r =
                install(hosts, "--state", notADirectory.resolve("state.json").toString());

        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(r.err().contains("cannot write the state file " + notADirectory.resolve("state.json")), r::toString);
        assertEquals(0, ssh.connects(), "no node is reached");
    }

    @Test
    void aStateFileAnotherRunIsWritingStopsThisRunBeforeAnyNodeIsReached() throws IOException {
        List<String> hosts = hosts(2);
        Path state = tmp.resolve("state.json");

        try (FleetState.Writer other = FleetState.Writer.open(state, FleetState.empty())) {
            Cli.Run r = install(hosts);

            assertEquals(3, r.exitCode(), r::toString);
            assertTrue(r.err().contains("is in use by another fleet run"), r::toString);
            assertEquals(0, ssh.connects());
        }
        assertEquals(0, install(hosts).exitCode(), "the lock goes with the run that held it");
    }

    @Test
    void aStateFileFleetDidNotWriteIsRefusedNotOverwrittenAndNothingIsMadeBesideIt() throws IOException {
        List<String> hosts = hosts(2);
        Path dir = Files.createDirectories(tmp.resolve("etc"));
        Path notes = Files.writeString(dir.resolve("notes.json"), "{\"format\": 1}\n");
        Path prose = Files.writeString(dir.resolve("fstab"), "/dev/vda1 / ext4 defaults 0 1\n");
        Path link = Files.createSymbolicLink(dir.resolve("link"), prose);

        for (Path p : List.of(notes, prose, link)) {
            Cli.Run r = install(hosts, "--state", p.toString());

            assertEquals(2, r.exitCode(), r::toString);
            assertTrue(
                    r.err().contains("--state: " + p + " is not a fleet state file (")
                            && r.err().contains("it is left alone: remove it, or give this run another --state"),
                    r::toString);
        }
        assertEquals("{\"format\": 1}\n", Files.readString(notes));
        assertEquals("/dev/vda1 / ext4 defaults 0 1\n", Files.readString(prose));
        assertTrue(Files.isSymbolicLink(link));
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            assertEquals(3, s.count(), "no lock or temporary file beside them");
        }
        assertEquals(0, ssh.connects());
        assertTrue(nodes.stream().allMatch(n -> n.changes().isEmpty()));
    }

    @Test
    void anEmptyStateFileOrOneAnEarlierRunWroteIsReplaced() throws IOException {
        List<String> hosts = hosts(1);
        Path empty = Files.createFile(tmp.resolve("empty.json"));

        assertEquals(0, install(hosts, "--state", empty.toString()).exitCode());
        assertTrue(Files.readString(empty).contains("127.0.0.1:2201"));
        assertEquals(0, install(hosts, "--state", empty.toString()).exitCode(), "its own file is replaced again");
    }

    @Test
    void theStateIsNeverWrittenThroughALinkPlantedUnderItsTemporaryName() throws IOException {
        List<String> hosts = hosts(1);
        Path victim = Files.writeString(tmp.resolve("victim"), "precious\n");
        Files.createSymbolicLink(tmp.resolve(".state.json.tmp"), victim);

        assertEquals(0, install(hosts).exitCode());

        assertEquals("precious\n", Files.readString(victim));
        assertTrue(Files.isRegularFile(tmp.resolve("state.json"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.readString(tmp.resolve("state.json")).contains("127.0.0.1:2201"));
    }

    @Test
    void aStateFileThatIsNotARegularFileIsRefusedNotReadForever() throws Exception {
        List<String> hosts = hosts(1);
        Path fifo = tmp.resolve("fifo-state");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());

        Cli.Run r = install(hosts, "--resume", "--state", fifo.toString());

        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains("is not a fleet state file (not a regular file)"), r::toString);
        assertEquals(0, ssh.connects());
    }

    @Test
    void whenTheStateCanNoLongerBeWrittenTheFinishedNodeKeepsItsResultAndNoNewNodeStarts() throws IOException {
        List<String> hosts = hosts(3);
        Path tmpName = tmp.resolve(".state.json.tmp");
        ssh.tool((n, argv) -> {
            if (argv.contains("install")) {
                try {
                    // A directory with something in it where the next write wants its temporary file.
                    Files.createDirectories(tmpName.resolve("x"));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
            return ssh.realTool(n, argv);
        });

        Cli.Run r = install(hosts, "--parallel", "1", "--canary", "0", "--max-failures", "5");

        assertEquals(7, r.exitCode(), r::toString);
        assertTrue(installed(nodes.get(0)), r::toString);
        assertTrue(r.out().contains("1 ok, 0 skipped, 0 failed, 2 not started"), r::toString);
        assertTrue(r.err().contains("127.0.0.1:2202: not started: cannot write the state file"), r::toString);
        assertFalse(installed(nodes.get(1)));
        assertTrue(nodes.get(2).changes().isEmpty());
    }

    @Test
    void aDryRunPrintsThePlanAndChangesNothing() throws IOException {
        List<String> hosts = hosts(2);
        List<Map<String, String>> before =
                nodes.stream().map(n -> TreeSnapshot.of(n.root)).toList();

        Cli.Run r = install(hosts, "--dry-run");

        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("ACTION"), r::toString);
        assertTrue(r.out().contains("flatcar 3975.2.0 amd64-usr " + HostRoots.KERNEL), r::toString);
        assertTrue(r.out().contains(ARCHIVE_NAME), r::toString);
        assertTrue(r.out().contains("push bundle, push archive, install"), r::toString);
        for (int i = 0; i < 2; i++) {
            assertEquals(before.get(i), TreeSnapshot.of(nodes.get(i).root));
            assertTrue(nodes.get(i).changes().isEmpty());
        }
        assertFalse(Files.exists(tmp.resolve("state.json")));
    }

    @Test
    void nodesAreGroupedByTargetAndAnArchiveForAnotherTargetFailsOnlyThatGroup() throws IOException {
        List<String> hosts = hosts(2);
        HostRoots.at(nodes.get(1).root).kernel("6.1.0-99-cloud-amd64");

        Cli.Run r = install(hosts, "--max-failures", "1", "--dry-run");

        assertEquals(7, r.exitCode(), r::toString);
        assertTrue(
                r.out()
                        .contains("is for flatcar 3975.2.0 (amd64-usr) with kernel " + HostRoots.KERNEL
                                + ", not flatcar 3975.2.0 (amd64-usr) with kernel 6.1.0-99-cloud-amd64"),
                r::toString);
    }

    @Test
    void eachTargetsArchiveIsLookedUpOnceInTheArchiveDir() throws IOException {
        List<String> hosts = hosts(3);
        Path dir = tmp.resolve("store");
        Files.createDirectories(dir);
        Files.copy(archive, dir.resolve(ARCHIVE_NAME));

        Cli.Run r = fleet("install", hosts, "--archive-dir", dir.toString(), "--bundle", bundle.toString(), "-v");

        assertEquals(0, r.exitCode(), r::toString);
        nodes.forEach(n -> assertTrue(installed(n)));
    }

    @Test
    void prepareStagesTheBundleAndTheArchiveAndInstallsNothing() throws IOException {
        List<String> hosts = hosts(1);
        FakeSsh.Node n = nodes.get(0);

        Cli.Run r = fleet("prepare", hosts, "--archive", archive.toString(), "--bundle", bundle.toString());

        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(Files.isRegularFile(n.root.resolve("var/lib/corezfs/archives/" + ARCHIVE_NAME)));
        assertTrue(Files.isRegularFile(n.root.resolve("opt/corezfs-0.0.0-test/bin/corezfs")));
        assertFalse(Files.exists(n.root.resolve("etc/modules-load.d/zfs.conf")), "nothing installed");
    }

    @Test
    void aMirrorsArchiveIsFetchedOnceAndPushedWithItsSignature() throws IOException {
        List<String> hosts = hosts(2);
        Path mirror = tmp.resolve("mirror");
        Files.createDirectories(mirror);
        Files.copy(archive, mirror.resolve(ARCHIVE_NAME));
        assertEquals(0, new Cli(tmp).run("publish", mirror.toString()).exitCode());

        Cli.Run r = fleet("install", hosts, "--mirror", mirror.toUri().toString(), "--bundle", bundle.toString());

        assertEquals(0, r.exitCode(), r::toString);
        nodes.forEach(n -> assertTrue(installed(n)));
    }

    @Test
    void withoutAnArchiveForATargetTheNodesFailAndSayHowToBuildOne() throws IOException {
        List<String> hosts = hosts(1);
        Path dir = tmp.resolve("empty");
        Files.createDirectories(dir);

        Cli.Run r =
                fleet("install", hosts, "--archive-dir", dir.toString(), "--bundle", bundle.toString(), "--no-build");

        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(r.out().contains("--no-build forbids building one"), r::toString);
        assertTrue(
                r.out().contains("corezfs build --os-version 3975.2.0 --board amd64-usr --kernel " + HostRoots.KERNEL),
                r::toString);
    }

    @Test
    void withoutAnArchiveEachTargetIsBuiltHereOnceNotOncePerNodeAndAFailedBuildFailsOnlyItsNodes() throws IOException {
        List<String> hosts = hosts(3);
        HostRoots.at(nodes.get(2).root).kernel("6.1.0-99-cloud-amd64");
        Path dir = Files.createDirectories(tmp.resolve("empty"));
        FakeDocker docker = new FakeDocker();
        docker.running = false;
        List<Map<String, String>> before =
                nodes.stream().map(n -> TreeSnapshot.of(n.root)).toList();
        List<String> build = concat(buildOptions(dir), "--max-failures", "3", "--canary", "0");

        Cli.Run dry = fleetWith(docker, "install", hosts, build, "--dry-run");

        assertEquals(0, dry.exitCode(), dry::toString);
        assertTrue(dry.out().contains("(to build into " + dir + ")"), dry::toString);
        assertEquals(List.of(), docker.calls, "a dry run builds nothing");

        Cli.Run r = fleetWith(docker, "install", hosts, build);

        assertEquals(3, r.exitCode(), r::toString);
        assertEquals(
                2, docker.calls.stream().filter("ping"::equals).count(), "one build per target: " + docker.calls + r);
        assertEquals(
                3,
                r.out()
                        .lines()
                        .filter(l -> l.contains("building one here failed") && l.contains("Docker"))
                        .count(),
                r::toString);
        for (int i = 0; i < 3; i++) {
            assertEquals(before.get(i), TreeSnapshot.of(nodes.get(i).root));
        }
    }

    @Test
    void anArchiveBuiltHereIsPushedAndInstalledLikeAFoundOneAndFoundNextTime() throws IOException {
        List<String> hosts = hosts(2);
        Path dir = Files.createDirectories(tmp.resolve("built"));
        FakeDocker docker = new FakeDocker();
        docker.images.put("corezfs-dev:3975.2.0", new io.corezfs.docker.Docker.Image("sha256:dev", Map.of()));

        Cli.Run r =
                fleetWith(docker, "install", hosts, concat(buildOptions(dir), "--dev-image", "corezfs-dev:3975.2.0"));

        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(1, docker.calls.stream().filter("create"::equals).count(), "built once: " + docker.calls);
        assertTrue(Files.isRegularFile(dir.resolve(ARCHIVE_NAME)), "built into the first --archive-dir");
        for (FakeSsh.Node n : nodes) {
            assertTrue(Files.isRegularFile(n.root.resolve("var/lib/corezfs/archives/" + ARCHIVE_NAME)), r::toString);
            assertTrue(
                    Files.isRegularFile(n.root.resolve("opt/corezfs/usr/sbin/zfs")),
                    "the built tree is installed: " + r);
        }
        assertTrue(r.out().contains("2 ok, 0 skipped, 0 failed"), r::toString);

        Cli.Run again = fleetWith(docker, "prepare", hosts, List.of("--archive-dir", dir.toString()));

        assertEquals(0, again.exitCode(), again::toString);
        assertEquals(1, docker.calls.stream().filter("create"::equals).count(), "found, not built again");
    }

    @Test
    void statusCollectsEachNodesStatusJson() throws IOException {
        List<String> hosts = hosts(2);
        assertEquals(0, install(hosts).exitCode());

        Cli.Run r = fleet("status", hosts, "--json");

        assertEquals(0, r.exitCode(), r::toString);
        JsonNode j = JsonMapping.newMapper().readTree(r.out());
        assertEquals(
                ARCHIVE_NAME,
                j.get("hosts").get(1).get("status").get("installed").asText(),
                r::toString);
        assertEquals(
                "2.1.11", j.get("hosts").get(1).get("status").get("zfsVersion").asText(), r::toString);
    }

    @Test
    void aNodesStatusThatIsNotOneCleanJsonObjectFailsThatNodeAlone() throws IOException {
        List<String> hosts = hosts(4);
        assertEquals(0, install(hosts).exitCode());
        List<String> answers = List.of(
                "{\"os\": \"flatcar\", \"os\": \"other\"}", "{\"os\": \"flatcar\"} {\"os\": \"other\"}", "[1, 2]");
        ssh.tool((n, argv) -> {
            int i = nodes.indexOf(n);
            return i < answers.size() && argv.contains("status")
                    ? io.corezfs.system.ProcessResult.exited(argv, 0, answers.get(i), "", java.time.Duration.ZERO)
                    : ssh.realTool(n, argv);
        });

        Cli.Run r = fleet("status", hosts, "--max-failures", "3");

        assertEquals(7, r.exitCode(), r::toString);
        assertTrue(r.out().contains("1 ok, 0 skipped, 3 failed"), r::toString);
        assertTrue(r.out().contains("corezfs status --json is not JSON: Duplicate field 'os'"), r::toString);
        assertTrue(r.out().contains("corezfs status --json is not JSON: Trailing token"), r::toString);
        assertTrue(r.out().contains("corezfs status --json is not an object"), r::toString);
    }

    @Test
    void statusLeavesTheRunsStateAsTheInstallLeftIt() throws IOException {
        List<String> hosts = hosts(2);
        assertEquals(0, install(hosts).exitCode());
        Path state = tmp.resolve("state.json");
        String afterInstall = Files.readString(state);

        assertEquals(0, fleet("status", hosts, "--json").exitCode());

        // A --resume after it still sees both nodes installed.
        assertEquals(afterInstall, Files.readString(state));
    }

    @Test
    void uninstallPassesExportOnlyWhenAsked() throws IOException {
        List<String> hosts = hosts(1);
        assertEquals(0, install(hosts).exitCode());
        nodes.get(0).commands.clear();

        assertEquals(0, fleet("uninstall", hosts).exitCode());
        assertTrue(
                nodes.get(0).changes().stream().noneMatch(c -> c.contains("--export")),
                nodes.get(0).commands::toString);
        assertEquals(0, install(hosts).exitCode());
        nodes.get(0).commands.clear();
        Cli.Run r = fleet("uninstall", hosts, "--export");
        assertTrue(nodes.get(0).changes().stream().anyMatch(c -> c.contains("--export")), r::toString);
    }

    @Test
    void remoteCommandsRunWithSudoN() throws IOException {
        List<String> hosts = hosts(1);

        assertEquals(0, install(hosts).exitCode());

        List<List<String>> privileged = nodes.get(0).changes();
        assertFalse(privileged.isEmpty());
        privileged.forEach(c -> assertEquals(List.of("sudo", "-n"), c.subList(0, 2), c::toString));
    }

    @Test
    void badOptionsAreUsageErrors() throws IOException {
        List<String> hosts = hosts(1);
        assertEquals(2, fleet("explode", hosts).exitCode());
        assertEquals(2, fleet("install", hosts, "--max-failures", "lots").exitCode());
        assertEquals(2, fleet("install", List.of()).exitCode());
        assertEquals(2, fleet("install", List.of("bad host!")).exitCode());
        assertEquals(2, fleet("status", hosts, "--export").exitCode());
        Cli.Run sign = fleet(
                "install", hosts, "--no-build", "--sign-key", tmp.resolve("key").toString());
        assertEquals(2, sign.exitCode(), sign::toString);
        assertTrue(sign.err().contains("--sign-key signs the archives this run builds"), sign::toString);
        assertEquals(0, ssh.connects(), "no usage error reaches a node");
    }
}
