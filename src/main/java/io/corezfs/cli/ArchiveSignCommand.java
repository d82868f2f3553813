package io.corezfs.cli;

import io.corezfs.archive.ArchiveReader;
import io.corezfs.archive.ArchiveSink;
import io.corezfs.trust.Signer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "sign",
        mixinStandardHelpOptions = true,
        description = {
            "Signs archives with an ed25519 ssh key: writes FILE.sig in OpenSSH's signature format (namespace corezfs),"
                    + " which nodes check against /etc/corezfs/trusted-keys. An archive is verified before it is"
                    + " signed: a broken one is refused (exit 4/5) and gets no signature.",
            "Anyone can check a signature with stock OpenSSH:",
            "  ssh-keygen -Y verify -f trusted-keys -I <principal> -n corezfs -s FILE.sig < FILE"
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  ssh-keygen -t ed25519 -N '' -C builds@example.com -f /root/corezfs-signing",
            "  corezfs archive sign --key /root/corezfs-signing corezfs_*.tar.gz",
            "  echo \"builds@example.com $(cat /root/corezfs-signing.pub)\" >> /etc/corezfs/trusted-keys   # on nodes"
        })
final class ArchiveSignCommand extends BaseCommand implements Callable<Integer> {
    @Parameters(
            paramLabel = "FILE",
            arity = "1..*",
            converter = OptionValues.RegularFile.class,
            description = "The archives to sign (regular files).")
    List<Path> files;

    @Option(
            names = "--key",
            required = true,
            paramLabel = "KEY",
            description = "OpenSSH ed25519 private key, unencrypted and readable by its owner only.")
    Path key;

    ArchiveSignCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        Signer signer = Signer.load(ctx.resolve(key));
        ArchiveReader reader = new ArchiveReader(ctx.limits());
        // All verified before any is signed: one bad archive in a batch signs none.
        for (Path f : files) {
            reader.read(ctx.resolve(f), ArchiveSink.DISCARD);
        }
        for (Path f : files) {
            Path sig = signer.sign(ctx.resolve(f));
            out().println("signed " + f.getFileName() + " -> " + sig.getFileName() + " (key "
                    + signer.publicKey().fingerprint() + ")");
        }
        return 0;
    }
}
