package io.corezfs.install;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The renames that put an install into place. A seam so tests can fail the Nth move and prove the rollback
 * leaves the host exactly as it was.
 */
@FunctionalInterface
public interface FileOps {
    void move(Path from, Path to) throws IOException;

    FileOps DEFAULT = (from, to) -> Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
}
