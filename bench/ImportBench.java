import io.corezfs.docker.DockerJavaEngine;
import io.corezfs.system.HostCommands;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Java side of bench/import.sh: the same steps as corezfs's developer-container import once the ROOT partition
 * is mounted (tar of the mount started through HostCommands, its stdout streamed into Docker.importImage), through
 * the public classes only, so it runs against any build of them. Prints key=value lines for the script.
 *
 * Usage: java -cp CLASSES:LIBS ImportBench MOUNTPOINT REPOSITORY TAG
 */
public final class ImportBench {
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: ImportBench MOUNTPOINT REPOSITORY TAG");
            System.exit(2);
        }
        long t0 = System.nanoTime();
        String id;
        try (DockerJavaEngine docker =
                DockerJavaEngine.fromEnvironment(Optional.ofNullable(System.getenv("DOCKER_HOST")))) {
            docker.ping();
            HostCommands.Running tar = HostCommands.over(new io.corezfs.system.LocalProcessRunner())
                    .start(List.of("tar", "--numeric-owner", "--xattrs", "-C", args[0], "-c", "."));
            try (InputStream in = tar.stdout()) {
                id = docker.importImage(in, args[1], args[2], Map.of("corezfs.source-sha256", "0".repeat(64)));
            }
            tar.finish();
        }
        System.out.println("image=" + id);
        System.out.println("import_ms=" + (System.nanoTime() - t0) / 1_000_000);
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                System.out.println("vm_hwm_kb=" + line.replaceAll("\\D", ""));
            }
        }
    }
}
