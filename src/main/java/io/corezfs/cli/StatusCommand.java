package io.corezfs.cli;

import io.corezfs.CorezfsException;
import io.corezfs.activation.Activation;
import io.corezfs.activation.LiveState;
import io.corezfs.host.HostFacts;
import io.corezfs.host.NodeConfig;
import io.corezfs.host.RootFs;
import io.corezfs.install.InstallState;
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
        return 0;
    }
}
