package io.corezfs.fleet;

import io.corezfs.system.ProcessRequest;
import io.corezfs.system.ProcessResult;
import java.io.InputStream;
import java.util.Optional;

/**
 * The SSH seam: how fleet reaches a node. {@link JschSsh} is the real one; tests use a fake that runs the same
 * commands on this machine. {@code SshContract} holds both to the behaviour below.
 *
 * <ul>
 *   <li>{@link #connect} checks the node's host key before anything else: an unknown key (unless new keys are
 *       accepted, and then it is recorded) or a changed one is a {@link SshException} of kind {@code HOST_KEY}, and no
 *       command runs;</li>
 *   <li>a refused login, a node that does not answer within the connect timeout, and a lost connection are
 *       {@link SshException}s of their own kinds, each one line;</li>
 *   <li>a command runs as the request's argv, quoted for the node's POSIX shell, so no argument is ever split or
 *       expanded there; its result has the shape of a local {@link ProcessResult}, with exit 124 when it overran its
 *       timeout (the channel is closed then).</li>
 * </ul>
 */
public interface Ssh {
    /** Makes the transport for one run's settings. */
    @FunctionalInterface
    interface Factory {
        Ssh open(SshSettings settings);
    }

    /** Opens an authenticated session to {@code target}, or throws a {@link SshException} saying why not. */
    Session connect(SshTarget target);

    /** An open connection to one node. Used by one thread at a time (it may be handed from one to the next). */
    interface Session extends AutoCloseable {
        /** Runs {@code request.argv()} on the node, its stdin the request's input, to its exit or timeout. */
        default ProcessResult run(ProcessRequest request) {
            return run(request, Optional.empty());
        }

        /**
         * As {@link #run(ProcessRequest)}, its stdin read from {@code stdin} to the end instead: a push streams a file
         * this way. A connection lost while sending is a {@link SshException} of kind {@code CONNECTION}.
         */
        ProcessResult run(ProcessRequest request, Optional<InputStream> stdin);

        /** Bytes sent as commands' stdin over this session: what a resumed push really cost. */
        long bytesSent();

        @Override
        void close();
    }
}
