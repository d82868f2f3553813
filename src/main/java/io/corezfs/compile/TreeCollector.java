package io.corezfs.compile;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Reporter;
import io.corezfs.host.KeyValueFile;
import io.corezfs.host.RootFs;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Turns a {@code make install} tree into an archive tree: userland under {@code opt/corezfs/usr}, configuration
 * under {@code etc}, ZFS's units where systemd sees them at boot, plus the shared libraries the target lacks, the
 * corezfs units and static files, and the kernel the modules were built for.
 */
public final class TreeCollector {
    /** Never bundled: the C runtime is the OS's, and a second copy of it is how binaries break. */
    private static final Pattern C_RUNTIME = Pattern.compile(
            "(ld-linux.*|libc|libm|libdl|libpthread|librt|libresolv|libutil|libanl|libnsl|libmvec|libBrokenLocale)\\.so.*");
    /** Development and test material: not needed to run ZFS. */
    private static final Pattern DROP = Pattern.compile(String.join(
            "|",
            "usr/include(/.*)?",
            "usr/src(/.*)?",
            ".*\\.a",
            ".*\\.la",
            "usr/lib[^/]*/pkgconfig(/.*)?",
            "usr/lib[^/]*/[^/]*/pkgconfig(/.*)?",
            "usr/share/zfs/(zfs-tests|test-runner|runfiles)(/.*)?",
            "usr/share/zfs/[^/]*\\.sh",
            "usr/bin/raidz_test",
            "usr/lib/dracut(/.*)?",
            "usr/share/initramfs-tools(/.*)?",
            "etc/init\\.d(/.*)?",
            "usr/lib/modules-load\\.d(/.*)?",
            "usr/share/zfs/(zfs-helpers|zloop|zimport)\\.sh"));

    private static final List<String> LIB_DIRS = List.of(
            "/usr/lib64",
            "/usr/lib",
            "/lib64",
            "/lib",
            "/usr/lib/x86_64-linux-gnu",
            "/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu",
            "/lib/aarch64-linux-gnu");

    private final Reporter reporter;

    public TreeCollector(Reporter reporter) {
        this.reporter = reporter;
    }

    /**
     * @param buildOut the build's output: {@code destdir/}, {@code syslibs/}, {@code build.env}
     * @param target   the host whose base decides which libraries must be bundled
     * @param tree     the archive tree to create; must not exist
     */
    public void collect(Path buildOut, RootFs target, String kernel, Path tree) {
        try {
            Path dest = buildOut.resolve("destdir");
            Map<String, String> env = KeyValueFile.parse(Files.readString(buildOut.resolve("build.env")), "build.env");
            String libdir = env.getOrDefault("LIBDIR", "/usr/lib");
            Files.createDirectories(tree.resolve("etc"));
            Files.createDirectories(tree.resolve("opt/corezfs/usr"));
            copyInstallTree(dest, tree);
            publishUnits(tree);
            rebaseAbsoluteLinks(tree);
            copyResources("/io/corezfs/units", tree.resolve("etc/systemd/system"));
            copyResources("/io/corezfs/overlay", tree);
            Files.writeString(tree.resolve("opt/corezfs/kernel-release"), kernel + "\n");
            bundleLibraries(buildOut.resolve("syslibs"), target, tree.resolve("opt/corezfs" + libdir));
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("No space left on device")) {
                throw new CorezfsException(
                        ExitCode.PRECONDITION, "disk full while assembling the archive tree in " + tree);
            }
            throw new CorezfsException(ExitCode.BUILD_FAILED, "cannot assemble the archive tree: " + e);
        }
    }

    private void copyInstallTree(Path dest, Path tree) throws IOException {
        List<Path> all;
        try (Stream<Path> s = Files.walk(dest)) {
            all = s.sorted().toList();
        }
        for (Path p : all) {
            String rel = dest.relativize(p).toString();
            if (rel.isEmpty()) {
                continue;
            }
            String mapped = map(rel);
            if (mapped == null || DROP.matcher(usrRelative(mapped)).matches()) {
                continue;
            }
            Path to = tree.resolve(mapped);
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(to);
            } else {
                Files.createDirectories(to.getParent());
                Files.copy(p, to, LinkOption.NOFOLLOW_LINKS, StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }

    /** Install-tree path → archive path; null drops it. Split-/usr trees (lib/, sbin/) merge into usr/. */
    static String map(String rel) {
        if (rel.equals("etc") || rel.startsWith("etc/")) {
            return rel;
        }
        if (rel.equals("usr") || rel.startsWith("usr/")) {
            return "opt/corezfs/" + rel;
        }
        for (String top : List.of("lib", "lib64", "bin", "sbin")) {
            if (rel.equals(top) || rel.startsWith(top + "/")) {
                return "opt/corezfs/usr/" + rel;
            }
        }
        return null;
    }

    private static String usrRelative(String mapped) {
        return mapped.startsWith("opt/corezfs/") ? mapped.substring("opt/corezfs/".length()) : mapped;
    }

    /**
     * systemd reads its units before the overlay brings {@code /usr/lib/systemd/system} from the archive, so ZFS's
     * units and presets move to {@code /etc}, where they are seen at boot and enabled by their presets.
     */
    private void publishUnits(Path tree) throws IOException {
        Path units = tree.resolve("opt/corezfs/usr/lib/systemd/system");
        Path etcUnits = tree.resolve("etc/systemd/system");
        Files.createDirectories(etcUnits);
        if (Files.isDirectory(units)) {
            try (Stream<Path> s = Files.list(units)) {
                for (Path u : s.sorted().toList()) {
                    // ZFS masks the names of its old init scripts with links to /dev/null. No archive may
                    // link outside itself, and these hosts never had those scripts: the masks are dropped.
                    if (Files.isSymbolicLink(u)
                            && Files.readSymbolicLink(u).toString().equals("/dev/null")) {
                        Files.delete(u);
                        continue;
                    }
                    Files.move(u, etcUnits.resolve(u.getFileName()), LinkOption.NOFOLLOW_LINKS);
                }
            }
            Files.delete(units);
        }
        Path presets = tree.resolve("opt/corezfs/usr/lib/systemd/system-preset");
        if (Files.isDirectory(presets)) {
            Path etcPresets = Files.createDirectories(tree.resolve("etc/systemd/system-preset"));
            try (Stream<Path> s = Files.list(presets)) {
                for (Path p : s.sorted().toList()) {
                    Files.move(p, etcPresets.resolve(p.getFileName()));
                }
            }
            Files.delete(presets);
        }
    }

    /**
     * {@code make install} links some files by absolute path into /usr (etc/zfs/zpool.d/* -> /usr/libexec/...).
     * On the node those files live in /opt/corezfs/usr, so the links are pointed there: they then work with or
     * without the overlay, and stay inside the archive as its safety rules demand.
     */
    private static void rebaseAbsoluteLinks(Path tree) throws IOException {
        List<Path> links;
        try (Stream<Path> s = Files.walk(tree)) {
            links = s.filter(Files::isSymbolicLink).sorted().toList();
        }
        for (Path l : links) {
            String target = Files.readSymbolicLink(l).toString();
            String mapped = target.startsWith("/") ? map(target.substring(1)) : null;
            if (mapped != null
                    && mapped.startsWith("opt/corezfs/")
                    && Files.exists(tree.resolve(mapped), LinkOption.NOFOLLOW_LINKS)) {
                Files.delete(l);
                Files.createSymbolicLink(l, Path.of("/" + mapped));
            }
        }
    }

    /** Copies a classpath directory (inside the jar or on disk) into {@code to}, keeping relative paths. */
    static void copyResources(String dir, Path to) throws IOException {
        var url = TreeCollector.class.getResource(dir);
        if (url == null) {
            return;
        }
        URI uri;
        try {
            uri = url.toURI();
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
        FileSystem jar = uri.getScheme().equals("jar") ? FileSystems.newFileSystem(uri, Map.of()) : null;
        try {
            Path root = jar != null ? jar.getPath(dir) : Path.of(uri);
            List<Path> files;
            try (Stream<Path> s = Files.walk(root)) {
                files = s.filter(Files::isRegularFile).sorted().toList();
            }
            for (Path f : files) {
                String rel = root.relativize(f).toString();
                if (rel.equals("README.md")
                        || new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1)
                                .contains("@LAUNCHER@")) {
                    // Units that run this tool (corezfs-boot.service) are the tool's, written by the live install
                    // with its launcher's path; an archive swap must never add, change or remove them.
                    continue;
                }
                Path out = to.resolve(rel);
                Files.createDirectories(out.getParent());
                try (InputStream in = Files.newInputStream(f)) {
                    Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
                }
                Files.setPosixFilePermissions(out, io.corezfs.archive.Modes.perms(rel.endsWith(".sh") ? 0755 : 0644));
            }
        } finally {
            if (jar != null) {
                jar.close();
            }
        }
    }

    private void bundleLibraries(Path syslibs, RootFs target, Path libdir) throws IOException {
        List<String> bundled = new ArrayList<>();
        if (!Files.isDirectory(syslibs)) {
            return;
        }
        List<Path> libs;
        try (Stream<Path> s = Files.list(syslibs)) {
            libs = s.sorted().toList();
        }
        for (Path lib : libs) {
            String name = lib.getFileName().toString();
            if (C_RUNTIME.matcher(name).matches()) {
                continue;
            }
            if (targetHas(target, name)) {
                continue;
            }
            Files.createDirectories(libdir);
            Path to = libdir.resolve(name);
            if (!Files.exists(to, LinkOption.NOFOLLOW_LINKS)) {
                Files.copy(lib, to);
                Files.setPosixFilePermissions(to, io.corezfs.archive.Modes.perms(0644));
                bundled.add(name);
            }
        }
        if (!bundled.isEmpty()) {
            reporter.info("bundling libraries the target lacks: " + String.join(" ", bundled));
        }
    }

    private static boolean targetHas(RootFs target, String soname) {
        for (String d : LIB_DIRS) {
            if (target.exists(d + "/" + soname)) {
                return true;
            }
        }
        return false;
    }
}
