package io.corezfs.archive;

import io.corezfs.CorezfsException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The rules for where archive content may live. An archive only ever touches {@code etc/} and
 * {@code opt/corezfs/}, and every link inside it must land there too, once resolved the way the kernel would
 * resolve it on the installed host (through the archive's own symlinks).
 */
public final class ArchivePaths {
    /** Per-install bookkeeping lives here; an archive must never ship it. */
    public static final String STATE_DIR = "opt/corezfs/.corezfs";
    /** The sysext release file inside the installed tree, rewritten by every live activation in sysext mode. */
    public static final String EXTENSION_RELEASE = "opt/corezfs/usr/lib/extension-release.d/extension-release.corezfs";

    private static final int MAX_PATH = 4096;
    private static final int MAX_LINK_HOPS = 40;

    private ArchivePaths() {}

    /** Checks that a name is canonical and inside the allowed prefixes; returns it without a trailing slash. */
    public static String check(String raw) {
        String name = raw.endsWith("/") ? raw.substring(0, raw.length() - 1) : raw;
        Optional<String> why = whyNotCanonical(name);
        if (why.isPresent()) {
            throw bad(raw, why.get());
        }
        if (!allowed(name)) {
            throw bad(raw, "outside etc/ and opt/corezfs/");
        }
        if (name.equals(STATE_DIR) || name.startsWith(STATE_DIR + "/")) {
            throw bad(raw, "reserved for corezfs's own state");
        }
        return name;
    }

    /**
     * Why {@code name} is not a canonical relative path that stays where it is put: empty or overlong, absolute,
     * a control character or backslash, a {@code ..}, {@code .} or empty part. Empty when it is one. The rule for every
     * tar corezfs unpacks, archives and build output alike.
     */
    public static Optional<String> whyNotCanonical(String name) {
        if (name.isEmpty() || name.length() > MAX_PATH) {
            return Optional.of("empty or overlong path");
        }
        if (name.startsWith("/")) {
            return Optional.of("absolute path");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7f || c == '\\') {
                return Optional.of("control character or backslash in path");
            }
        }
        for (String part : name.split("/", -1)) {
            if (part.equals("..")) {
                return Optional.of("'..' in path");
            }
            if (part.isEmpty() || part.equals(".")) {
                return Optional.of("non-canonical path");
            }
        }
        return Optional.empty();
    }

    public static boolean allowed(String name) {
        return name.startsWith("etc/") || name.equals("opt/corezfs") || name.startsWith("opt/corezfs/");
    }

    public static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? "" : path.substring(0, slash);
    }

    /**
     * Resolves a symlink as the installed host would, following the archive's other symlinks, and fails unless
     * it ends inside the allowed prefixes. {@code ..} at the root fails rather than clamping: on a host the root is
     * {@code /}, but in a staging tree it would be the staging directory's parent.
     */
    public static void checkSymlink(String linkPath, String target, Map<String, String> symlinks, Set<String> present) {
        if (target.indexOf('\0') >= 0 || target.length() > MAX_PATH) {
            throw bad(linkPath, "malformed link target");
        }
        Deque<String> todo = new ArrayDeque<>();
        List<String> done = new ArrayList<>();
        push(todo, target);
        if (!target.startsWith("/")) {
            done.addAll(List.of(parent(linkPath).split("/")));
        }
        int hops = 0;
        while (!todo.isEmpty()) {
            String part = todo.pollFirst();
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (done.isEmpty()) {
                    throw bad(linkPath, "link target '" + target + "' leaves the tree");
                }
                done.remove(done.size() - 1);
                continue;
            }
            done.add(part);
            String sofar = String.join("/", done);
            String next = symlinks.get(sofar);
            if (next != null) {
                if (++hops > MAX_LINK_HOPS) {
                    throw bad(linkPath, "link loop");
                }
                done.remove(done.size() - 1);
                push(todo, next);
                if (next.startsWith("/")) {
                    done.clear();
                }
            }
        }
        String resolved = String.join("/", done);
        if (!allowed(resolved) && !resolved.equals("etc")) {
            throw bad(linkPath, "link target '" + target + "' resolves outside etc/ and opt/corezfs/");
        }
        if (!present.contains(resolved)) {
            // A link to something the archive does not ship would point at the host's own files.
            throw bad(linkPath, "link target '" + target + "' is not part of the archive");
        }
    }

    /** Every entry path and every directory above one: what a symlink may point to. */
    public static Set<String> present(Iterable<String> paths) {
        Set<String> out = new HashSet<>();
        for (String p : paths) {
            for (String a = p; !a.isEmpty() && out.add(a); a = parent(a)) {
                // adding ancestors until one is already known
            }
        }
        return out;
    }

    private static void push(Deque<String> todo, String path) {
        String[] parts = path.split("/");
        for (int i = parts.length - 1; i >= 0; i--) {
            todo.addFirst(parts[i]);
        }
    }

    private static CorezfsException bad(String path, String why) {
        return CorezfsException.invalidArchive("unsafe entry '" + printable(path) + "': " + why);
    }

    public static String printable(String s) {
        return io.corezfs.Text.printable(s, 120);
    }
}
