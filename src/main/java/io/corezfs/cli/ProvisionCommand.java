package io.corezfs.cli;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Text;
import io.corezfs.host.NodeConfig;
import io.corezfs.host.RootFs;
import io.corezfs.provision.Butane;
import io.corezfs.provision.CloudConfig;
import io.corezfs.provision.Ignition;
import io.corezfs.provision.NodeSpec;
import io.corezfs.provision.Provisioner;
import io.corezfs.trust.AllowedSigners;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "provision",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Writes the provisioning snippet that gives a fresh Flatcar node ZFS at its first boot, with nobody logging"
                    + " in: an Ignition config (spec 3.3.0, read by Flatcar since 3185.0.0, or 3.4.0), the same in"
                    + " Butane (variant flatcar), or a cloud-config for coreos-cloudinit.",
            "",
            "The node downloads the self-contained corezfs (--bundle-url) and any archives (--archive-url) into the"
                    + " node store, each checked against its sha512 (Ignition's verification.hash: a tampered"
                    + " download fails the boot). It gets " + NodeConfig.PATH + " from --mirror, --mode, --build and"
                    + " --keep, and " + AllowedSigners.NODE_FILE + " from --trust. corezfs-unpack.service unpacks the"
                    + " tool into " + Provisioner.TOOL_DIR + " and corezfs-boot.service then installs ZFS: from the"
                    + " archive delivered with the config (no network needed), else from the mirrors.",
            "",
            "--merge FILE folds the Ignition output into your existing config; it refuses (and names it) a path or unit"
                    + " both define, and a config that enables Flatcar's own zfs extension.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  B=corezfs-0.1.0-linux-x86_64.tar.gz",
            "  A=corezfs_amd64-usr_3975.2.0_stable_zfs-2.2.6.tar.gz",
            "  corezfs provision ignition --bundle-url http://files.internal/$B \\",
            "      --bundle $B --mirror http://files.internal/archives -o zfs.ign",
            "  corezfs provision ignition --bundle-url http://files.internal/$B \\",
            "      --bundle $B --archive-url http://files.internal/archives/$A \\",
            "      --archive $A --trust trusted-keys --merge node.ign -o node-zfs.ign",
            "  corezfs provision butane --bundle-url URL --bundle-sha512 HEX \\",
            "      --mirror URL --spec 3.4.0 > zfs.bu"
        })
final class ProvisionCommand extends BaseCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FORMAT", description = "ignition, butane or cloud-config.")
    String format;

    @Option(
            names = "--bundle-url",
            required = true,
            paramLabel = "URL",
            converter = OptionValues.HttpUrl.class,
            description =
                    "Where the node downloads the self-contained corezfs (corezfs-<version>-linux-x86_64.tar.gz).")
    URI bundleUrl;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Hash bundle;

    static final class Hash {
        @Option(names = "--bundle-sha512", paramLabel = "HEX", description = "The bundle's sha512.")
        String sha512;

        @Option(
                names = "--bundle",
                paramLabel = "FILE",
                converter = OptionValues.RegularFile.class,
                description = "The bundle itself: its sha512 is computed here.")
        Path file;
    }

    @ArgGroup(exclusive = false, multiplicity = "0..*")
    List<ArchiveGiven> archives = new ArrayList<>();

    static final class ArchiveGiven {
        @Option(
                names = "--archive-url",
                required = true,
                paramLabel = "URL",
                converter = OptionValues.HttpUrl.class,
                description = "An archive delivered with the config into the node store (repeatable, each followed"
                        + " by its --archive-sha512 or --archive): corezfs then needs no network at the first boot.")
        URI url;

        @ArgGroup(exclusive = true, multiplicity = "1")
        ArchiveHash hash;
    }

    static final class ArchiveHash {
        @Option(names = "--archive-sha512", paramLabel = "HEX", description = "That archive's sha512.")
        String sha512;

        @Option(
                names = "--archive",
                paramLabel = "FILE",
                converter = OptionValues.RegularFile.class,
                description = "That archive itself: its sha512 is computed here, and FILE.sig, when present, is"
                        + " carried in the config.")
        Path file;
    }

    @Option(
            names = "--mirror",
            paramLabel = "URL",
            converter = OptionValues.MirrorBase.class,
            description = "An archive mirror for MIRRORS (repeatable, in order): the first boot without an archive and"
                    + " every OS update fetch from it.")
    List<URI> mirrors = new ArrayList<>();

    @Option(names = "--mode", paramLabel = "MODE", description = "MODE: auto, overlay or sysext.")
    String mode;

    @Option(
            names = "--build",
            paramLabel = "POLICY",
            description = "BUILD: never, prepare or boot (whether the node may build an archive itself).")
    String build;

    @Option(names = "--keep", paramLabel = "N", description = "KEEP: archives kept in the node store, 1 to 100.")
    Integer keep;

    @Option(
            names = "--trust",
            paramLabel = "FILE",
            converter = OptionValues.RegularFile.class,
            description = "Trusted signing keys (allowed_signers format) for " + AllowedSigners.NODE_FILE
                    + "; the node then requires signed archives.")
    Path trust;

    @Option(
            names = "--spec",
            paramLabel = "VERSION",
            defaultValue = "3.3.0",
            description = "Ignition spec: 3.3.0 (default; Flatcar >= 3185.0.0) or 3.4.0. Butane: 1.0.0 or 1.1.0.")
    String spec;

    @Option(
            names = "--merge",
            paramLabel = "FILE",
            converter = OptionValues.RegularFile.class,
            description = "An existing Ignition config (JSON, spec 3.x) to fold the output into.")
    Path merge;

    @Option(
            names = {"-o", "--output"},
            paramLabel = "FILE",
            converter = OptionValues.AnyPath.class,
            description = "Write here (replaced whole) instead of stdout.")
    Path output;

    ProvisionCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        if (!List.of("ignition", "butane", "cloud-config").contains(format)) {
            throw usage("FORMAT must be ignition, butane or cloud-config, not '" + Text.printable(format, 40) + "'");
        }
        if (merge != null && !format.equals("ignition")) {
            throw usage("--merge folds into an Ignition config; with butane, merge the output in your Butane file");
        }
        Ignition.SPECS.stream()
                .filter(spec::equals)
                .findAny()
                .orElseThrow(() -> usage("--spec must be 3.3.0 or" + " 3.4.0, not '" + Text.printable(spec, 40) + "'"));
        Optional<String> keys = Optional.ofNullable(trust).map(t -> {
            String text = RootFs.readText(ctx.resolve(t), t.toString());
            if (AllowedSigners.parse(text, t.toString(), ctx.env().clock().getZone())
                    .isEmpty()) {
                throw usage("--trust " + t + ": no ed25519 key in it");
            }
            return text;
        });
        List<Provisioner.Archive> delivered = new ArrayList<>();
        for (ArchiveGiven a : archives) {
            Optional<String> sig = Optional.empty();
            String sha = a.hash.sha512;
            if (a.hash.file != null) {
                Path file = ctx.resolve(a.hash.file);
                sha = sha512(file);
                Path sigFile = file.resolveSibling(file.getFileName() + ".sig");
                if (Files.isRegularFile(sigFile)) {
                    sig = Optional.of(RootFs.readText(sigFile, sigFile.toString()));
                }
            }
            if (keys.isPresent() && sig.isEmpty()) {
                throw usage("--archive-url " + a.url + ": with --trust the node requires signed archives; give"
                        + " --archive FILE with FILE.sig beside it");
            }
            delivered.add(new Provisioner.Archive(a.url, sha, sig));
        }
        NodeSpec node = Provisioner.spec(new Provisioner.Request(
                bundleUrl,
                bundle.file != null ? sha512(ctx.resolve(bundle.file)) : bundle.sha512,
                delivered,
                mirrors,
                Optional.ofNullable(mode),
                Optional.ofNullable(build)
                        .map(b -> NodeConfig.parse("BUILD=" + b, "--build")
                                .build()
                                .value()),
                Optional.ofNullable(keep),
                keys));
        String text = switch (format) {
            case "ignition" -> {
                var config = Ignition.config(node, spec);
                if (merge != null) {
                    Path m = ctx.resolve(merge);
                    config = Ignition.merge(RootFs.readText(m, merge.toString()), merge.toString(), config);
                }
                yield Ignition.write(config);
            }
            case "butane" -> Butane.write(node, spec);
            default -> CloudConfig.write(node);
        };
        if (output == null) {
            out().print(text);
            out().flush();
        } else {
            write(ctx.resolve(output), text);
            reporter().info("wrote " + output);
        }
        return 0;
    }

    private static void write(Path target, String text) {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, text);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot write " + target + ": " + e.getMessage());
        }
    }

    private static String sha512(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-512");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot read " + file + ": " + e.getMessage());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static CorezfsException usage(String message) {
        return new CorezfsException(ExitCode.USAGE, message);
    }
}
