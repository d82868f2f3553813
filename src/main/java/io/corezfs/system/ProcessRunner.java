package io.corezfs.system;

import java.io.InputStream;

/**
 * The one way corezfs runs a program, on this machine ({@link LocalProcessRunner}) or another (Fleet, over SSH).
 * Every implementation keeps the same promises, which {@code ProcessRunnerContract} states as tests:
 * <ul>
 *   <li>a program never runs past its request's timeout: then it and everything it started are killed, and the
 *       result says {@link ProcessResult.Outcome#TIMED_OUT};</li>
 *   <li>stdout and stderr are drained at the same time, so a program that writes much to one while corezfs waits on
 *       the other never stalls;</li>
 *   <li>a failure is reported, not thrown: a non-zero exit, a program that cannot be started, a timeout and an
 *       interruption all come back as a {@link ProcessResult} whose {@link ProcessResult#describe()} is one line
 *       with the command, the exit code and the last line of stderr.</li>
 * </ul>
 */
public interface ProcessRunner {
    /** Runs to completion or to the deadline, keeping stdout up to its cap and the tail of stderr. */
    ProcessResult run(ProcessRequest request);

    /**
     * Starts a program whose stdout the caller reads as a stream (a tar piped into {@code docker import}). Stderr is
     * drained meanwhile; the deadline counts from the start and kills the tree even while the caller is still
     * reading, which then sees the end of the stream.
     */
    Streaming start(ProcessRequest request);

    /** A started program. {@link #finish()} or {@link #kill()} must be called; both may be called more than once. */
    interface Streaming {
        /** The program's standard output; the caller reads and closes it. */
        InputStream stdout();

        /** Waits for the exit (within the deadline), then reports it; stdout in the result is always empty. */
        ProcessResult finish();

        /** Kills the program and everything it started, then waits for them to go. */
        void kill();
    }
}
