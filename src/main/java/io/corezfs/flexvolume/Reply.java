package io.corezfs.flexvolume;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corezfs.ExitCode;

/**
 * The driver's answer to the kubelet: one JSON object on stdout, {@code {"status":"Success|Failure|Not supported",
 * "message":...}}, with {@code capabilities} for {@code init}. The kubelet reads stdout and stderr together and parses
 * them as this one object, so nothing else may be written on either.
 *
 * @param exitCode the process's exit code: 0 for Success and Not supported, the failure's own code otherwise. The
 *                 kubelet judges the JSON, not the code, but calls a non-zero exit with "Success" a driver bug, and
 *                 an operator calling the driver by hand gets corezfs's usual codes (2 bad options, 3 not configured
 *                 or a precondition, 1 a zfs or mount failure).
 */
public record Reply(String status, String message, boolean withCapabilities, int exitCode) {
    public static final String SUCCESS = "Success";
    public static final String FAILURE = "Failure";
    public static final String NOT_SUPPORTED = "Not supported";

    private static final ObjectMapper JSON = new ObjectMapper();

    public static Reply success(String message) {
        return new Reply(SUCCESS, message, false, 0);
    }

    /** {@code init}'s answer: this driver needs no attach step (no attach, detach, waitforattach, mountdevice). */
    public static Reply initialized() {
        return new Reply(SUCCESS, "corezfs/zfs: ZFS datasets bind-mounted into pods", true, 0);
    }

    public static Reply failure(String message, ExitCode code) {
        return new Reply(FAILURE, message, false, code == ExitCode.OK ? ExitCode.UNEXPECTED.code() : code.code());
    }

    public static Reply notSupported(String verb) {
        return new Reply(
                NOT_SUPPORTED, verb + " is not supported: corezfs/zfs mounts datasets, it attaches nothing", false, 0);
    }

    /** The reply as the one line the kubelet parses. */
    public String json() {
        ObjectNode o = JSON.createObjectNode();
        o.put("status", status);
        o.put("message", message);
        if (withCapabilities) {
            o.putObject("capabilities").put("attach", false);
        }
        return o.toString();
    }
}
