package io.corezfs.system;

import io.corezfs.Reporter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Works out the symlinks {@code systemctl --root=R preset} would create for the archive's units: their
 * {@code [Install]} section says where ({@code WantedBy=}, {@code RequiredBy=}, {@code UpheldBy=}, {@code Alias=},
 * {@code Also=}), the presets say whether. Computing links instead of calling systemctl is what lets us install
 * into an offline image.
 */
public final class UnitEnabler {
    private static final String UNIT_DIR = "/etc/systemd/system";

    private final Reporter reporter;

    public UnitEnabler(Reporter reporter) {
        this.reporter = reporter;
    }

    /**
     * @param units   unit name → its file (staged), for units the archive installs into {@code /etc/systemd/system}
     * @param presets the preset policy of the target
     */
    public List<UnitLink> plan(Map<String, Path> units, Presets presets) throws IOException {
        Set<UnitLink> links = new LinkedHashSet<>();
        Deque<String> todo = new ArrayDeque<>();
        for (String unit : units.keySet()) {
            if (presets.enabled(unit)) {
                todo.add(unit);
            }
        }
        Set<String> done = new LinkedHashSet<>();
        while (!todo.isEmpty()) {
            String unit = todo.poll();
            if (!done.add(unit)) {
                continue;
            }
            Path file = units.get(unit);
            if (file == null) {
                reporter.warn("unit " + unit + " is named in Also= but not shipped; not enabled");
                continue;
            }
            InstallSection s = InstallSection.parse(Files.readAllLines(file));
            String name = unit;
            if (unit.endsWith("@.service") || unit.contains("@.")) {
                if (s.defaultInstance == null) {
                    continue; // a template without DefaultInstance= has nothing to enable on its own
                }
                name = unit.replace("@.", "@" + s.defaultInstance + ".");
            }
            String target = UNIT_DIR + "/" + unit;
            for (String t : s.wantedBy) {
                links.add(new UnitLink("etc/systemd/system/" + t + ".wants/" + name, target));
            }
            for (String t : s.requiredBy) {
                links.add(new UnitLink("etc/systemd/system/" + t + ".requires/" + name, target));
            }
            for (String t : s.upheldBy) {
                links.add(new UnitLink("etc/systemd/system/" + t + ".upholds/" + name, target));
            }
            for (String a : s.alias) {
                links.add(new UnitLink("etc/systemd/system/" + a, target));
            }
            todo.addAll(s.also);
        }
        return new ArrayList<>(links);
    }

    private static final class InstallSection {
        final List<String> wantedBy = new ArrayList<>();
        final List<String> requiredBy = new ArrayList<>();
        final List<String> upheldBy = new ArrayList<>();
        final List<String> alias = new ArrayList<>();
        final List<String> also = new ArrayList<>();
        String defaultInstance;

        static InstallSection parse(List<String> lines) {
            InstallSection s = new InstallSection();
            boolean in = false;
            for (String raw : lines) {
                String l = raw.strip();
                if (l.startsWith("[")) {
                    in = l.equals("[Install]");
                    continue;
                }
                int eq = l.indexOf('=');
                if (!in || eq < 0 || l.startsWith("#") || l.startsWith(";")) {
                    continue;
                }
                String key = l.substring(0, eq).strip();
                String value = l.substring(eq + 1).strip();
                List<String> words = value.isEmpty() ? List.of() : List.of(value.split("\\s+"));
                switch (key) {
                    case "WantedBy" -> add(s.wantedBy, words);
                    case "RequiredBy" -> add(s.requiredBy, words);
                    case "UpheldBy" -> add(s.upheldBy, words);
                    case "Alias" -> add(s.alias, words);
                    case "Also" -> add(s.also, words);
                    case "DefaultInstance" -> s.defaultInstance = value.isEmpty() ? null : value;
                    default -> {}
                }
            }
            return s;
        }

        private static void add(List<String> to, List<String> words) {
            if (words.isEmpty()) {
                to.clear(); // an empty assignment resets the list, as in systemd
            }
            for (String w : words) {
                // Unit names never contain '/'; one that does would write outside the unit directory.
                if (!w.contains("/") && !w.equals("..") && !w.equals(".")) {
                    to.add(w);
                }
            }
        }
    }
}
