package io.corezfs.fleet;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;

/** Why a node could not be reached or lost its connection; the message is one line naming the node. */
public final class SshException extends CorezfsException {
    public enum Kind {
        /** The host key is unknown or changed: nothing ran. */
        HOST_KEY,
        /** The node refused every key offered. */
        AUTH,
        /** No connection within the connect timeout, or refused. */
        UNREACHABLE,
        /** The connection broke after it was made. */
        CONNECTION
    }

    private final Kind kind;

    public SshException(Kind kind, String message, Throwable cause) {
        super(ExitCode.PRECONDITION, message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
