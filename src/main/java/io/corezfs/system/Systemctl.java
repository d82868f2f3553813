package io.corezfs.system;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.util.List;

/**
 * The systemd manager of the live host, one method per use. Enabling and disabling make links only
 * ({@code --no-reload}): the caller reloads the manager once when all links are made. A checked call that fails
 * names the unit's last journal lines.
 */
public final class Systemctl {
    private final LiveSystem sys;

    public Systemctl(LiveSystem sys) {
        this.sys = sys;
    }

    public void daemonReload() {
        sys.run(List.of("systemctl", "daemon-reload"));
    }

    /** Best effort: a unit that is not there or not enabled is already as wanted. */
    public LiveSystem.Result disable(String unit) {
        return unitFiles("disable", unit);
    }

    public void enableChecked(String unit) {
        requireOk(unitFiles("enable", unit), "enable", unit);
    }

    public void startChecked(String unit) {
        requireOk(sys.run(List.of("systemctl", "start", unit)), "start", unit);
    }

    /** The unit's last journal lines as a suffix for an error message; empty when there are none. */
    public String journalHint(String unit) {
        LiveSystem.Result j = sys.run(List.of("journalctl", "-u", unit, "-n", "3", "--no-pager", "-o", "cat"));
        String tail = j.ok() ? j.output().strip().replace('\n', ' ') : "";
        return tail.isEmpty() ? "" : " (journal: " + tail + ")";
    }

    private LiveSystem.Result unitFiles(String verb, String unit) {
        return sys.run(List.of("systemctl", verb, "--no-reload", unit));
    }

    private void requireOk(LiveSystem.Result r, String verb, String unit) {
        if (!r.ok()) {
            throw new CorezfsException(
                    ExitCode.ACTIVATION_FAILED,
                    "systemctl " + verb + " " + unit + " failed: " + r.lastLine() + journalHint(unit));
        }
    }
}
