package io.corezfs.cli;

import io.corezfs.host.HostDetector;
import io.corezfs.host.HostFacts;
import io.corezfs.host.RootFs;
import java.util.Optional;

final class Hosts {
    private Hosts() {}

    static HostFacts detect(Context ctx, RootFs fs, Optional<String> kernel) {
        return new HostDetector(ctx.env()).detect(fs, kernel);
    }
}
