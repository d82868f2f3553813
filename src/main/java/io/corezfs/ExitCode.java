package io.corezfs;

/**
 * Process exit codes. Scripts and fleet tooling branch on these, so the numbers are part of the CLI contract
 * and documented in the README.
 */
public enum ExitCode {
    OK(0),
    UNEXPECTED(1),
    USAGE(2),
    /** Host not supported or a precondition failed: not root, no Docker, no systemd, live install not possible. */
    PRECONDITION(3),
    /** The archive is malformed or unsafe to extract. */
    ARCHIVE_INVALID(4),
    /** Content does not verify: hash, signature, OS version or kernel mismatch. */
    VERIFICATION_FAILED(5),
    BUILD_FAILED(6),
    FLEET_PARTIAL(7),
    /** Installed, but ZFS did not come up (unit, module or version check failed); activation was rolled back. */
    ACTIVATION_FAILED(8);

    private final int code;

    ExitCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
