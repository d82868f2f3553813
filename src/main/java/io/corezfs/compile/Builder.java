package io.corezfs.compile;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Reporter;
import io.corezfs.archive.ArchiveWriter;
import io.corezfs.archive.Manifest;
import io.corezfs.docker.Docker;
import io.corezfs.host.Environment;
import io.corezfs.host.HostFacts;
import io.corezfs.host.RootFs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * From a developer image and a verified ZFS source to an archive: compile in a container, collect the install
 * tree, pack it reproducibly. The archive is written under a temporary name and renamed, so a failed build never
 * leaves one behind.
 */
public final class Builder {
    private final Docker docker;
    private final Reporter reporter;
    private final String toolVersion;
    private final Environment env;

    public Builder(Docker docker, Reporter reporter, String toolVersion, Environment env) {
        this.docker = docker;
        this.reporter = reporter;
        this.toolVersion = toolVersion;
        this.env = env;
    }

    /**
     * @param sources    release tarball first (then SPL's for releases before 0.8)
     * @param workDir    scratch space for this build; removed afterwards unless {@code keep}
     * @param target     the archive file to write
     */
    public Manifest build(
            String image,
            HostFacts facts,
            RootFs targetRoot,
            String zfsVersion,
            List<Path> sources,
            String topDir,
            long epoch,
            int jobs,
            Path workDir,
            Path log,
            Path target,
            boolean keep) {
        try {
            Files.createDirectories(workDir);
            Files.createDirectories(log.getParent());
            Path out = workDir.resolve("out");
            Path tree = workDir.resolve("tree");
            deleteTree(out);
            deleteTree(tree);
            reporter.info("building ZFS " + zfsVersion + " for kernel " + facts.kernel() + " in " + image + " (log: "
                    + log + ")");
            new BuildRun(docker, reporter, env).run(image, facts.kernel(), sources, topDir, epoch, jobs, log, out);
            new TreeCollector(reporter).collect(out, targetRoot, facts.kernel(), tree);
            Manifest header = new Manifest(
                    Manifest.FORMAT,
                    facts.os(),
                    facts.version(),
                    facts.board(),
                    facts.channel(),
                    facts.kernel(),
                    facts.arch(),
                    zfsVersion,
                    toolVersion,
                    epoch,
                    List.of());
            Manifest m = new ArchiveWriter(Math.max(1, jobs)).pack(tree, header, target);
            if (!keep) {
                deleteTree(workDir);
            } else {
                reporter.info("kept the build tree in " + workDir);
            }
            return m;
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("No space left on device")) {
                cleanQuietly(workDir);
                throw new CorezfsException(
                        ExitCode.PRECONDITION,
                        "disk full while building in " + workDir + "; the partial files were removed");
            }
            throw new CorezfsException(ExitCode.BUILD_FAILED, "build failed: " + e);
        } catch (RuntimeException e) {
            if (!keep) {
                cleanQuietly(workDir);
            }
            throw e;
        }
    }

    private static void cleanQuietly(Path dir) {
        try {
            deleteTree(dir);
        } catch (IOException ignored) {
            // the error being reported matters more
        }
    }

    static void deleteTree(Path p) throws IOException {
        io.corezfs.system.FileTrees.deleteTree(p);
    }
}
