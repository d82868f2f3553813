package io.corezfs.fleet;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;

/**
 * {@code --max-failures}: how many failed hosts a rollout tolerates before it starts no new one, as a count
 * ({@code 2}) or a share of the hosts ({@code 10%}, rounded down).
 */
public record Budget(int value, boolean percent) {
    public static Budget parse(String s) {
        if (s.matches("[0-9]{1,6}")) {
            return new Budget(Integer.parseInt(s), false);
        }
        if (s.matches("[0-9]{1,3}%") && Integer.parseInt(s.substring(0, s.length() - 1)) <= 100) {
            return new Budget(Integer.parseInt(s.substring(0, s.length() - 1)), true);
        }
        throw new CorezfsException(
                ExitCode.USAGE, "--max-failures: expected a count (2) or a percentage (10%), not '" + s + "'");
    }

    /** Failures tolerated among {@code hosts}. */
    public int allowed(int hosts) {
        return percent ? hosts * value / 100 : value;
    }

    @Override
    public String toString() {
        return value + (percent ? "%" : "");
    }
}
