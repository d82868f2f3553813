package io.corezfs.cli;

import io.corezfs.ExitCode;
import io.corezfs.flexvolume.FlexVolumeDriver;
import io.corezfs.flexvolume.Reply;
import io.corezfs.host.RootFs;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

@Command(
        name = "flexvolume",
        mixinStandardHelpOptions = true,
        subcommands = FlexVolumeInstallCommand.class,
        customSynopsis = {
            "corezfs flexvolume init | mount DIR JSON | unmount DIR | VERB ...",
            "       corezfs flexvolume install --parent POOL/DATASET [--plugin-dir DIR]",
            "                                  [--launcher FILE] [--root DIR]",
            ""
        },
        description = {
            "The Kubernetes FlexVolume driver corezfs/zfs, as the kubelet calls it: a pod names a dataset and a quota,"
                    + " and the driver creates it under the parent dataset of its configuration (or reuses it, with the"
                    + " pod's properties applied) and bind-mounts it into the pod. Unmount only unmounts: the dataset"
                    + " and its data stay for the next pod that names it.",
            "",
            "  init            Success, capabilities {\"attach\": false}",
            "  mount DIR JSON  JSON: the kubelet's options with the pod's: dataset and quota",
            "                  (required), reservation and compression",
            "  unmount DIR     unmounts DIR; the dataset stays",
            "  any other verb  Not supported (attach, detach, mountdevice, ...)",
            "",
            "The reply is one JSON object on stdout and nothing on stderr, since the kubelet parses both as the reply."
                    + " Exit 0 for Success and Not supported; for Failure, 2 for bad options or names, 3 when the"
                    + " driver is not configured, 1 when zfs or mount failed. A dataset option that is not one plain"
                    + " ZFS name component (no /, .., @) is refused before zfs runs.",
            "",
            "Install it on each node with `corezfs flexvolume install`. FlexVolume is deprecated since Kubernetes 1.23;"
                    + " prefer a CSI driver on new clusters."
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  sudo corezfs flexvolume install --parent tank/kube",
            "  corezfs flexvolume mount /var/lib/kubelet/pods/UID/volumes/corezfs~zfs/data \\",
            "      '{\"dataset\":\"data\",\"quota\":\"64M\",\"compression\":\"lz4\"}'"
        })
final class FlexVolumeCommand extends BaseCommand implements Callable<Integer> {
    /**
     * The verb and its arguments, taken as they come: the kubelet's JSON or a directory must never be read as an
     * option of this tool, and a malformed call still gets a JSON reply, not a usage text on stderr.
     */
    @Unmatched
    List<String> args = new ArrayList<>();

    FlexVolumeCommand(Context ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        FlexVolumeDriver driver =
                new FlexVolumeDriver(new RootFs(ctx.live().root()), ctx.live().system());
        String verb = args.isEmpty() ? "" : args.get(0);
        Reply reply = switch (verb) {
            case "init" -> args.size() == 1 ? driver.init() : usage("init takes no arguments");
            case "mount" -> args.size() == 3 ? driver.mount(args.get(1), args.get(2)) : usage("mount takes DIR JSON");
            case "unmount" -> args.size() == 2 ? driver.unmount(args.get(1)) : usage("unmount takes DIR");
            case "" -> usage("a verb is required: init, mount or unmount (see corezfs flexvolume --help)");
            default -> driver.other(verb);
        };
        out().println(reply.json());
        out().flush();
        return reply.exitCode();
    }

    private static Reply usage(String message) {
        return Reply.failure(message, ExitCode.USAGE);
    }
}
