package io.corezfs.cli;

import io.corezfs.net.Downloader;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The bounds every download is held to; shared by the commands that download (install, build). */
public final class DownloadOptions {
    @Option(
            names = "--header-timeout",
            paramLabel = "TIME",
            defaultValue = "30s",
            converter = OptionValues.Time.class,
            description =
                    "Wait at most TIME to connect and for a server's response headers (default: ${DEFAULT-VALUE}).")
    Duration headerTimeout;

    @Option(
            names = "--stall-timeout",
            paramLabel = "TIME",
            defaultValue = "60s",
            converter = OptionValues.Time.class,
            description =
                    "Abandon a download that receives less than --min-rate over any TIME (default: ${DEFAULT-VALUE}).")
    Duration stallTimeout;

    @Option(
            names = "--min-rate",
            paramLabel = "BYTES",
            defaultValue = "1K",
            converter = OptionValues.Bytes.class,
            description =
                    "Bytes per second a download must keep up over each --stall-timeout (default: ${DEFAULT-VALUE}).")
    long minRate;

    @Option(
            names = "--download-deadline",
            paramLabel = "TIME",
            defaultValue = "10m",
            converter = OptionValues.Time.class,
            description = "Overall time per download: TIME plus one second per --deadline-rate bytes of its size"
                    + " (default: ${DEFAULT-VALUE}).")
    Duration deadline;

    @Option(
            names = "--deadline-rate",
            paramLabel = "BYTES",
            defaultValue = "64K",
            converter = OptionValues.NonZeroBytes.class,
            description = "See --download-deadline (default: ${DEFAULT-VALUE}).")
    long deadlineRate;

    @Option(
            names = "--max-download-size",
            paramLabel = "BYTES",
            defaultValue = "16G",
            converter = OptionValues.NonZeroBytes.class,
            description =
                    "Largest download whose size nothing vouches for in advance; a mirror's archive is held to the size"
                            + " its index gives (default: ${DEFAULT-VALUE}).")
    long maxBytes;

    @Option(
            names = "--max-redirects",
            paramLabel = "N",
            defaultValue = "5",
            converter = OptionValues.Redirects.class,
            description = "Redirects one download may follow, 0 to 20 (default: ${DEFAULT-VALUE}).")
    int maxRedirects;

    /** @param crossHost whether a redirect may lead to another scheme, host or port than the URL asked for */
    Downloader.Limits limits(boolean crossHost) {
        return new Downloader.Limits(
                headerTimeout, stallTimeout, minRate, deadline, deadlineRate, maxBytes, maxRedirects, crossHost);
    }
}
