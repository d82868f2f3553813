package io.corezfs.testing;

import io.corezfs.system.ProcessRequest;
import io.corezfs.system.ProcessResult;
import io.corezfs.system.ProcessRunner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A node's {@code zfs}, {@code mount} and {@code umount} on paper, over a temporary root: datasets with their
 * properties, and a mount table in the root's {@code /proc/self/mountinfo} that bind mounts and unmounts change, the way
 * the real programs answer (same output columns, same messages on stderr). Every call is recorded; anything else is
 * "not started", so a test sees any program the code was not expected to run.
 */
public final class FakeZfsHost implements ProcessRunner {
    private final Path root;
    private final Map<String, Map<String, String>> datasets = new LinkedHashMap<>();
    private final List<List<String>> calls = new ArrayList<>();
    private final Map<String, String> failures = new LinkedHashMap<>();
    private int mountId = 100;

    /** A root with a mount table holding only {@code /}, and the pool {@code tank} mounted at {@code /tank}. */
    public FakeZfsHost(Path root) {
        this.root = root;
        write("proc/self/mountinfo", "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n");
        dataset("tank", "/tank");
    }

    /** A filesystem dataset that exists already, mounted at {@code mountpoint} (or {@code legacy}). */
    public FakeZfsHost dataset(String name, String mountpoint) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("type", "filesystem");
        p.put("mountpoint", mountpoint);
        p.put("mounted", mountpoint.startsWith("/") ? "yes" : "no");
        datasets.put(name, p);
        if (mountpoint.startsWith("/")) {
            mkdirs(mountpoint);
        }
        return this;
    }

    private final java.util.Set<String> mountedMeanwhile = new java.util.HashSet<>();

    /**
     * {@code dataset} (existing) looks unmounted, and someone else mounts it between that look and this caller's
     * {@code zfs mount}, which then fails as the real zfs does ("filesystem already mounted").
     */
    public FakeZfsHost mountedMeanwhile(String dataset) {
        datasets.get(dataset).put("mounted", "no");
        mountedMeanwhile.add(dataset);
        return this;
    }

    /** Any call whose words, joined by spaces, start with {@code prefix} fails with exit 1 and this stderr. */
    public FakeZfsHost failing(String prefix, String stderr) {
        failures.put(prefix, stderr);
        return this;
    }

    /** Sets one property of an existing dataset, as {@code zfs set} would. */
    public synchronized FakeZfsHost property(String dataset, String property, String value) {
        datasets.get(dataset).put(property, value);
        return this;
    }

    public synchronized List<List<String>> calls() {
        return List.copyOf(calls);
    }

    public synchronized Map<String, String> properties(String dataset) {
        return datasets.containsKey(dataset) ? Map.copyOf(datasets.get(dataset)) : Map.of();
    }

    public synchronized boolean exists(String dataset) {
        return datasets.containsKey(dataset);
    }

    public String mountTable() {
        try {
            return Files.readString(root.resolve("proc/self/mountinfo"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public synchronized ProcessResult run(ProcessRequest request) {
        List<String> a = request.argv();
        calls.add(a);
        String line = String.join(" ", a);
        for (Map.Entry<String, String> f : failures.entrySet()) {
            if (line.startsWith(f.getKey())) {
                return exit(a, 1, "", f.getValue());
            }
        }
        return switch (a.get(0)) {
            case "zfs" -> zfs(a);
            case "mount" -> mount(a);
            case "umount" -> umount(a);
            default -> ProcessResult.notStarted(a, "cannot run " + a.get(0) + ": no such program");
        };
    }

    @Override
    public Streaming start(ProcessRequest request) {
        throw new UnsupportedOperationException("the driver streams nothing");
    }

    private ProcessResult zfs(List<String> a) {
        String name = a.get(a.size() - 1);
        switch (a.get(1)) {
            case "list" -> {
                if (!a.subList(2, a.size() - 1).equals(List.of("-H", "-p", "-o", "name,type,mountpoint,mounted"))) {
                    return exit(a, 2, "", "invalid option");
                }
                Map<String, String> p = datasets.get(name);
                if (p == null) {
                    return exit(a, 1, "", "cannot open '" + name + "': dataset does not exist\n");
                }
                return exit(
                        a,
                        0,
                        name + "\t" + p.get("type") + "\t" + p.get("mountpoint") + "\t" + p.get("mounted") + "\n",
                        "");
            }
            case "create" -> {
                if (datasets.containsKey(name)) {
                    return exit(a, 1, "", "cannot create '" + name + "': dataset already exists\n");
                }
                String parent = name.substring(0, Math.max(0, name.lastIndexOf('/')));
                Map<String, String> pp = datasets.get(parent);
                if (pp == null) {
                    return exit(a, 1, "", "cannot create '" + name + "': parent does not exist\n");
                }
                String mp = pp.get("mountpoint").startsWith("/")
                        ? pp.get("mountpoint") + name.substring(parent.length())
                        : pp.get("mountpoint");
                dataset(name, mp);
                for (int i = 2; i < a.size() - 1; i += 2) {
                    if (!a.get(i).equals("-o")) {
                        return exit(a, 2, "", "invalid option '" + a.get(i) + "'");
                    }
                    set(name, a.get(i + 1));
                }
                return exit(a, 0, "", "");
            }
            case "get" -> {
                // zfs get -H -p -o property,value PROP[,PROP...] NAME: "-" for a property that is not set.
                if (a.size() != 8 || !a.subList(2, 6).equals(List.of("-H", "-p", "-o", "property,value"))) {
                    return exit(a, 2, "", "invalid option");
                }
                Map<String, String> p = datasets.get(name);
                if (p == null) {
                    return exit(a, 1, "", "cannot open '" + name + "': dataset does not exist\n");
                }
                StringBuilder out = new StringBuilder();
                for (String prop : a.get(6).split(",")) {
                    out.append(prop)
                            .append('\t')
                            .append(p.getOrDefault(prop, "-"))
                            .append('\n');
                }
                return exit(a, 0, out.toString(), "");
            }
            case "destroy" -> {
                if (a.size() != 3) {
                    return exit(a, 2, "", "invalid option");
                }
                if (!datasets.containsKey(name)) {
                    return exit(a, 1, "", "cannot open '" + name + "': dataset does not exist\n");
                }
                if (datasets.keySet().stream().anyMatch(d -> d.startsWith(name + "/"))) {
                    return exit(a, 1, "", "cannot destroy '" + name + "': filesystem has children\n");
                }
                datasets.remove(name);
                return exit(a, 0, "", "");
            }
            case "set" -> {
                if (!datasets.containsKey(name)) {
                    return exit(a, 1, "", "cannot open '" + name + "': dataset does not exist\n");
                }
                for (String kv : a.subList(2, a.size() - 1)) {
                    set(name, kv);
                }
                return exit(a, 0, "", "");
            }
            case "mount" -> {
                datasets.get(name).put("mounted", "yes");
                if (mountedMeanwhile.remove(name)) {
                    return exit(a, 1, "", "cannot mount '" + name + "': filesystem already mounted\n");
                }
                return exit(a, 0, "", "");
            }
            default -> {
                return exit(a, 2, "", "unrecognized command '" + a.get(1) + "'");
            }
        }
    }

    private void set(String name, String kv) {
        int eq = kv.indexOf('=');
        datasets.get(name).put(kv.substring(0, eq), kv.substring(eq + 1));
    }

    private ProcessResult mount(List<String> a) {
        if (a.size() == 4 && a.get(1).equals("--bind")) {
            if (!Files.isDirectory(root.resolve(a.get(2).substring(1)))
                    || !Files.isDirectory(root.resolve(a.get(3).substring(1)))) {
                return exit(a, 32, "", "mount: " + a.get(3) + ": special device " + a.get(2) + " does not exist.");
            }
            write(
                    "proc/self/mountinfo",
                    mountTable() + (mountId++) + " 22 0:50 / " + a.get(3).replace(" ", "\\040")
                            + " rw,relatime shared:1 - zfs " + a.get(2).substring(1) + " rw\n");
            return exit(a, 0, "", "");
        }
        if (a.size() == 4 && a.get(1).equals("-o") && a.get(2).equals("remount,bind,ro")) {
            write("proc/self/mountinfo", mountTable().replace(" " + a.get(3) + " rw,", " " + a.get(3) + " ro,"));
            return exit(a, 0, "", "");
        }
        return exit(a, 1, "", "mount: bad usage");
    }

    private ProcessResult umount(List<String> a) {
        String target = " " + a.get(1).replace(" ", "\\040") + " ";
        List<String> lines = new ArrayList<>(mountTable().lines().toList());
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).contains(target)) {
                lines.remove(i);
                write("proc/self/mountinfo", String.join("\n", lines) + "\n");
                return exit(a, 0, "", "");
            }
        }
        return exit(a, 32, "", "umount: " + a.get(1) + ": not mounted.");
    }

    private static ProcessResult exit(List<String> argv, int code, String out, String err) {
        return ProcessResult.exited(argv, code, out, err, Duration.ofMillis(1));
    }

    private void mkdirs(String hostPath) {
        try {
            Files.createDirectories(root.resolve(hostPath.substring(1)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void write(String p, String content) {
        try {
            Files.createDirectories(root.resolve(p).getParent());
            Files.writeString(root.resolve(p), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
