package io.corezfs.cli;

import io.corezfs.host.NodeConfig;
import io.corezfs.host.RootFs;
import io.corezfs.trust.TrustPolicy;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Whose signatures a command accepts: the node's trusted keys, or {@code --trust FILE}. */
final class TrustOptions {
    @Option(
            names = "--trust",
            paramLabel = "FILE",
            converter = OptionValues.RegularFile.class,
            description = "Trusted signing keys in OpenSSH's allowed_signers format, instead of"
                    + " /etc/corezfs/trusted-keys. With any trusted key, SIGNATURES defaults to require.")
    Path trust;

    TrustPolicy policy(Context ctx, RootFs fs, NodeConfig config) {
        return TrustPolicy.forNode(
                fs,
                config,
                Optional.ofNullable(trust).map(ctx::resolve),
                ctx.env().clock());
    }
}
