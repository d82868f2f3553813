package io.corezfs.install;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Reporter;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.archive.EntryType;
import io.corezfs.archive.Manifest;
import io.corezfs.archive.ManifestEntry;
import io.corezfs.host.HostFacts;
import io.corezfs.system.FileTrees;
import io.corezfs.system.Presets;
import io.corezfs.system.UnitEnabler;
import io.corezfs.system.UnitLink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Installs an archive into a root directory, all or nothing.
 *
 * <p>Everything is extracted and verified in staging directories beside {@code /etc} and {@code /opt} first. Only
 * then are files renamed into place, each rename recorded with its undo; the rename of the staged tree onto
 * {@code /opt/corezfs}, which carries the new install state, is the commit point. A failure before it undoes every
 * rename in reverse, so the root ends exactly as it was. Leftovers of a crashed run are recovered at the next start.
 */
public final class RootInstaller {
    private static final Set<String> UNIT_SUFFIXES =
            Set.of(".service", ".target", ".socket", ".timer", ".path", ".mount", ".automount", ".swap", ".slice");
    /**
     * An offline install is presented by the overlay unit at boot, as it always was, so its commit never enables the
     * sysext unit (the same rule {@code Activation.OVERLAY} gives a live install).
     */
    static final List<String> OFFLINE_PRESET_RULES = List.of("disable corezfs-sysext.service");

    static final String STAGE_PREFIX = ".corezfs-stage-";
    static final String OLD_PREFIX = ".corezfs-old-";

    private final ArchiveReader reader;
    private final FileOps ops;
    private final Reporter reporter;
    private final Clock clock;
    private final String toolVersion;

    public RootInstaller(ArchiveReader reader, FileOps ops, Reporter reporter, Clock clock, String toolVersion) {
        this.reader = reader;
        this.ops = ops;
        this.reporter = reporter;
        this.clock = clock;
        this.toolVersion = toolVersion;
    }

    public enum Outcome {
        INSTALLED,
        REPLACED,
        UNCHANGED,
        REPAIRED
    }

    /**
     * @param keptModified files in /etc left as the user changed them, each with a {@code .corezfs-new} beside it
     * @param repaired     host paths that were missing or differed from the same archive's install, now as shipped
     */
    public record Result(
            Outcome outcome, String archive, List<String> keptModified, List<UnitLink> links, List<String> repaired) {}

    /** An offline install (an image, a mounted root): the overlay unit presents the tree at boot, as it always has. */
    public Result install(Path archive, Path rootDir, HostFacts host, boolean force) {
        return install(archive, rootDir, host, force, () -> {}, OFFLINE_PRESET_RULES);
    }

    /**
     * @param beforeCommit runs once the new content is extracted and verified in staging and before anything live is
     *                     touched; a live host stops what uses the old tree there. If it throws, nothing was changed.
     * @param presetRules  rules that win over the archive's and the host's presets: the live activation mode
     *                     passes its own, so the commit never enables the other mode's unit
     */
    public Result install(
            Path archive,
            Path rootDir,
            HostFacts host,
            boolean force,
            Runnable beforeCommit,
            List<String> presetRules) {
        Path root = realRoot(rootDir);
        ArchiveReader.Loaded head = reader.readManifest(archive);
        checkTarget(head.manifest(), host, force);
        recover(root);
        Optional<InstallState> previous = InstallState.read(root);
        List<String> damage = List.of();
        if (previous.isPresent() && previous.get().manifestSha256().equals(head.sha256())) {
            damage = InstallCheck.damage(root, previous.get());
            if (damage.isEmpty()) {
                return new Result(
                        Outcome.UNCHANGED,
                        archive.getFileName().toString(),
                        List.of(),
                        previous.get().links(),
                        List.of());
            }
        }
        try {
            Result r = new Transaction(archive, root, previous.orElse(null), presetRules).run(head, beforeCommit);
            return damage.isEmpty()
                    ? r
                    : new Result(Outcome.REPAIRED, r.archive(), r.keptModified(), r.links(), damage);
        } catch (IOException e) {
            throw HostFailures.hostFailure(e, root, HostFailures.spaceNeeded(head.manifest()))
                    .orElseGet(() -> new CorezfsException(
                            ExitCode.UNEXPECTED, "install into " + root + " failed and was rolled back: " + e, e));
        }
    }

    /**
     * Removes what the last install put under {@code rootDir}: its unit links, the files in {@code /etc} that are
     * still as shipped, empty ZFS directories, and {@code /opt/corezfs} (moved aside first, so a crash leaves either
     * the whole tree or none). Files changed locally stay and are reported. Pools and their data are never touched.
     *
     * @return the files kept because they were changed locally; empty when nothing was installed
     */
    public List<String> remove(Path rootDir) {
        Path root = realRoot(rootDir);
        recover(root);
        Optional<InstallState> state = InstallState.read(root);
        if (state.isEmpty()) {
            return List.of();
        }
        RemovalPlan plan = RemovalPlan.of(root, state.get());
        List<Path> delete = plan.delete();
        List<String> kept = plan.kept();
        List<Path> dirs = plan.dirs();
        Path current = plan.current();
        try {
            for (Path p : delete) {
                Files.delete(p);
            }
            if (Files.exists(current, LinkOption.NOFOLLOW_LINKS)) {
                Path aside = root.resolve("opt")
                        .resolve(OLD_PREFIX + UUID.randomUUID().toString().substring(0, 8));
                ops.move(current, aside);
                FileTrees.deleteTree(aside);
            }
            for (Path p : dirs) {
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) && FileTrees.isEmpty(p)) {
                    Files.delete(p);
                }
            }
        } catch (IOException e) {
            throw new CorezfsException(ExitCode.UNEXPECTED, "removing corezfs from " + root + " failed: " + e, e);
        }
        for (String k : kept) {
            reporter.warn("kept " + k + ": changed locally");
        }
        return kept;
    }

    /**
     * Checks everything {@link #remove} would remove under {@code rootDir}, without removing anything: a live
     * uninstall calls it before it stops a single unit.
     */
    public void checkRemoval(Path rootDir) {
        Path root = realRoot(rootDir);
        InstallState.read(root).ifPresent(s -> RemovalPlan.of(root, s));
    }

    private static Path realRoot(Path rootDir) {
        try {
            Path r = rootDir.toRealPath();
            if (!Files.isDirectory(r)) {
                throw CorezfsException.precondition(rootDir + ": not a directory");
            }
            return r;
        } catch (IOException e) {
            throw CorezfsException.precondition(rootDir + ": no such directory");
        }
    }

    private void checkTarget(Manifest m, HostFacts host, boolean force) {
        String built = m.os() + " " + m.osVersion() + " " + m.board() + " " + m.arch();
        String here = host.os() + " " + host.version() + " " + host.board() + " " + host.arch();
        if (!built.equals(here)) {
            throw CorezfsException.verification("archive is for " + built + " but the target is " + here);
        }
        if (!m.kernel().equals(host.kernel())) {
            String msg = "archive was built for kernel " + m.kernel() + " but the target runs " + host.kernel();
            if (!force) {
                throw CorezfsException.verification(msg + " (use --force to install anyway)");
            }
            reporter.warn(msg + "; installing anyway because of --force. The module will not load on this kernel.");
        }
    }

    /**
     * Makes what was written under {@code /opt} and {@code /etc} of {@code rootDir} since the commit durable: the live
     * install's activation files (mode record, extension-release), so a crash after it returns cannot undo them.
     */
    public void flush(Path rootDir) {
        for (String dir : List.of("opt", "etc")) {
            try {
                ops.syncFilesystem(rootDir.resolve(dir));
            } catch (IOException e) {
                reporter.warn("could not flush /" + dir + " to disk: " + e.getMessage());
            }
        }
    }

    /**
     * Converges after a crash (see {@link Recovery}). Runs under the root's lock, so no staging directory here belongs
     * to a live run.
     */
    public void recover(Path root) {
        new Recovery(ops, reporter).recover(root);
    }

    /** One install attempt, with everything it needs to undo. */
    private final class Transaction {
        private final Path archive;
        private final Path root;
        private final InstallState previous;
        private final List<String> presetRules;
        private final String id = UUID.randomUUID().toString().substring(0, 8);
        private final Path etcStage;
        private final Path optStage;
        private final Path backup;
        private final Deque<Undo> undo = new ArrayDeque<>();
        private final List<String> keptModified = new ArrayList<>();
        private final List<String> createdTop = new ArrayList<>();

        Transaction(Path archive, Path root, InstallState previous, List<String> presetRules) {
            this.archive = archive;
            this.root = root;
            this.previous = previous;
            this.presetRules = presetRules;
            this.etcStage = root.resolve("etc").resolve(STAGE_PREFIX + id);
            this.optStage = root.resolve("opt").resolve(STAGE_PREFIX + id);
            this.backup = etcStage.resolve("backup");
        }

        Result run(ArchiveReader.Loaded head, Runnable beforeCommit) throws IOException {
            checkSpace(head.manifest());
            checkPaths(
                    head.manifest().entries().stream()
                            .map(ManifestEntry::path)
                            .filter(p -> p.startsWith("etc/"))
                            .toList(),
                    "write");
            checkPaths(
                    previousEntries().keySet().stream()
                            .filter(p -> p.startsWith("etc/"))
                            .toList(),
                    "remove");
            if (previous != null) {
                checkPaths(previous.links().stream().map(UnitLink::path).toList(), "remove");
            }
            for (String top : List.of("etc", "opt")) {
                if (!Files.exists(root.resolve(top), LinkOption.NOFOLLOW_LINKS)) {
                    createdTop.add(top);
                }
            }
            Path current = root.resolve("opt/corezfs");
            try {
                ensureRealDir("etc");
                ensureRealDir("opt");
                if (Files.isSymbolicLink(current)) {
                    throw CorezfsException.precondition(current + " is a symlink; refusing to write through it");
                }
                // Undone before the directories they sit in: a created /opt can only go once its staging is gone.
                Files.createDirectory(etcStage);
                undo.push(() -> FileTrees.deleteTree(etcStage));
                Files.createDirectory(optStage);
                undo.push(() -> FileTrees.deleteTree(optStage));
                StagingSink sink = new StagingSink(
                        etcStage.resolve("files"),
                        optStage,
                        head.manifest().buildEpoch(),
                        ops,
                        (e, p) -> HostFailures.hostFailure(e, p, HostFailures.spaceNeeded(head.manifest()))
                                .orElseGet(() -> new CorezfsException(
                                        ExitCode.UNEXPECTED,
                                        "cannot write " + p + " in staging: " + e.getMessage(),
                                        e)));
                ArchiveReader.Loaded loaded = reader.read(archive, sink);
                if (!loaded.sha256().equals(head.sha256())) {
                    throw CorezfsException.verification(archive + " changed while it was being installed");
                }
                Manifest m = loaded.manifest();
                Files.createDirectories(backup);
                List<UnitLink> links = planLinks(m, sink);
                checkPaths(links.stream().map(UnitLink::path).toList(), "write");
                List<EtcStep> etcSteps = planEtc(m, sink, links);
                EtcStep.write(etcStage.resolve(EtcStep.JOURNAL), etcSteps);
                InstallState state = new InstallState(
                        archive.getFileName().toString(),
                        loaded.sha256(),
                        clock.instant().toString(),
                        toolVersion,
                        links,
                        createdDirs(m, links),
                        m,
                        stats(m, sink));
                state.write(optStage.resolve(".corezfs/state.json"));
                sink.finish();
                // Every staged byte on disk before any rename can expose it (see FileOps.syncFilesystem).
                ops.syncFilesystem(optStage);
                ops.syncFilesystem(etcStage);
                beforeCommit.run();

                placeEtc(etcSteps);
                boolean replaced = swapOpt(current);
                flush(root); // the renames themselves; a failure is only reported, the install is complete
                cleanup();
                reportKept();
                return new Result(
                        replaced ? Outcome.REPLACED : Outcome.INSTALLED,
                        state.archive(),
                        List.copyOf(keptModified),
                        links,
                        List.of());
            } catch (RuntimeException | IOException e) {
                rollback(e);
                throw e;
            }
        }

        /**
         * The directories this install will create outside {@code /opt/corezfs}, plus those an earlier install
         * created: uninstall takes back exactly these.
         */
        private List<String> createdDirs(Manifest m, List<UnitLink> links) {
            Set<String> dirs = new java.util.TreeSet<>();
            if (previous != null) {
                dirs.addAll(previous.createdDirs());
            }
            dirs.addAll(createdTop);
            List<String> wanted = new ArrayList<>();
            for (ManifestEntry e : m.entries()) {
                if (e.path().startsWith("etc/")) {
                    wanted.add(e.type() == EntryType.DIR ? e.path() : parentOf(e.path()));
                }
            }
            for (UnitLink l : links) {
                wanted.add(parentOf(l.path()));
            }
            wanted.add("opt");
            for (String w : wanted) {
                for (String d = w; d != null && !d.isEmpty(); d = parentOf(d)) {
                    if (!Files.exists(root.resolve(d), LinkOption.NOFOLLOW_LINKS)) {
                        dirs.add(d);
                    }
                }
            }
            return List.copyOf(dirs);
        }

        /** Each staged file's stat as it will be in place: a rename keeps size, mtime and inode. */
        private Map<String, InstallState.FileStat> stats(Manifest m, StagingSink sink) throws IOException {
            Map<String, InstallState.FileStat> out = new java.util.TreeMap<>();
            for (ManifestEntry e : m.entries()) {
                if (e.type() == EntryType.FILE && e.path().startsWith("opt/")) {
                    out.put(e.path(), InstallState.FileStat.of(sink.map(e.path())));
                }
            }
            return out;
        }

        private static String parentOf(String rel) {
            int i = rel.lastIndexOf('/');
            return i < 0 ? null : rel.substring(0, i);
        }

        private void ensureRealDir(String name) throws IOException {
            Path p = root.resolve(name);
            if (Files.isSymbolicLink(p)) {
                throw CorezfsException.precondition(p + " is a symlink; refusing to write through it");
            }
            if (!Files.exists(p)) {
                Files.createDirectory(p);
                undo.push(() -> Files.deleteIfExists(p));
            }
        }

        private List<UnitLink> planLinks(Manifest m, StagingSink sink) throws IOException {
            Map<String, Path> units = new LinkedHashMap<>();
            for (ManifestEntry e : m.entries()) {
                String p = e.path();
                if (e.type() == EntryType.FILE
                        && p.startsWith("etc/systemd/system/")
                        && p.indexOf('/', "etc/systemd/system/".length()) < 0
                        && isUnit(p)) {
                    units.put(p.substring(p.lastIndexOf('/') + 1), sink.map(p));
                }
            }
            Presets presets = Presets.load(
                    presetRules,
                    List.of(
                            sink.map("etc/systemd/system-preset"),
                            root.resolve("etc/systemd/system-preset"),
                            root.resolve("run/systemd/system-preset"),
                            root.resolve("usr/local/lib/systemd/system-preset"),
                            optStage.resolve("usr/lib/systemd/system-preset"),
                            root.resolve("usr/lib/systemd/system-preset")));
            return new UnitEnabler(reporter).plan(units, presets);
        }

        private boolean isUnit(String p) {
            return UNIT_SUFFIXES.stream().anyMatch(p::endsWith);
        }

        /**
         * Every change to {@code /etc}, decided before the first is made: files in /etc (ours are replaced, the
         * user's are kept with the new version beside them), files the old archive had and the new one does not
         * (removed unless the user changed them), and unit links.
         */
        private List<EtcStep> planEtc(Manifest m, StagingSink sink, List<UnitLink> links) throws IOException {
            Plan plan = new Plan();
            Map<String, ManifestEntry> old = previousEntries();
            for (ManifestEntry e : m.entries()) {
                if (!e.path().startsWith("etc/")) {
                    continue;
                }
                Path target = RootPaths.inRoot(root, e.path(), "write");
                Path staged = sink.map(e.path());
                if (e.type() == EntryType.DIR) {
                    if (Files.isSymbolicLink(target)) {
                        throw CorezfsException.precondition(target + " is a symlink; refusing to write through it");
                    }
                    if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                        plan.dirs(target.getParent());
                        plan.mkdir(target, e.mode());
                    } else if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                        throw CorezfsException.precondition(
                                target + " exists and is not a directory; the archive needs a directory there");
                    }
                    continue;
                }
                if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                    plan.moveIn(staged, target);
                } else if (InstallCheck.matches(target, e)) {
                    continue;
                } else if (old.containsKey(e.path()) && InstallCheck.matches(target, old.get(e.path()))) {
                    plan.aside("aside", target);
                    plan.moveIn(staged, target);
                } else {
                    Path beside = target.resolveSibling(target.getFileName() + ".corezfs-new");
                    if (Files.exists(beside, LinkOption.NOFOLLOW_LINKS)) {
                        plan.aside("aside", beside);
                    }
                    plan.moveIn(staged, beside);
                    keptModified.add("/" + e.path());
                }
            }
            Set<String> now = m.entries().stream().map(ManifestEntry::path).collect(Collectors.toSet());
            List<ManifestEntry> gone = old.values().stream()
                    .filter(e -> e.path().startsWith("etc/") && !now.contains(e.path()))
                    .sorted(Comparator.comparing(ManifestEntry::path).reversed())
                    .toList();
            for (ManifestEntry e : gone) {
                Path target = RootPaths.inRoot(root, e.path(), "remove");
                if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                if (e.type() == EntryType.DIR) {
                    if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                        plan.aside("aside-if-empty", target);
                    }
                } else if (InstallCheck.matches(target, e)) {
                    plan.aside("aside", target);
                } else {
                    reporter.warn("kept /" + e.path() + ": changed locally and no longer shipped");
                }
            }
            Set<UnitLink> keep = Set.copyOf(links);
            if (previous != null) {
                for (UnitLink l : previous.links()) {
                    Path p = RootPaths.inRoot(root, l.path(), "remove");
                    if (!keep.contains(l)
                            && Files.isSymbolicLink(p)
                            && Files.readSymbolicLink(p).toString().equals(l.target())) {
                        plan.aside("aside", p);
                    }
                }
            }
            for (UnitLink l : links) {
                Path p = RootPaths.inRoot(root, l.path(), "write");
                if (Files.isSymbolicLink(p)
                        && Files.readSymbolicLink(p).toString().equals(l.target())) {
                    continue;
                }
                if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                    reporter.warn("left /" + l.path() + " alone: it exists and is not the link corezfs would create");
                    continue;
                }
                plan.dirs(p.getParent());
                plan.steps.add(new EtcStep("link", rel(p), l.target(), "-"));
            }
            return plan.steps;
        }

        private String rel(Path p) {
            return root.relativize(p).toString();
        }

        /** Steps being planned, with the directories earlier steps will have made. */
        private final class Plan {
            final List<EtcStep> steps = new ArrayList<>();
            final Set<Path> made = new java.util.HashSet<>();

            void dirs(Path dir) {
                if (dir == null || made.contains(dir) || Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                    return;
                }
                dirs(dir.getParent());
                mkdir(dir, "-");
            }

            void mkdir(Path dir, String mode) {
                if (made.add(dir)) {
                    steps.add(new EtcStep("mkdir", rel(dir), "-", mode));
                }
            }

            void moveIn(Path staged, Path target) {
                dirs(target.getParent());
                steps.add(new EtcStep("movein", rel(target), rel(staged), "-"));
            }

            void aside(String kind, Path target) {
                steps.add(new EtcStep(kind, rel(target), rel(backup.resolve(String.valueOf(steps.size()))), "-"));
            }
        }

        /** Each step's undo is pushed before it runs: undoing a step that did not happen changes nothing. */
        private void placeEtc(List<EtcStep> steps) throws IOException {
            for (EtcStep step : steps) {
                undo.push(() -> step.undo(root, ops));
                step.apply(root, ops);
            }
        }

        /** The commit point. */
        private boolean swapOpt(Path current) throws IOException {
            boolean existed = Files.exists(current, LinkOption.NOFOLLOW_LINKS);
            if (existed) {
                Path aside = root.resolve("opt").resolve(OLD_PREFIX + id);
                ops.move(current, aside);
                undo.push(() -> ops.move(aside, current));
            }
            ops.move(optStage, current);
            undo.clear();
            return existed;
        }

        private void cleanup() {
            try {
                FileTrees.deleteTree(root.resolve("opt").resolve(OLD_PREFIX + id));
                FileTrees.deleteTree(etcStage);
            } catch (IOException e) {
                reporter.warn("installed, but could not remove temporary files: " + e.getMessage());
            }
        }

        /**
         * Undoes every step in reverse. A step that cannot be undone is not swallowed: the error says what is left,
         * keeping the original failure's exit code.
         */
        private void rollback(Exception cause) {
            List<String> failed = new ArrayList<>();
            while (!undo.isEmpty()) {
                try {
                    undo.pop().run();
                } catch (IOException | RuntimeException e) {
                    cause.addSuppressed(e);
                    failed.add(String.valueOf(e.getMessage()));
                }
            }
            if (!failed.isEmpty()) {
                ExitCode code = cause instanceof CorezfsException c ? c.exitCode() : ExitCode.UNEXPECTED;
                throw new CorezfsException(
                        code,
                        cause.getMessage() + "; and the rollback could not undo everything ("
                                + String.join("; ", failed) + "): remove what is left under " + root + " by hand",
                        cause);
            }
        }

        private void reportKept() {
            for (String k : keptModified) {
                reporter.warn("kept " + k + " (changed locally); the new version is at " + k + ".corezfs-new");
            }
        }

        /**
         * Refuses up front what would fill a filesystem halfway: the staged {@code /etc} and {@code /opt} trees, summed
         * where they share one, against what it has free.
         */
        private void checkSpace(Manifest m) throws IOException {
            long etc = 0;
            long opt = 0;
            for (ManifestEntry e : m.entries()) {
                long b = HostFailures.onDisk(e);
                if (e.path().startsWith("etc/")) {
                    etc += b;
                } else {
                    opt += b;
                }
            }
            Path etcDir = existing(root.resolve("etc"));
            Path optDir = existing(root.resolve("opt"));
            Map<java.nio.file.FileStore, Long> need = new LinkedHashMap<>();
            Map<java.nio.file.FileStore, Path> where = new HashMap<>();
            java.nio.file.FileStore etcStore = Files.getFileStore(etcDir);
            java.nio.file.FileStore optStore = Files.getFileStore(optDir);
            need.merge(optStore, opt, Long::sum);
            where.putIfAbsent(optStore, optDir);
            need.merge(etcStore, etc, Long::sum);
            where.putIfAbsent(etcStore, etcDir);
            for (Map.Entry<java.nio.file.FileStore, Long> n : need.entrySet()) {
                long free = ops.usableSpace(where.get(n.getKey()));
                if (free < n.getValue()) {
                    throw CorezfsException.precondition("no space left on " + n.getKey() + " for "
                            + where.get(n.getKey()) + ": needs " + HostFailures.mb(n.getValue()) + " MB, "
                            + (free >> 20) + " MB free; nothing was changed");
                }
            }
        }

        private Path existing(Path p) {
            return Files.exists(p, LinkOption.NOFOLLOW_LINKS) ? p : root;
        }

        /** Every path this install will write or remove is checked before the first change to the live tree. */
        private void checkPaths(List<String> rels, String verb) {
            for (String rel : rels) {
                RootPaths.inRoot(root, rel, verb);
            }
        }

        private Map<String, ManifestEntry> previousEntries() {
            Map<String, ManifestEntry> m = new HashMap<>();
            if (previous != null && previous.manifest() != null) {
                for (ManifestEntry e : previous.manifest().entries()) {
                    m.put(e.path(), e);
                }
            }
            return m;
        }
    }

    @FunctionalInterface
    private interface Undo {
        void run() throws IOException;
    }
}
