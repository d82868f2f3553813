package io.corezfs.install;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.corezfs.Reporter;
import io.corezfs.archive.ArchiveLimits;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.host.Environment;
import io.corezfs.host.HostDetector;
import io.corezfs.host.HostFacts;
import io.corezfs.host.RootFs;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.TarBuilder;
import io.corezfs.testing.TreeSnapshot;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run killed at any step of an upgrade, then recovered by the next run, leaves exactly the old install or
 * exactly the new one: {@code /etc} included, never the new {@code /etc} with the old {@code /opt}. The kill is an
 * {@link Error} thrown from the file operations, which nothing in the installer catches, so no rollback runs, as
 * with a real kill.
 */
class CrashRecoveryTest {
    private static final String STATE = "opt/corezfs/.corezfs/state.json";
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-25T00:00:00Z"), ZoneOffset.UTC);

    @TempDir
    Path tmp;

    static final class Killed extends Error {
        Killed(String step) {
            super("killed at " + step);
        }
    }

    /** Counts every rename and flush; throws {@link Killed} at step {@code killAt} (0: never). */
    static final class KillingOps implements FileOps {
        final int killAt;
        final List<String> steps = new ArrayList<>();

        KillingOps(int killAt) {
            this.killAt = killAt;
        }

        private void step(String what) {
            steps.add(what);
            if (steps.size() == killAt) {
                throw new Killed(what);
            }
        }

        @Override
        public void move(Path from, Path to) throws IOException {
            step("move " + to.getFileName());
            FileOps.DEFAULT.move(from, to);
        }

        @Override
        public void syncFilesystem(Path path) throws IOException {
            step("sync " + path.getFileName());
            FileOps.DEFAULT.syncFilesystem(path);
        }
    }

    private Path a;
    private Path b;

    private Path rootWithA(String name) {
        Path root = HostRoots.flatcar(tmp.resolve(name)).root();
        HostRoots.at(root).file("/etc/zfs/zed.rc", "ZED_DEBUG_LOG=/tmp/zed.debug.log\n");
        installer(FileOps.DEFAULT).install(a, root, facts(root), false);
        return root;
    }

    private static RootInstaller installer(FileOps ops) {
        return new RootInstaller(new ArchiveReader(ArchiveLimits.DEFAULT), ops, Reporter.SILENT, CLOCK, "0.0.0-test");
    }

    private static HostFacts facts(Path root) {
        return new HostDetector(Environment.of(Map.of(), "x86_64", CLOCK)).detect(new RootFs(root), Optional.empty());
    }

    @Test
    void aKillAtAnyStepOfAnUpgradeEndsInTheOldOrTheNewInstallAfterRecovery() throws IOException {
        a = TarBuilder.typicalTree().file("etc/zfs/old-only.conf", "x").writeTo(tmp.resolve("a.tar.gz"));
        b = TarBuilderVariants.withZedRc(tmp.resolve("b.tar.gz"), "NEW=1\n");

        Path reference = rootWithA("reference");
        KillingOps counting = new KillingOps(0);
        installer(counting).install(b, reference, facts(reference), false);
        Map<String, String> newTree = withoutState(TreeSnapshot.of(reference));
        String newState = InstallState.read(reference).orElseThrow().manifestSha256();
        assertTrue(counting.steps.size() >= 6, counting.steps::toString);

        for (int k = 1; k <= counting.steps.size(); k++) {
            Path root = rootWithA("killed-at-" + k);
            Map<String, String> oldTree = TreeSnapshot.of(root);
            try {
                installer(new KillingOps(k)).install(b, root, facts(root), false);
                fail("step " + k + " was not reached");
            } catch (Killed expected) {
                // as kill -9 would leave it
            }
            installer(FileOps.DEFAULT).recover(root);
            Map<String, String> now = TreeSnapshot.of(root);
            boolean isOld = now.equals(oldTree);
            boolean isNew = withoutState(now).equals(newTree)
                    && InstallState.read(root).orElseThrow().manifestSha256().equals(newState);
            String step = counting.steps.get(k - 1);
            assertTrue(
                    isOld || isNew,
                    () -> "killed at step " + step + ": neither the old nor the new install:\n" + diff(oldTree, now)
                            + "\nvs new:\n" + diff(newTree, withoutState(now)));
        }
    }

    private static Map<String, String> withoutState(Map<String, String> m) {
        Map<String, String> c = new TreeMap<>(m);
        c.remove(STATE);
        return c;
    }

    private static String diff(Map<String, String> want, Map<String, String> got) {
        StringBuilder s = new StringBuilder();
        for (String k : new java.util.TreeSet<>(want.keySet())) {
            if (!want.get(k).equals(got.get(k))) {
                s.append("  ")
                        .append(k)
                        .append(": ")
                        .append(want.get(k))
                        .append(" -> ")
                        .append(got.get(k))
                        .append('\n');
            }
        }
        for (String k : got.keySet()) {
            if (!want.containsKey(k)) {
                s.append("  + ").append(k).append(": ").append(got.get(k)).append('\n');
            }
        }
        return s.toString();
    }
}
