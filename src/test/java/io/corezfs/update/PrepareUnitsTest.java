package io.corezfs.update;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The timer ships in every archive and its preset enables it; the service runs this tool, so install writes it with its
 * launcher's path (BootUnitTest checks that), like the boot units.
 */
class PrepareUnitsTest {
    private static String unit(String name) throws IOException {
        try (InputStream in = PrepareUnitsTest.class.getResourceAsStream("/io/corezfs/units/" + name)) {
            assertTrue(in != null, name + " is packaged with the units");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void theServiceRunsPrepareFromUpdateEngineOnceTheNetworkIsUp() throws IOException {
        List<String> lines = unit("corezfs-prepare.service").lines().toList();
        for (String want : List.of(
                "Type=oneshot", "Wants=network-online.target", "ExecStart=@LAUNCHER@ prepare --from-update-engine")) {
            assertTrue(lines.contains(want), want);
        }
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("After=") && l.contains("network-online.target")));
    }

    @Test
    void theTimerRunsItAfterBootAndHourlyAndIsEnabledByThePreset() throws IOException {
        List<String> lines = unit("corezfs-prepare.timer").lines().toList();
        for (String want : List.of("OnBootSec=10min", "OnUnitActiveSec=1h", "WantedBy=timers.target")) {
            assertTrue(lines.contains(want), want);
        }
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("RandomizedDelaySec=")));
        String preset = Files.readString(Path.of("overlay/etc/systemd/system-preset/40-corezfs.preset"));
        assertTrue(preset.lines().anyMatch("enable corezfs-prepare.timer"::equals), preset);
    }
}
