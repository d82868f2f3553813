package io.corezfs.install;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.JsonMapping;
import io.corezfs.archive.ArchivePaths;
import io.corezfs.archive.EntryType;
import io.corezfs.archive.Manifest;
import io.corezfs.archive.ManifestCodec;
import io.corezfs.archive.ManifestEntry;
import io.corezfs.system.UnitLink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the last install put on the host. It lives inside {@code /opt/corezfs/.corezfs/}, so it is swapped into
 * place in the same rename as the tree it describes and can never disagree with it.
 *
 * <p>It is read as untrusted input, like an archive: anyone who can write it could otherwise make uninstall remove
 * files outside the root. Every path in it must obey the archive's path rules, or it is refused as a whole.
 *
 * @param archive        the archive's file name
 * @param manifestSha256 identifies the installed content; equal hashes make a reinstall a no-op
 * @param manifest       the installed manifest, used to tell user-modified files in {@code /etc} from ours
 * @param links          unit enablement symlinks created by the install, relative to the root
 * @param createdDirs    directories outside /opt/corezfs that did not exist before the first install, relative to the
 *                       root; uninstall removes them when empty, and leaves every directory the host had
 * @param stats          size, mtime and inode of each file installed under {@code /opt/corezfs} as it was placed, so
 *                       a reinstall of the same archive hashes only files that look touched; null in older states
 */
@JsonPropertyOrder({
    "archive",
    "manifestSha256",
    "installedAt",
    "toolVersion",
    "links",
    "createdDirs",
    "manifest",
    "stats"
})
public record InstallState(
        String archive,
        String manifestSha256,
        String installedAt,
        String toolVersion,
        List<UnitLink> links,
        List<String> createdDirs,
        Manifest manifest,
        Map<String, FileStat> stats) {

    public static final String FILE = ArchivePaths.STATE_DIR + "/state.json";

    /** Twice the largest manifest an archive may carry, with room for the per-file records beside it. */
    public static final long MAX_BYTES = 128L << 20;

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private static final ObjectMapper WRITER = JsonMapping.newMapper();

    private static final ObjectMapper READER = JsonMapping.newStrictReader();

    /**
     * @param mtimeNanos last modification time in nanoseconds since the epoch
     * @param inode      the file's inode number (0 where the filesystem has none)
     */
    public record FileStat(long size, long mtimeNanos, long inode) {
        static FileStat of(Path p) throws IOException {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            Object ino = Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
            return new FileStat(
                    a.size(),
                    a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS),
                    ino instanceof Long l ? l : 0L);
        }
    }

    /**
     * The state under {@code root}, if corezfs is installed there. Refused (exit 4) when it is not a plain file of
     * sane size, not valid JSON of the right shape, or names any path an archive could not.
     */
    public static Optional<InstallState> read(Path root) {
        Path file = root;
        for (String part : FILE.split("/")) {
            // A symlinked /opt or /opt/corezfs would hand us a state (and a tree) from outside the root.
            if (Files.isSymbolicLink(file)) {
                throw CorezfsException.precondition(
                        file + " is a symlink; refusing to read or act on an install through it");
            }
            file = file.resolve(part);
        }
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw bad(file, "not a regular file");
        }
        InstallState s;
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw bad(file, "larger than " + (MAX_BYTES >> 20) + " MiB");
            }
            s = READER.readValue(Files.readAllBytes(file), InstallState.class);
        } catch (JsonProcessingException e) {
            throw bad(file, "not valid JSON of the right shape (" + oneLine(e.getOriginalMessage()) + ")");
        } catch (IOException e) {
            throw new CorezfsException(ExitCode.PRECONDITION, "cannot read " + file + ": " + e.getMessage());
        }
        if (s == null) {
            throw bad(file, "empty");
        }
        s.validate(file);
        return Optional.of(s);
    }

    private void validate(Path file) {
        if (archive == null
                || manifestSha256 == null
                || !SHA256.matcher(manifestSha256).matches()) {
            throw bad(file, "no archive name or manifest hash");
        }
        if (manifest == null) {
            throw bad(file, "no manifest");
        }
        ManifestCodec codec = new ManifestCodec();
        try {
            codec.decode(codec.encode(manifest), "manifest");
        } catch (CorezfsException | IllegalStateException | NullPointerException e) {
            throw bad(file, e.getMessage());
        }
        Set<String> paths = new HashSet<>();
        Map<String, EntryType> types = new HashMap<>();
        for (ManifestEntry e : manifest.entries()) {
            checkPath(file, e.path(), "entry");
            if (!paths.add(e.path())) {
                throw bad(file, "duplicate entry '" + printable(e.path()) + "'");
            }
            types.put(e.path(), e.type());
            if (e.type() == EntryType.HARDLINK) {
                checkPath(file, e.target(), "hardlink target");
            }
            if (e.type() == EntryType.SYMLINK
                    && (e.target().indexOf('\0') >= 0 || e.target().length() > 4096)) {
                throw bad(file, "malformed link target of '" + printable(e.path()) + "'");
            }
        }
        if (links == null || createdDirs == null) {
            throw bad(file, "no links or created directories");
        }
        Set<String> seen = new HashSet<>();
        for (UnitLink l : links) {
            if (l == null || l.path() == null || l.target() == null) {
                throw bad(file, "a malformed link");
            }
            checkPath(file, l.path(), "link");
            if (!l.path().startsWith("etc/") || !seen.add(l.path())) {
                throw bad(file, "link '" + printable(l.path()) + "' is outside etc/ or listed twice");
            }
        }
        seen.clear();
        for (String d : createdDirs) {
            if (d == null) {
                throw bad(file, "a null created directory");
            }
            if (!d.equals("etc") && !d.equals("opt")) {
                checkPath(file, d, "created directory");
                if (!d.startsWith("etc/")) {
                    throw bad(file, "created directory '" + printable(d) + "' is outside etc/");
                }
            }
            if (!seen.add(d)) {
                throw bad(file, "created directory '" + printable(d) + "' is listed twice");
            }
        }
        if (stats != null) {
            for (Map.Entry<String, FileStat> st : stats.entrySet()) {
                if (st.getValue() == null || types.get(st.getKey()) != EntryType.FILE) {
                    throw bad(file, "file record for '" + printable(st.getKey()) + "', which is not an installed file");
                }
            }
        }
    }

    private static void checkPath(Path file, String path, String what) {
        if (path == null) {
            throw bad(file, "a " + what + " without a path");
        }
        try {
            if (!ArchivePaths.check(path).equals(path)) {
                throw bad(file, what + " '" + printable(path) + "' is not canonical");
            }
        } catch (CorezfsException e) {
            throw bad(file, what + " " + e.getMessage());
        }
    }

    private static CorezfsException bad(Path file, String why) {
        return new CorezfsException(
                ExitCode.ARCHIVE_INVALID,
                file + ": invalid install state, refusing to act on it: " + oneLine(why)
                        + "; nothing was changed (move it aside and reinstall to recover)");
    }

    private static String printable(String s) {
        return io.corezfs.Text.printable(s, 120);
    }

    private static String oneLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        String line = s.strip().lines().findFirst().orElse("");
        return printable(line);
    }

    public void write(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        WRITER.writeValue(file.toFile(), this);
    }
}
