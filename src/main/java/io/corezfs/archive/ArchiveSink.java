package io.corezfs.archive;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Receives an archive's entries after the reader has checked them against the manifest. File content arrives
 * through the returned stream and is only known to be good once {@link ArchiveReader#read} returns: a sink writes
 * into staging, never into place.
 */
public interface ArchiveSink {
    void directory(ManifestEntry entry) throws IOException;

    /** A stream for the file's bytes; the reader closes it. */
    OutputStream file(ManifestEntry entry) throws IOException;

    void symlink(ManifestEntry entry) throws IOException;

    void hardlink(ManifestEntry entry) throws IOException;

    /** Discards everything: verification only. */
    ArchiveSink DISCARD = new ArchiveSink() {
        @Override
        public void directory(ManifestEntry entry) {}

        @Override
        public OutputStream file(ManifestEntry entry) {
            return OutputStream.nullOutputStream();
        }

        @Override
        public void symlink(ManifestEntry entry) {}

        @Override
        public void hardlink(ManifestEntry entry) {}
    };
}
