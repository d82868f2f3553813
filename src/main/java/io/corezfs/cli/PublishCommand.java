package io.corezfs.cli;

import io.corezfs.CorezfsException;
import io.corezfs.archive.ArchiveReader;
import io.corezfs.archive.store.MirrorIndex;
import io.corezfs.trust.Signer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "publish",
        mixinStandardHelpOptions = true,
        description =
                "Writes DIR/index.json describing every valid archive in DIR (OS, version, board, kernel, ZFS version,"
                        + " sha256), so DIR served over HTTP works as `corezfs install --mirror URL` for a whole fleet. Invalid"
                        + " archives are left out and named.",
        footerHeading = "%nExample:%n",
        footer = {
            "  corezfs publish --sign-key /root/corezfs-signing /srv/www/corezfs",
            "  sudo corezfs install --mirror http://archives.internal:8080/"
        })
final class PublishCommand extends BaseCommand implements Callable<Integer> {
    @Parameters(
            paramLabel = "DIR",
            converter = OptionValues.ExistingDir.class,
            description = "The directory of archives to describe.")
    Path dir;

    @Option(
            names = "--sign-key",
            paramLabel = "KEY",
            description = "Sign every listed archive (FILE.sig) and index.json (index.json.sig) with this ed25519 ssh"
                    + " key, so nodes with SIGNATURES=require accept them. See `corezfs archive sign --help`.")
    Path signKey;

    PublishCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        Path d = ctx.resolve(dir);
        if (!Files.isDirectory(d)) {
            throw CorezfsException.precondition(d + ": not a directory");
        }
        // The key is loaded first: a bad key must fail before anything in DIR changes.
        Optional<Signer> signer = Optional.ofNullable(signKey).map(k -> Signer.load(ctx.resolve(k)));
        List<String> skipped = new ArrayList<>();
        MirrorIndex index = MirrorIndex.of(d, new ArchiveReader(ctx.limits()), skipped);
        // Archives first, then the index, then its signature: a node that reads the new index finds every archive it
        // names already signed. Between the index's rename and its signature's, a node can see a stale index.json.sig
        // and refuse the index (exit 5); its next try succeeds. Only a directory swap would close that window.
        signer.ifPresent(sg -> index.archives().forEach(e -> sg.sign(d.resolve(e.file()))));
        try {
            index.write(d);
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot write " + d.resolve(MirrorIndex.FILE) + ": " + e.getMessage());
        }
        if (signer.isPresent()) {
            signer.get().sign(d.resolve(MirrorIndex.FILE));
            out().println("signed " + index.archives().size() + " archive(s) and " + MirrorIndex.FILE + " with key "
                    + signer.get().publicKey().fingerprint());
        }
        for (String s : skipped) {
            reporter().warn("left out " + s);
        }
        out().println("wrote " + d.resolve(MirrorIndex.FILE) + ": "
                + index.archives().size() + " archive(s)");
        return 0;
    }
}
