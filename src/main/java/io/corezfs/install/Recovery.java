package io.corezfs.install;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Reporter;
import io.corezfs.system.FileTrees;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** What is left of an install cut short (kill, power loss), made whole or undone. */
final class Recovery {
    private final FileOps ops;
    private final Reporter reporter;

    Recovery(FileOps ops, Reporter reporter) {
        this.ops = ops;
        this.reporter = reporter;
    }

    /**
     * Converges after a crash: {@code /etc} is rolled back or forward to match {@code /opt/corezfs} (see
     * {@link EtcStep}); a staged tree is never live, so it goes; an {@code /opt/corezfs} that was moved aside but
     * not replaced comes back.
     */
    void recover(Path root) {
        Path opt = root.resolve("opt");
        Path etc = root.resolve("etc");
        try {
            for (Path stage : list(etc, RootInstaller.STAGE_PREFIX)) {
                Path journal = stage.resolve(EtcStep.JOURNAL);
                if (!Files.isRegularFile(journal, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                // The commit renames the staged /opt tree away: while it is there, the commit did not happen and
                // /etc goes back to match the old /opt; once it is gone, /etc already matches the new one.
                String id = stage.getFileName().toString().substring(RootInstaller.STAGE_PREFIX.length());
                if (Files.exists(opt.resolve(RootInstaller.STAGE_PREFIX + id), LinkOption.NOFOLLOW_LINKS)) {
                    List<EtcStep> steps = EtcStep.read(journal);
                    for (int i = steps.size() - 1; i >= 0; i--) {
                        steps.get(i).undo(root, ops);
                    }
                    reporter.warn("rolled /etc back to the install before an interrupted one");
                }
                Files.delete(journal);
            }
            List<Path> old = list(opt, RootInstaller.OLD_PREFIX);
            Path current = opt.resolve("corezfs");
            if (!Files.exists(current, LinkOption.NOFOLLOW_LINKS) && old.size() == 1) {
                ops.move(old.get(0), current);
                reporter.warn("recovered " + current + " from an interrupted install");
                old = List.of();
            }
            for (Path p : old) {
                FileTrees.deleteTree(p);
            }
            for (Path p : list(opt, RootInstaller.STAGE_PREFIX)) {
                FileTrees.deleteTree(p);
            }
            for (Path p : list(etc, RootInstaller.STAGE_PREFIX)) {
                FileTrees.deleteTree(p);
            }
        } catch (IOException e) {
            throw new CorezfsException(ExitCode.UNEXPECTED, "cannot clean up an earlier interrupted install: " + e, e);
        }
    }

    private static List<Path> list(Path dir, String prefix) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, prefix + "*")) {
            ds.forEach(out::add);
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }
}
