package io.corezfs;

/**
 * The one exception type the core throws for expected failures. Its message is the one line the user sees,
 * so it must name the file, entry or value at fault; the exit code tells scripts what class of failure it was.
 */
public class CorezfsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ExitCode exitCode;

    public CorezfsException(ExitCode exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public CorezfsException(ExitCode exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public ExitCode exitCode() {
        return exitCode;
    }

    public static CorezfsException invalidArchive(String message) {
        return new CorezfsException(ExitCode.ARCHIVE_INVALID, message);
    }

    public static CorezfsException verification(String message) {
        return new CorezfsException(ExitCode.VERIFICATION_FAILED, message);
    }

    public static CorezfsException precondition(String message) {
        return new CorezfsException(ExitCode.PRECONDITION, message);
    }
}
