package io.corezfs.system;

import io.corezfs.host.RootFs;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * systemd preset policy: {@code *.preset} files from several directories, a file in an earlier directory masking
 * one of the same name in a later one, all read in file-name order; the first rule that matches a unit decides.
 * No match means enable, as in systemd.
 */
public final class Presets {
    private record Rule(boolean enable, PathMatcher glob) {}

    private final List<Rule> rules;

    private Presets(List<Rule> rules) {
        this.rules = rules;
    }

    /**
     * @param first rules in preset syntax ({@code enable UNIT}, {@code disable GLOB}) that come before every file
     * @param dirs  preset directories, highest priority first; missing ones are skipped
     */
    public static Presets load(List<String> first, List<Path> dirs) throws IOException {
        Map<String, Path> byName = new TreeMap<>();
        for (Path dir : dirs) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.preset")) {
                for (Path p : ds) {
                    byName.putIfAbsent(p.getFileName().toString(), p);
                }
            }
        }
        List<Rule> rules = new ArrayList<>();
        first.forEach(line -> addRule(rules, line));
        for (Path p : byName.values()) {
            if (!Files.isRegularFile(p)) {
                continue; // a preset symlinked to /dev/null masks its name and holds no rules
            }
            for (String line : RootFs.readText(p, p.toString()).split("\n", -1)) {
                addRule(rules, line);
            }
        }
        return new Presets(rules);
    }

    private static void addRule(List<Rule> rules, String line) {
        String l = line.strip();
        if (l.isEmpty() || l.startsWith("#") || l.startsWith(";")) {
            return;
        }
        String[] words = l.split("\\s+");
        if (words.length < 2 || !(words[0].equals("enable") || words[0].equals("disable"))) {
            return;
        }
        rules.add(new Rule(words[0].equals("enable"), FileSystems.getDefault().getPathMatcher("glob:" + words[1])));
    }

    public boolean enabled(String unit) {
        Path name = Path.of(unit);
        for (Rule r : rules) {
            if (r.glob.matches(name)) {
                return r.enable;
            }
        }
        return true;
    }
}
