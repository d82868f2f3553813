package io.corezfs.host;

import java.util.Locale;

/** Architecture names: uname form is canonical; Flatcar boards and the JVM use their own spellings. */
public final class Arch {
    private Arch() {}

    public static String fromJvm(String osArch) {
        String a = osArch.toLowerCase(Locale.ROOT);
        return switch (a) {
            case "amd64", "x86_64", "x86-64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> a;
        };
    }

    /** Flatcar's board for an architecture: {@code amd64-usr}, {@code arm64-usr}. */
    public static String board(String arch) {
        return switch (arch) {
            case "x86_64" -> "amd64-usr";
            case "aarch64" -> "arm64-usr";
            default -> arch + "-usr";
        };
    }

    /** The architecture a Flatcar board runs on, or null for a board we don't know. */
    public static String fromBoard(String board) {
        return switch (board) {
            case "amd64-usr" -> "x86_64";
            case "arm64-usr" -> "aarch64";
            default -> null;
        };
    }
}
