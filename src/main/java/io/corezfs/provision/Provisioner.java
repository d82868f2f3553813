package io.corezfs.provision;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.activation.LiveInstaller;
import io.corezfs.archive.store.ArchiveName;
import io.corezfs.host.NodeConfig;
import io.corezfs.provision.NodeSpec.NodeFile;
import io.corezfs.provision.NodeSpec.NodeUnit;
import io.corezfs.trust.AllowedSigners;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Describes what a fresh node needs so that its first boot ends with ZFS active: the self-contained corezfs, its
 * node configuration, the archives delivered with the config (if any), the trusted keys, and the units that unpack
 * the tool and run {@code corezfs boot}. The output formats render this description; none adds anything of its own.
 */
public final class Provisioner {
    /** Where the bundle is unpacked (its top directory stripped), so the launcher's path does not depend on its name. */
    public static final String TOOL_DIR = "/opt/corezfs-tool";

    public static final String LAUNCHER = TOOL_DIR + "/bin/corezfs";
    /** The downloaded bundle, kept so the unpack unit can check it again and a lost tree can be unpacked again. */
    public static final String BUNDLE = "/var/lib/corezfs/bundle/corezfs-bundle.tar.gz";

    public static final String UNPACK_SCRIPT = "/var/lib/corezfs/bundle/unpack.sh";
    public static final String UNPACK_UNIT = "corezfs-unpack.service";
    public static final String NODE_STORE = "/var/lib/corezfs/archives";
    public static final String TIMER = "corezfs-prepare.timer";

    private static final Pattern SHA512 = Pattern.compile("[0-9a-f]{128}");
    private static final int FILE_MODE = 0644;
    private static final int SCRIPT_MODE = 0755;

    /**
     * An archive for the node store.
     *
     * @param url       where the node downloads it
     * @param sha512    its sha512, lower-case hex
     * @param signature the text of its {@code .sig}, carried in the config, when there is one
     */
    public record Archive(URI url, String sha512, Optional<String> signature) {
        /** The file name in the store: the URL's last segment, which must be an archive's versioned name. */
        public String fileName() {
            String path = url.getPath() == null ? "" : url.getPath();
            return path.substring(path.lastIndexOf('/') + 1);
        }
    }

    /**
     * What to provision. The optional settings are written to {@code corezfs.conf} only when given, so the node keeps
     * its defaults (and their documentation) for the rest.
     */
    public record Request(
            URI bundleUrl,
            String bundleSha512,
            List<Archive> archives,
            List<URI> mirrors,
            Optional<String> mode,
            Optional<NodeConfig.BuildPolicy> build,
            Optional<Integer> keep,
            Optional<String> trustedKeys) {
        public Request {
            archives = List.copyOf(archives);
            mirrors = List.copyOf(mirrors);
        }
    }

    private Provisioner() {}

    /** The node's needs for {@code r}; a request that would give a node that cannot come up is refused (exit 2). */
    public static NodeSpec spec(Request r) {
        checkHash("--bundle-sha512", r.bundleSha512());
        List<NodeFile> files = new ArrayList<>();
        files.add(NodeFile.download(BUNDLE, FILE_MODE, r.bundleUrl(), r.bundleSha512()));
        Set<String> names = new HashSet<>();
        for (Archive a : r.archives()) {
            checkHash("--archive-sha512", a.sha512());
            String name = a.fileName();
            Optional<ArchiveName> parsed = ArchiveName.parse(name);
            if (parsed.isEmpty() || parsed.get().isLegacy()) {
                throw usage("--archive-url " + a.url() + ": the file name must be an archive's versioned name"
                        + " (corezfs_<board>_<version>_<channel>_zfs-<zfs>.tar.gz), as the node store finds it by it");
            }
            if (!names.add(name)) {
                throw usage("--archive-url: " + name + " is given twice");
            }
            files.add(NodeFile.download(NODE_STORE + "/" + name, FILE_MODE, a.url(), a.sha512()));
            a.signature()
                    .ifPresent(sig -> files.add(NodeFile.inline(NODE_STORE + "/" + name + ".sig", FILE_MODE, sig)));
        }
        String conf = nodeConfig(r);
        files.add(NodeFile.inline(NodeConfig.PATH, FILE_MODE, conf));
        r.trustedKeys().ifPresent(keys -> files.add(NodeFile.inline(AllowedSigners.NODE_FILE, FILE_MODE, keys)));
        files.add(NodeFile.inline(UNPACK_SCRIPT, SCRIPT_MODE, unpackScript(r.bundleSha512())));

        List<NodeUnit> units = new ArrayList<>();
        units.add(new NodeUnit(UNPACK_UNIT, true, Optional.of(resource(UNPACK_UNIT))));
        long timeout = NodeConfig.parse(conf, NodeConfig.PATH)
                        .bootFetchTimeout()
                        .value()
                        .toSeconds()
                + LiveInstaller.BOOT_HEADROOM_SECONDS;
        for (String unit : List.of(LiveInstaller.BOOT_UNIT, LiveInstaller.BOOT_LATE_UNIT, LiveInstaller.PREPARE_UNIT)) {
            // The same text `corezfs install` writes for the launcher it runs from, so the first install finds the
            // units as it would have written them.
            String text = resource(unit).replace("@LAUNCHER@", LAUNCHER).replace("@TIMEOUT@", Long.toString(timeout));
            units.add(new NodeUnit(unit, unit.equals(LiveInstaller.BOOT_UNIT), Optional.of(text)));
        }
        NodeConfig.BuildPolicy build = r.build().orElse(NodeConfig.BuildPolicy.PREPARE);
        if (build.allowsPrepare() || !r.mirrors().isEmpty()) {
            // The timer itself comes with the archive; this only lets the first boot's presets enable it as well.
            units.add(new NodeUnit(TIMER, true, Optional.empty()));
        }
        return new NodeSpec(files, units);
    }

    /** The node configuration the request sets, checked by the same parser the node reads it with. */
    static String nodeConfig(Request r) {
        StringBuilder b = new StringBuilder(
                "# Written by corezfs provision; see `corezfs status --json` for every" + " effective value.\n");
        if (!r.mirrors().isEmpty()) {
            b.append(NodeConfig.MIRRORS)
                    .append("=\"")
                    .append(String.join(
                            " ", r.mirrors().stream().map(URI::toString).toList()))
                    .append("\"\n");
        }
        r.mode().ifPresent(m -> b.append(NodeConfig.MODE).append('=').append(m).append('\n'));
        r.build()
                .ifPresent(p ->
                        b.append(NodeConfig.BUILD).append('=').append(p.text()).append('\n'));
        r.keep().ifPresent(k -> b.append(NodeConfig.KEEP).append('=').append(k).append('\n'));
        String text = b.toString();
        try {
            NodeConfig.parse(text, "the generated " + NodeConfig.PATH);
        } catch (CorezfsException e) {
            throw usage(e.getMessage());
        }
        return text;
    }

    /**
     * The unpack step: checks the bundle's sha512 again (a download is verified by whoever fetched it, but the file
     * may have been replaced since), unpacks it beside the tool directory and swaps it in by rename, so a cut-off
     * unpack never leaves half a tool. Run once per bundle: a marker holds the hash it unpacked.
     */
    static String unpackScript(String sha512) {
        return resource("unpack.sh")
                .replace("@BUNDLE@", BUNDLE)
                .replace("@TOOL_DIR@", TOOL_DIR)
                .replace("@SHA512@", sha512);
    }

    static void checkHash(String option, String hex) {
        if (!SHA512.matcher(hex).matches()) {
            throw usage(option + ": expected 128 lower-case hex digits (a sha512)");
        }
    }

    /** A file of this package's resources, else one of the tool units shipped in {@code units/}. */
    static String resource(String name) {
        for (String path : List.of("/io/corezfs/provision/" + name, "/io/corezfs/units/" + name)) {
            try (InputStream in = Provisioner.class.getResourceAsStream(path)) {
                if (in != null) {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("missing resource " + name);
    }

    private static CorezfsException usage(String message) {
        return new CorezfsException(ExitCode.USAGE, message);
    }
}
