package io.corezfs.cli;

import io.corezfs.CorezfsException;
import io.corezfs.activation.Activation;
import io.corezfs.activation.LiveState;
import io.corezfs.activation.OfficialZfs;
import io.corezfs.host.HostFacts;
import io.corezfs.host.NodeConfig;
import io.corezfs.host.RootFs;
import io.corezfs.install.InstallState;
import io.corezfs.update.BootRecord;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "status",
        mixinStandardHelpOptions = true,
        description =
                "Shows what this host is (OS, version, board, channel, kernel), what corezfs installed on it and, on the running host, the live state: activation mode and unit, module, ZFS versions, pools and their health.",
        footerHeading = "%nExample:%n",
        footer = {"  corezfs status --json", "  corezfs status --root /mnt/image --kernel 6.6.95-flatcar"})
final class StatusCommand extends BaseCommand implements Callable<Integer> {
    @Mixin
    HostOptions host;

    @Option(names = "--json", description = "Print one JSON object on stdout.")
    boolean json;

    StatusCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        boolean isLive = host.root.equals(Path.of("/"));
        RootFs fs = new RootFs(isLive ? ctx.live().root() : ctx.resolve(host.root));
        HostFacts f = Hosts.detect(ctx, fs, host.kernel());
        Optional<InstallState> installed = InstallState.read(fs.root());
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("os", f.os());
        o.put("version", f.version());
        o.put("board", f.board());
        o.put("channel", f.channel());
        o.put("updateChannel", f.updateChannel());
        o.put("kernel", f.kernel());
        o.put("arch", f.arch());
        o.put(
                "installed",
                installed
                        .map(s -> {
                            Map<String, Object> i = new LinkedHashMap<>();
                            i.put("archive", s.archive());
                            i.put("zfsVersion", s.manifest().zfsVersion());
                            i.put("kernel", s.manifest().kernel());
                            i.put("kernelMatches", s.manifest().kernel().equals(f.kernel()));
                            i.put("installedAt", s.installedAt());
                            return i;
                        })
                        .orElse(null));
        Optional<LiveState> live =
                isLive ? Optional.of(LiveState.probe(fs.root(), ctx.live().system())) : Optional.empty();
        o.put(
                "live",
                live.map(l -> {
                            Map<String, Object> i = new LinkedHashMap<>();
                            i.put("mode", l.mode().map(Activation::label).orElse(null));
                            i.put("active", l.active());
                            i.put("usrPresented", l.usrPresented());
                            i.put("moduleLoaded", l.moduleLoaded());
                            i.put("kmodVersion", l.kmodVersion().orElse(null));
                            i.put("zfsVersion", l.zfsVersion().orElse(null));
                            i.put(
                                    "pools",
                                    l.pools().stream()
                                            .map(p -> Map.of("name", p.name(), "health", p.health()))
                                            .toList());
                            return i;
                        })
                        .orElse(null));
        // What the boot did is only known on the running host: the record is in its /run.
        Optional<BootRecord> boot = isLive ? BootRecord.read(fs.root()) : Optional.empty();
        o.put(
                "boot",
                boot.map(b -> {
                            Map<String, Object> i = new LinkedHashMap<>();
                            i.put("outcome", b.outcome());
                            i.put("detail", b.detail());
                            i.put("zfsOff", b.zfsOff());
                            i.put("resolved", resolved(b, installed, f));
                            i.put("command", b.command().isEmpty() ? null : b.command());
                            i.put("kernel", b.kernel());
                            i.put("osVersion", b.osVersion());
                            i.put("at", b.at());
                            return i;
                        })
                        .orElse(null));
        // A broken file stops every other command (exit 2); status still shows the host, and says why.
        Optional<NodeConfig> config;
        String configError = null;
        try {
            config = Optional.of(NodeConfig.load(fs));
        } catch (CorezfsException e) {
            config = Optional.empty();
            configError = e.getMessage();
        }
        Map<String, Object> c = new LinkedHashMap<>();
        config.ifPresent(n -> n.all().forEach(setting -> {
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("value", setting.display());
            v.put("source", setting.source());
            c.put(setting.key(), v);
        }));
        if (configError != null) {
            c.put("error", configError);
        }
        o.put("config", c);
        // Flatcar's own zfs extension beside corezfs stacks two ZFS builds: shown, then refused (exit 3).
        Optional<String> official = OfficialZfs.detect(fs);
        o.put("officialZfsExtension", official.orElse(null));
        if (json) {
            out().println(Json.write(o));
        } else {
            out().printf("OS:        %s %s (%s)%n", f.os(), f.version(), f.board());
            out().printf(
                            "Channel:   %s%s%n",
                            f.channel().isEmpty() ? "-" : f.channel(),
                            f.updateChannel().equals(f.channel())
                                    ? ""
                                    : " (follows " + f.updateChannel() + " for updates)");
            out().printf("Kernel:    %s (%s)%n", f.kernel(), f.arch());
            out().printf(
                            "Installed: %s%n",
                            installed
                                    .map(s -> s.archive() + " (ZFS "
                                            + s.manifest().zfsVersion()
                                            + (s.manifest().kernel().equals(f.kernel())
                                                    ? ""
                                                    : ", built for kernel "
                                                            + s.manifest().kernel() + ": will not load on "
                                                            + f.kernel())
                                            + ")")
                                    .orElse("nothing"));
            live.ifPresent(l -> {
                out().printf(
                                "Mode:      %s%n",
                                l.mode()
                                        .map(m -> m.label() + " (" + m.unit() + " "
                                                + (l.active() ? "active" : "inactive") + ")")
                                        .orElse("-"));
                out().printf(
                                "Module:    %s%n",
                                l.moduleLoaded() ? "zfs " + l.kmodVersion().orElse("?") + " loaded" : "not loaded");
                out().printf(
                                "Tools:     %s%n",
                                l.zfsVersion().map(v -> "zfs " + v).orElse("not on /usr"));
                out().printf(
                                "Pools:     %s%n",
                                l.pools().isEmpty()
                                        ? "none imported"
                                        : String.join(
                                                ", ",
                                                l.pools().stream()
                                                        .map(p -> p.name() + " " + p.health())
                                                        .toList()));
            });
            boot.ifPresent(b -> {
                out().printf("Boot:      %s: %s%n", b.outcome(), b.detail());
                if (resolved(b, installed, f)) {
                    out().printf(
                                    "           since resolved: %s is installed for this kernel%n",
                                    installed.get().archive());
                } else if (!b.command().isEmpty()) {
                    out().printf(
                                    "           %s %s%n",
                                    b.kind() == BootRecord.Outcome.BUILDING || b.kind() == BootRecord.Outcome.WAITING
                                            ? "follow the build:"
                                            : "to get ZFS back, run:",
                                    b.command());
                }
            });
            if (configError != null) {
                out().printf("Config:    %s is broken, defaults are NOT in effect: %s%n", NodeConfig.PATH, configError);
            } else {
                out().printf(
                                "Config:    %s%n",
                                fs.exists(NodeConfig.PATH) ? NodeConfig.PATH : "defaults (no " + NodeConfig.PATH + ")");
                config.get()
                        .all()
                        .forEach(setting -> out().printf(
                                        "  %-19s %s (%s)%n",
                                        setting.key(),
                                        setting.display().isEmpty() ? "-" : setting.display(),
                                        setting.source()));
            }
        }
        if (official.isPresent()) {
            throw CorezfsException.precondition(OfficialZfs.message(official.get()));
        }
        return 0;
    }

    /** The boot left ZFS off, but an archive for this kernel has been installed since (`corezfs install`). */
    private static boolean resolved(BootRecord b, Optional<InstallState> installed, HostFacts f) {
        return b.zfsOff()
                && installed.isPresent()
                && installed.get().manifest().kernel().equals(f.kernel())
                && installed.get().manifest().osVersion().equals(f.version());
    }
}
