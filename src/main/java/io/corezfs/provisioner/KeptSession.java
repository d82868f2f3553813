package io.corezfs.provisioner;

import io.corezfs.fleet.Ssh;
import io.corezfs.system.ProcessRequest;
import io.corezfs.system.ProcessResult;
import java.util.function.Supplier;

/** One SSH session reused by one command after another; replaced after a failure. */
final class KeptSession {
    private final Supplier<Ssh.Session> connect;
    private Ssh.Session session;

    KeptSession(Supplier<Ssh.Session> connect) {
        this.connect = connect;
    }

    /** Sessions serve one thread at a time; the controller's passes are one thread, this keeps it so. */
    synchronized ProcessResult run(ProcessRequest request) {
        if (session == null) {
            session = connect.get();
        }
        try {
            ProcessResult r = session.run(request);
            if (r.outcome() != ProcessResult.Outcome.EXITED) {
                drop();
            }
            return r;
        } catch (RuntimeException e) {
            drop();
            throw e;
        }
    }

    private void drop() {
        Ssh.Session s = session;
        session = null;
        try {
            s.close();
        } catch (RuntimeException ignored) {
            // Already broken; the next command connects afresh.
        }
    }
}
