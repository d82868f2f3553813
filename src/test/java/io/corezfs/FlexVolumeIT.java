package io.corezfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.corezfs.testing.Lab;
import io.corezfs.testing.VmBoot;
import io.corezfs.testing.VmLab;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The FlexVolume driver on a real node: the lab VM gets corezfs and ZFS, a pool and the parent dataset, then {@code
 * corezfs flexvolume install --parent tank/kube}, and the installed driver file is run exactly as the kubelet 1.20 runs
 * it (same argv, the kubelet's JSON with its {@code kubernetes.io/} keys, stdout and stderr read as one reply). See
 * flexvolume.sh. KubeletFlexVolumeIT has the real kubelet call it for a pod.
 */
@Timeout(value = 75, unit = TimeUnit.MINUTES)
@Execution(ExecutionMode.CONCURRENT) // a VM class: runs beside one other class (pom.xml, failsafe)
class FlexVolumeIT {
    private static final Pattern REPLY = Pattern.compile("^REPLY (\\S+) (\\d+) (\\S*)$");

    @Test
    void theInstalledDriverMountsQuotaedDatasetsIntoPodsAndNeverDestroysThem() throws Exception {
        VmLab.requireVm();
        Lab.requireBuilt();
        Lab.requireDocker();
        Path bundle = Lab.bundle();
        Path archive = LiveInstallIT.vmArchive();

        try (VmLab vm = VmLab.create("flexvolume")
                .script("vmlib.sh", "vmlib.sh")
                .script("flexvolume.sh", "run.sh")
                .file(bundle, "corezfs-bundle.tar.gz")
                .file(archive, "archives/" + archive.getFileName())
                .env(
                        "BUNDLE",
                        "corezfs-bundle.tar.gz",
                        "ARCHIVE",
                        archive.getFileName().toString(),
                        "MODE",
                        "sysext")) {
            VmBoot boot = vm.start(LiveInstallIT.BOOT);
            boot.assertChecks(
                    "install-rc",
                    "boot1-module-loaded",
                    "pool-created",
                    "parent-created",
                    "flex-install-rc",
                    "driver-executable",
                    "driver-config",
                    "mounted1",
                    "quota",
                    "compression",
                    "written-through-mount",
                    "quota-enforced",
                    "unmounted1",
                    "dataset-kept",
                    "data-kept",
                    "pod2-sees-data",
                    "pod1-sees-data-again",
                    "unmounted-both",
                    "data-kept-after-both",
                    "concurrent-same-dataset",
                    "zfs-list-columns",
                    "zfs-says-no-dataset",
                    "zfs-says-exists",
                    "zfs-says-no-parent",
                    "zfs-sets-several",
                    "hostile-created-no-dataset",
                    "hostile-created-no-dir");

            JsonNode init = reply(boot, "init", 0);
            assertEquals("Success", init.get("status").asText(), init::toString);
            assertFalse(init.path("capabilities").path("attach").asBoolean(true), init::toString);

            for (String call : List.of(
                    "mount1",
                    "unmount1",
                    "mount2",
                    "mount1-again",
                    "unmount2",
                    "unmount1-again",
                    "concurrent-a",
                    "concurrent-b",
                    "concurrent-a-unmount",
                    "concurrent-b-unmount")) {
                JsonNode j = reply(boot, call, 0);
                assertEquals("Success", j.get("status").asText(), () -> call + ": " + j);
            }
            assertTrue(reply(boot, "mount1", 0).get("message").asText().startsWith("created tank/kube/data"));
            assertTrue(reply(boot, "mount2", 0).get("message").asText().startsWith("reused tank/kube/data"));

            long created = List.of("concurrent-a", "concurrent-b").stream()
                    .filter(c -> {
                        try {
                            return reply(boot, c, 0).get("message").asText().startsWith("created ");
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    })
                    .count();
            assertEquals(1, created, "exactly one of two concurrent first mounts creates the dataset");

            for (String hostile : List.of("hostile-___etc", "hostile-a_b", "hostile-data_snap")) {
                JsonNode j = reply(boot, hostile, 2);
                assertEquals("Failure", j.get("status").asText(), () -> hostile + ": " + j);
                assertTrue(j.get("message").asText().contains("option dataset"), () -> hostile + ": " + j);
            }
        }
    }

    /**
     * The driver's whole output (stdout and stderr, as the kubelet reads them) for call {@code name}: it must be exactly
     * one JSON object, and the exit code {@code rc}.
     */
    static JsonNode reply(VmBoot boot, String name, int rc) throws IOException {
        String found = null;
        int code = -1;
        for (String l : boot.output().lines().map(String::strip).toList()) {
            Matcher m = REPLY.matcher(l);
            if (m.matches() && m.group(1).equals(name)) {
                code = Integer.parseInt(m.group(2));
                found = new String(Base64.getDecoder().decode(m.group(3)), StandardCharsets.UTF_8);
            }
        }
        assertTrue(found != null, () -> "no reply " + name + "\n" + boot);
        String text = found;
        assertEquals(rc, code, () -> name + " exit code; output: " + text);
        assertEquals(1, text.strip().lines().count(), () -> name + ": one line of output, nothing else: " + text);
        return JsonMapping.newStrictReader().readTree(text);
    }
}
