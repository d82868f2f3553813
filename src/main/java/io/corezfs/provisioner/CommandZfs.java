package io.corezfs.provisioner;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Text;
import io.corezfs.system.ProcessRequest;
import io.corezfs.system.ProcessResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/** {@link ZfsCommands} as {@code zfs} command lines, run by whatever runs a {@link ProcessRequest}. */
final class CommandZfs implements ZfsCommands {
    /** Native and user property names: user ones hold a colon ({@code io.corezfs:claim}). */
    private static final Pattern PROPERTY = Pattern.compile("[a-z][a-z0-9_.:-]{0,255}");

    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    private final Function<ProcessRequest, ProcessResult> run;
    private final List<String> zfs;
    private final String where;

    CommandZfs(Function<ProcessRequest, ProcessResult> run, List<String> zfs, String where) {
        this.run = run;
        this.zfs = List.copyOf(zfs);
        this.where = where;
    }

    @Override
    public void create(String dataset, Map<String, String> properties) {
        List<String> argv = new ArrayList<>(zfs);
        argv.add("create");
        properties.forEach((k, v) -> {
            argv.add("-o");
            argv.add(property(k) + "=" + v);
        });
        argv.add(dataset);
        check(run(argv));
    }

    @Override
    public Optional<Map<String, String>> get(String dataset, List<String> properties) {
        List<String> argv = new ArrayList<>(zfs);
        argv.addAll(List.of("get", "-H", "-p", "-o", "property,value"));
        argv.add(String.join(",", properties.stream().map(CommandZfs::property).toList()));
        argv.add(dataset);
        ProcessResult r = run(argv);
        if (!r.ok() && r.stderrTail().contains("dataset does not exist")) {
            return Optional.empty();
        }
        check(r);
        // Output of the node is untrusted: exactly the asked properties, one tab-separated line each.
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : r.stdout().split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\t", -1);
            if (f.length != 2 || !properties.contains(f[0]) || values.containsKey(f[0])) {
                throw new CorezfsException(
                        ExitCode.UNEXPECTED,
                        "zfs get" + where + " answered an unexpected line for " + dataset + ": '"
                                + Text.printable(line, 120) + "'");
            }
            values.put(f[0], f[1]);
        }
        if (!values.keySet().containsAll(properties)) {
            throw new CorezfsException(
                    ExitCode.UNEXPECTED,
                    "zfs get" + where + " did not answer all of " + properties + " for " + dataset);
        }
        return Optional.of(values);
    }

    @Override
    public void destroy(String dataset) {
        List<String> argv = new ArrayList<>(zfs);
        argv.add("destroy");
        argv.add(dataset);
        check(run(argv));
    }

    private ProcessResult run(List<String> argv) {
        return run.apply(ProcessRequest.of(argv).timeout(TIMEOUT));
    }

    private void check(ProcessResult r) {
        if (!r.ok()) {
            throw new CorezfsException(ExitCode.UNEXPECTED, r.describe() + where);
        }
    }

    private static String property(String name) {
        if (!PROPERTY.matcher(name).matches()) {
            throw new IllegalArgumentException("not a ZFS property name: " + name);
        }
        return name;
    }
}
