package io.corezfs.host;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * A host's filesystem seen from a root directory, the way {@code chroot} would see it: absolute symlink targets
 * and {@code ..} never leave the root. Without this, an image's {@code /etc/os-release -> ../usr/lib/os-release}
 * link, or a hostile absolute link, would silently read the build machine's own files.
 */
public final class RootFs implements HostFiles {
    private static final int MAX_LINKS = 40;

    private final Path root;

    public RootFs(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    @Override
    public boolean isMachineRoot() {
        return root.getParent() == null;
    }

    /** The machine path of {@code hostPath} after resolving every symlink inside the root. */
    public Path resolve(String hostPath) {
        Deque<String> todo = new ArrayDeque<>(split(hostPath));
        List<String> done = new ArrayList<>();
        int links = 0;
        while (!todo.isEmpty()) {
            String name = todo.pollFirst();
            if (name.isEmpty() || name.equals(".")) {
                continue;
            }
            if (name.equals("..")) {
                if (!done.isEmpty()) {
                    done.remove(done.size() - 1);
                }
                continue;
            }
            Path candidate = machinePath(done).resolve(name);
            if (Files.isSymbolicLink(candidate)) {
                if (++links > MAX_LINKS) {
                    throw new CorezfsException(
                            ExitCode.PRECONDITION,
                            "too many levels of symbolic links resolving " + hostPath + " under " + root);
                }
                String target = readLink(candidate);
                List<String> parts = split(target);
                for (int i = parts.size() - 1; i >= 0; i--) {
                    todo.addFirst(parts.get(i));
                }
                if (target.startsWith("/")) {
                    done.clear();
                }
                continue;
            }
            done.add(name);
        }
        return machinePath(done);
    }

    /**
     * The most a host file corezfs reads may hold. Release files, os-release and update.conf are a few hundred bytes
     * and /proc values one line; anything near this is not such a file, and reading it whole could exhaust the heap.
     */
    public static final int MAX_FILE_BYTES = 1 << 20;

    /**
     * The contents of a host file, or empty when it does not exist. Symlinks are resolved inside the root. A file
     * that is not a regular file (opening a FIFO blocks; a device never ends) or is larger than
     * {@link #MAX_FILE_BYTES} is refused (exit 3), as is one that is not UTF-8.
     */
    @Override
    public Optional<String> readIfExists(String hostPath) {
        Path p = resolve(hostPath);
        if (!Files.exists(p)) {
            return Optional.empty();
        }
        String name =
                describe(hostPath) + (p.equals(root.resolve(hostPath.replaceFirst("^/+", ""))) ? "" : " (" + p + ")");
        return Optional.of(readText(p, name));
    }

    /**
     * The text of a small file the host or an operator controls (a release file, a preset, a /proc or /sys value),
     * read under the same rules as {@link #readIfExists}: a regular file of at most {@link #MAX_FILE_BYTES}, in
     * UTF-8; anything else is refused (exit 3) with {@code name} in the message.
     */
    public static String readText(Path p, String name) {
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            if (!a.isRegularFile()) {
                throw new CorezfsException(
                        ExitCode.PRECONDITION,
                        name + " is not a regular file ("
                                + (a.isDirectory() ? "a directory" : "a FIFO, socket or device")
                                + "); refusing to read it");
            }
            if (a.size() > MAX_FILE_BYTES) {
                throw tooLarge(name);
            }
            byte[] bytes;
            // /proc files report size 0, so the cap is also enforced on what is actually read.
            try (InputStream in = Files.newInputStream(p)) {
                bytes = in.readNBytes(MAX_FILE_BYTES + 1);
            }
            if (bytes.length > MAX_FILE_BYTES) {
                throw tooLarge(name);
            }
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new CorezfsException(ExitCode.PRECONDITION, name + " is not UTF-8 text", e);
        } catch (IOException e) {
            throw new CorezfsException(ExitCode.PRECONDITION, "cannot read " + name + ": " + e.getMessage(), e);
        }
    }

    private static CorezfsException tooLarge(String name) {
        return new CorezfsException(
                ExitCode.PRECONDITION,
                name + " is larger than " + MAX_FILE_BYTES
                        + " bytes, which no host file corezfs reads is; refusing to read it");
    }

    @Override
    public boolean exists(String hostPath) {
        return Files.exists(resolve(hostPath), LinkOption.NOFOLLOW_LINKS);
    }

    public boolean isDirectory(String hostPath) {
        return Files.isDirectory(resolve(hostPath));
    }

    /** How to name a host file in messages: the host path, and where it lives when the root is not {@code /}. */
    @Override
    public String describe(String hostPath) {
        return isMachineRoot() ? hostPath : root + hostPath;
    }

    @Override
    public List<String> directories(String hostPath) {
        Path dir = resolve(hostPath);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new CorezfsException(ExitCode.PRECONDITION, "cannot list " + describe(hostPath), e);
        }
    }

    private Path machinePath(List<String> names) {
        Path p = root;
        for (String n : names) {
            p = p.resolve(n);
        }
        return p;
    }

    private static String readLink(Path link) {
        try {
            return Files.readSymbolicLink(link).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> split(String path) {
        List<String> out = new ArrayList<>();
        for (String s : path.split("/")) {
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }
}
