package io.corezfs.install;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.JsonMapping;
import io.corezfs.archive.ArchivePaths;
import io.corezfs.archive.Manifest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What the last install put on the host. It lives inside {@code /opt/corezfs/.corezfs/}, so it is swapped into
 * place in the same rename as the tree it describes and can never disagree with it.
 *
 * @param archive        the archive's file name
 * @param manifestSha256 identifies the installed content; equal hashes make a reinstall a no-op
 * @param manifest       the installed manifest, used to tell user-modified files in {@code /etc} from ours
 * @param links          unit enablement symlinks created by the install, relative to the root
 * @param createdDirs    directories outside /opt/corezfs that did not exist before the first install, relative to the
 *                       root; uninstall removes them when empty, and leaves every directory the host had
 */
@JsonPropertyOrder({"archive", "manifestSha256", "installedAt", "toolVersion", "links", "createdDirs", "manifest"})
public record InstallState(String archive, String manifestSha256, String installedAt, String toolVersion,
                           List<UnitLink> links, List<String> createdDirs, Manifest manifest) {

    public static final String FILE = ArchivePaths.STATE_DIR + "/state.json";

    private static final ObjectMapper MAPPER = JsonMapping.newMapper();

    /** The state under {@code root}, if corezfs is installed there. */
    public static Optional<InstallState> read(Path root) {
        Path file = root.resolve(FILE);
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try {
            return Optional.of(MAPPER.readValue(file.toFile(), InstallState.class));
        } catch (IOException e) {
            throw new CorezfsException(ExitCode.PRECONDITION, file + ": unreadable install state (" + e.getMessage()
                    + "); reinstall with corezfs install");
        }
    }

    public void write(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        MAPPER.writeValue(file.toFile(), this);
    }
}
