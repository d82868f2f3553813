package io.corezfs.provisioner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.fleet.RemoteShell;
import io.corezfs.fleet.Ssh;
import io.corezfs.system.ProcessRequest;
import io.corezfs.system.ProcessResult;
import io.corezfs.testing.FakeZfsHost;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The provisioner's zfs, locally and on a node over SSH: the same four operations, over SSH as {@code sudo -n zfs} in
 * one quoted command line per call, and the node's answers read strictly.
 */
class ZfsCommandsTest {
    @TempDir
    Path tmp;

    FakeZfsHost node;
    final List<String> commandLines = new ArrayList<>();
    int sessions;
    int closed;

    @BeforeEach
    void node() throws IOException {
        node = new FakeZfsHost(Files.createDirectories(tmp.resolve("root"))).dataset("tank/kube", "/tank/kube");
    }

    /** A session that runs what reaches the node's sudo on the fake node, recording the line an exec would carry. */
    Ssh.Session session(Function<ProcessRequest, ProcessResult> nodeSide) {
        sessions++;
        return new Ssh.Session() {
            @Override
            public ProcessResult run(ProcessRequest request, Optional<InputStream> stdin) {
                commandLines.add(RemoteShell.command(request));
                assertEquals(List.of("sudo", "-n"), request.argv().subList(0, 2));
                return nodeSide.apply(ProcessRequest.of(
                        request.argv().subList(2, request.argv().size())));
            }

            @Override
            public long bytesSent() {
                return 0;
            }

            @Override
            public void close() {
                closed++;
            }
        };
    }

    @Test
    void overSshEachOperationIsOneSudoZfsCommandLineWithItsWordsQuoted() {
        ZfsCommands zfs = ZfsCommands.overSsh(() -> session(node::run), "node-1");
        Map<String, String> props = new LinkedHashMap<>();
        props.put("refquota", "104857600");
        props.put("io.corezfs:pvc", "apps/my data");
        zfs.create("tank/kube/pvc-1", props);

        assertEquals(
                Optional.of(Map.of("refquota", "104857600", "io.corezfs:pvc", "apps/my data")),
                zfs.get("tank/kube/pvc-1", List.of("refquota", "io.corezfs:pvc")));
        assertTrue(zfs.exists("tank/kube/pvc-1"));
        zfs.destroy("tank/kube/pvc-1");
        assertFalse(zfs.exists("tank/kube/pvc-1"));
        assertEquals(Optional.empty(), zfs.get("tank/kube/pvc-1", List.of("refquota")));

        assertEquals(
                "sudo -n zfs create -o refquota=104857600 -o 'io.corezfs:pvc=apps/my data' tank/kube/pvc-1",
                commandLines.get(0));
        assertEquals("sudo -n zfs destroy tank/kube/pvc-1", commandLines.get(3));
        assertEquals(1, sessions, "one session for all of them");
        assertEquals(0, closed);
    }

    @Test
    void aSessionThatFailsIsClosedAndTheNextCommandConnectsAgain() {
        boolean[] lost = {true};
        ZfsCommands zfs = ZfsCommands.overSsh(
                () -> session(r -> {
                    if (lost[0]) {
                        lost[0] = false;
                        throw new io.corezfs.fleet.SshException(
                                io.corezfs.fleet.SshException.Kind.CONNECTION, "node-1: connection lost", null);
                    }
                    return node.run(r);
                }),
                "node-1");
        assertThrows(CorezfsException.class, () -> zfs.exists("tank/kube"));
        assertEquals(1, closed);
        assertTrue(zfs.exists("tank/kube"));
        assertEquals(2, sessions);
    }

    @Test
    void aFailureNamesTheCommandTheNodeAndZfsLastLine() {
        node.failing("zfs create", "cannot create 'tank/kube/pvc-1': out of space\n");
        ZfsCommands zfs = ZfsCommands.overSsh(() -> session(node::run), "core@127.0.0.1:2222");
        CorezfsException e =
                assertThrows(CorezfsException.class, () -> zfs.create("tank/kube/pvc-1", Map.of("refquota", "1")));
        assertTrue(e.getMessage().contains("out of space"), e.getMessage());
        assertTrue(e.getMessage().endsWith(" on core@127.0.0.1:2222"), e.getMessage());
    }

    @Test
    void aNodeThatAnswersMoreOrOtherThanWasAskedIsNotBelieved() {
        for (String answer :
                List.of("refquota\t1\nio.corezfs:claim\tx\n", "refquota\t1\nrefquota\t2\n", "refquota 1\n", "")) {
            ZfsCommands zfs = ZfsCommands.overSsh(
                    () -> session(r -> ProcessResult.exited(r.argv(), 0, answer, "", Duration.ZERO)), "node-1");
            CorezfsException e =
                    assertThrows(CorezfsException.class, () -> zfs.get("tank/kube", List.of("refquota")), answer);
            assertTrue(e.getMessage().startsWith("zfs get on node-1"), e.getMessage());
        }
    }

    @Test
    void locallyItRunsZfsItself() {
        ZfsCommands zfs = ZfsCommands.local(node);
        zfs.create("tank/kube/pvc-2", Map.of("refquota", "1048576"));
        assertEquals(
                List.of("zfs", "create", "-o", "refquota=1048576", "tank/kube/pvc-2"),
                node.calls().get(0));
        assertEquals(
                Optional.of(Map.of("mountpoint", "/tank/kube/pvc-2")),
                zfs.get("tank/kube/pvc-2", List.of("mountpoint")));
    }
}
