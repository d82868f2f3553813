package io.corezfs.install;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.archive.ArchivePaths;
import io.corezfs.archive.Modes;
import io.corezfs.system.FileTrees;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One change an install makes to {@code /etc}. All of them are written to a journal in the {@code /etc} staging
 * directory, and flushed, before the first is made, so a run killed between placing {@code /etc} and the commit
 * rename of {@code /opt/corezfs} is rolled back by the next run (or rolled forward: nothing left to do, once the
 * commit happened). Each step is undone by what it finds, not by whether it ran: undoing a step that never ran
 * changes nothing, and undoing one twice is harmless.
 *
 * @param kind  {@code mkdir}, {@code movein} (from staging), {@code aside} (to the backup), {@code aside-if-empty}
 *              (a directory, aside only if empty when reached) or {@code link}
 * @param path  the live path, relative to the root, always under {@code etc/}
 * @param other the staged file ({@code movein}), the backup ({@code aside}), the link's target ({@code link}), or "-"
 * @param mode  octal mode for {@code mkdir}, or "-"
 */
record EtcStep(String kind, String path, String other, String mode) {
    static final String JOURNAL = "journal";
    private static final Set<String> KINDS = Set.of("mkdir", "movein", "aside", "aside-if-empty", "link");

    void apply(Path root, FileOps ops) throws IOException {
        Path p = RootPaths.inRoot(root, path, "write");
        switch (kind) {
            case "mkdir" -> {
                Files.createDirectory(p);
                if (!mode.equals("-")) {
                    Files.setPosixFilePermissions(p, Modes.perms(Integer.parseInt(mode, 8)));
                }
            }
            case "movein" -> ops.move(RootPaths.inRoot(root, other, "restore"), p);
            case "aside" -> ops.move(p, RootPaths.inRoot(root, other, "restore"));
            case "aside-if-empty" -> {
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) && FileTrees.isEmpty(p)) {
                    ops.move(p, RootPaths.inRoot(root, other, "restore"));
                }
            }
            case "link" -> Files.createSymbolicLink(p, Path.of(other));
            default -> throw new IllegalStateException(kind);
        }
    }

    /** Like every removal, never through a symlinked directory, even when the journal names the path. */
    void undo(Path root, FileOps ops) throws IOException {
        Path p = RootPaths.inRoot(root, path, "restore");
        switch (kind) {
            case "mkdir" -> {
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) && FileTrees.isEmpty(p)) {
                    Files.delete(p);
                }
            }
            // The staged file is gone exactly when the rename happened; the target never existed before it.
            case "movein" -> {
                if (!Files.exists(RootPaths.inRoot(root, other, "restore"), LinkOption.NOFOLLOW_LINKS)
                        && Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                    Files.delete(p);
                }
            }
            case "aside", "aside-if-empty" -> {
                if (Files.exists(RootPaths.inRoot(root, other, "restore"), LinkOption.NOFOLLOW_LINKS)) {
                    ops.move(RootPaths.inRoot(root, other, "restore"), p);
                }
            }
            case "link" -> {
                if (Files.isSymbolicLink(p)
                        && Files.readSymbolicLink(p).toString().equals(other)) {
                    Files.delete(p);
                }
            }
            default -> throw new IllegalStateException(kind);
        }
    }

    static void write(Path journal, List<EtcStep> steps) throws IOException {
        StringBuilder b = new StringBuilder();
        for (EtcStep s : steps) {
            b.append(s.kind)
                    .append('\t')
                    .append(s.path)
                    .append('\t')
                    .append(s.other)
                    .append('\t')
                    .append(s.mode)
                    .append('\n');
        }
        Files.writeString(journal, b.toString(), StandardCharsets.UTF_8);
    }

    /** The journal of an interrupted install, checked like any other input: it may name only paths under etc/. */
    static List<EtcStep> read(Path journal) throws IOException {
        List<EtcStep> out = new ArrayList<>();
        if (Files.size(journal) > InstallState.MAX_BYTES) {
            throw bad(journal, "too large");
        }
        for (String line : Files.readAllLines(journal, StandardCharsets.UTF_8)) {
            String[] f = line.split("\t", -1);
            if (f.length != 4 || !KINDS.contains(f[0])) {
                throw bad(journal, "malformed line");
            }
            EtcStep s = new EtcStep(f[0], f[1], f[2], f[3]);
            checkEtc(journal, s.path);
            if (s.kind.equals("movein") || s.kind.startsWith("aside")) {
                checkEtc(journal, s.other);
                if (!s.other.startsWith("etc/" + RootInstaller.STAGE_PREFIX)) {
                    throw bad(journal, "'" + s.other + "' is not in a staging directory");
                }
            }
            if (s.kind.equals("mkdir") && !s.mode.equals("-") && !s.mode.matches("[0-7]{4}")) {
                throw bad(journal, "malformed mode");
            }
            out.add(s);
        }
        return out;
    }

    private static void checkEtc(Path journal, String rel) {
        try {
            if (!rel.startsWith("etc/") || !ArchivePaths.check(rel).equals(rel)) {
                throw bad(journal, "'" + rel + "' is not a canonical path under etc/");
            }
        } catch (CorezfsException e) {
            throw bad(journal, e.getMessage());
        }
    }

    private static CorezfsException bad(Path journal, String why) {
        return new CorezfsException(
                ExitCode.ARCHIVE_INVALID,
                journal + ": invalid journal of an interrupted install ("
                        + why.lines().findFirst().orElse("") + "); move it aside to go on");
    }
}
