package io.corezfs.cli;

import picocli.CommandLine.IVersionProvider;

final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {"corezfs " + Main.toolVersion()};
    }
}
