package io.corezfs.cli;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The one place option values are checked, before any command runs: each converter refuses a bad value with a
 * message picocli prefixes with the option's name, and the command line turns that into one line and exit 2.
 * Converters that look at files take the {@link Context}, so relative paths mean what the command will use.
 */
final class OptionValues {
    /** Longer than any path Linux accepts (PATH_MAX): such a value is a mistake, not a path. */
    static final int MAX_PATH = 4096;
    /** A kernel release is at most 64 characters (the kernel's __NEW_UTS_LEN). */
    static final int MAX_KERNEL = 64;

    static final Pattern KERNEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+~-]*");
    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    static final Pattern VERSION = Pattern.compile("[0-9][A-Za-z0-9.~+-]{0,63}");

    private OptionValues() {}

    static String printable(String s) {
        return io.corezfs.Text.printable(s, 80);
    }

    private static TypeConversionException bad(String value, String why) {
        return new TypeConversionException("'" + printable(value) + "': " + why);
    }

    /** Any path: not empty, not absurdly long, no NUL. Whether it must exist is for the stricter kinds below. */
    static class AnyPath implements ITypeConverter<Path> {
        @Override
        public Path convert(String value) {
            if (value.isEmpty()) {
                throw new TypeConversionException("an empty path");
            }
            if (value.length() > MAX_PATH) {
                throw bad(value, "longer than " + MAX_PATH + " characters");
            }
            try {
                return Path.of(value);
            } catch (InvalidPathException e) {
                throw bad(value, "not a valid path (" + e.getReason() + ")");
            }
        }
    }

    /** A directory that exists (symlinks followed). */
    static final class ExistingDir extends AnyPath {
        private final Context ctx;

        ExistingDir(Context ctx) {
            this.ctx = ctx;
        }

        @Override
        public Path convert(String value) {
            Path p = super.convert(value);
            Path resolved = ctx.resolve(p);
            if (!Files.exists(resolved)) {
                throw bad(value, "no such directory");
            }
            if (!Files.isDirectory(resolved)) {
                throw bad(value, "not a directory");
            }
            return p;
        }
    }

    /**
     * A regular file that exists (symlinks followed). Checked before anything opens it: opening a FIFO blocks until
     * a writer comes, and a device or directory is never an archive or keyring.
     */
    static final class RegularFile extends AnyPath {
        private final Context ctx;

        RegularFile(Context ctx) {
            this.ctx = ctx;
        }

        @Override
        public Path convert(String value) {
            Path p = super.convert(value);
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(ctx.resolve(p), BasicFileAttributes.class);
            } catch (IOException e) {
                throw bad(value, "no such file");
            }
            if (!a.isRegularFile()) {
                throw bad(
                        value,
                        "not a regular file (" + (a.isDirectory() ? "a directory" : "a FIFO, socket or device") + ")");
            }
            return p;
        }
    }

    /** A local Docker image: a reference or an id, never something a shell or docker could read as an option. */
    static final class DockerImage implements ITypeConverter<String> {
        private static final Pattern IMAGE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}");

        @Override
        public String convert(String value) {
            if (!IMAGE.matcher(value).matches()) {
                throw bad(value, "not a Docker image reference");
            }
            return value;
        }
    }

    /** A source tarball: a URL (checked for shape here, for scheme by the resolver) or a regular file that exists. */
    static final class SourceRef implements ITypeConverter<String> {
        private final Context ctx;

        SourceRef(Context ctx) {
            this.ctx = ctx;
        }

        @Override
        public String convert(String value) {
            if (value.contains("://")) {
                if (value.length() > MAX_PATH || !value.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                    throw bad(value, "not a URL (spaces, control or non-ASCII characters, or too long)");
                }
                return value;
            }
            new RegularFile(ctx).convert(value);
            return value;
        }
    }

    static final class KernelRelease implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (value.length() > MAX_KERNEL) {
                throw bad(value, "longer than " + MAX_KERNEL + " characters, which no kernel release is");
            }
            if (!KERNEL.matcher(value).matches()) {
                throw bad(
                        value, "not a kernel release (letters, digits and . _ + ~ -, starting with a letter or digit)");
            }
            return value;
        }
    }

    /** Board, channel, OS id: lower-case tokens as they appear in archive names. */
    static final class Name implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (!NAME.matcher(value).matches()) {
                throw bad(value, "expected a lower-case name of letters, digits, '.', '_' and '-' (at most 64)");
            }
            return value;
        }
    }

    static final class Version implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (!VERSION.matcher(value).matches()) {
                throw bad(value, "malformed version");
            }
            return value;
        }
    }

    /** Compile jobs: at least one, and no more than a machine could run. */
    static final class Jobs implements ITypeConverter<Integer> {
        static final int MAX = 1024;

        @Override
        public Integer convert(String value) {
            return (int) bounded(value, 1, MAX);
        }
    }

    static final class Redirects implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return (int) bounded(value, 0, 20);
        }
    }

    static long bounded(String value, long min, long max) {
        long n;
        try {
            n = Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw bad(value, "not a whole number");
        }
        if (n < min || n > max) {
            throw bad(value, "must be between " + min + " and " + max);
        }
        return n;
    }

    private static final Pattern SIZE = Pattern.compile("([0-9]{1,19})([KMGT]?)(?:i?B)?", Pattern.CASE_INSENSITIVE);

    /** A byte count: {@code 123}, {@code 64K}, {@code 8M}, {@code 16G}, {@code 1T} (powers of 1024). */
    static final class Bytes implements ITypeConverter<Long> {
        static final long MAX = 1L << 40;

        @Override
        public Long convert(String value) {
            Matcher m = SIZE.matcher(value.strip());
            if (!m.matches()) {
                throw bad(value, "expected a byte count such as 65536, 64K, 8M or 16G");
            }
            int shift = switch (m.group(2).toUpperCase(Locale.ROOT)) {
                case "K" -> 10;
                case "M" -> 20;
                case "G" -> 30;
                case "T" -> 40;
                default -> 0;
            };
            long n;
            try {
                n = Long.parseLong(m.group(1));
            } catch (NumberFormatException e) {
                throw bad(value, "too large");
            }
            if (n > MAX >> shift) {
                throw bad(value, "more than 1T");
            }
            return n << shift;
        }
    }

    /** A byte count that must be more than zero: a cap or rate of 0 would refuse everything. */
    static final class NonZeroBytes implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            long n = new Bytes().convert(value);
            if (n == 0) {
                throw bad(value, "must be more than 0");
            }
            return n;
        }
    }

    private static final Pattern DURATION = Pattern.compile("([0-9]{1,9})(ms|s|m|h)?");

    /** A positive duration: {@code 500ms}, {@code 30s} (also plain {@code 30}), {@code 10m}, {@code 2h}; at most a week. */
    static final class Time implements ITypeConverter<Duration> {
        static final Duration MAX = Duration.ofDays(7);

        @Override
        public Duration convert(String value) {
            Matcher m = DURATION.matcher(value.strip());
            if (!m.matches()) {
                throw bad(value, "expected a duration such as 500ms, 30s, 10m or 2h");
            }
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            Duration d = switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofSeconds(n);
            };
            if (d.isZero() || d.compareTo(MAX) > 0) {
                throw bad(value, "must be more than 0 and at most 7 days");
            }
            return d;
        }
    }

    /** An HTTP(S) base URL: scheme, host, optional port and path; nothing else. */
    static class HttpUrl implements ITypeConverter<URI> {
        @Override
        public URI convert(String value) {
            return check(value, false);
        }

        static URI check(String value, boolean fileAllowed) {
            String expected = fileAllowed
                    ? "expected http(s)://host[:port][/path] or file:///dir"
                    : "expected http(s)://host[:port][/path]";
            URI u;
            try {
                u = new URI(value);
            } catch (URISyntaxException e) {
                throw bad(value, "not a URL (" + e.getReason() + "); " + expected);
            }
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if (fileAllowed
                    && scheme.equals("file")
                    && !u.isOpaque()
                    && u.getRawAuthority() == null
                    && u.getRawPath() != null
                    && u.getRawPath().startsWith("/")
                    && u.getRawQuery() == null
                    && u.getRawFragment() == null) {
                return u;
            }
            if (!scheme.equals("http") && !scheme.equals("https")) {
                throw bad(
                        value,
                        (scheme.isEmpty() ? "no scheme" : "scheme " + scheme + " is not supported") + "; " + expected);
            }
            if (u.isOpaque() || u.getHost() == null || u.getHost().isEmpty()) {
                throw bad(value, "no host; " + expected);
            }
            if (u.getPort() == 0 || u.getPort() > 65535) {
                throw bad(value, "port out of range; " + expected);
            }
            if (u.getRawQuery() != null || u.getRawFragment() != null) {
                throw bad(value, "no query or fragment allowed; " + expected);
            }
            return u;
        }
    }

    /** A mirror base for build downloads: HTTP(S), or a local directory as a file: URL. */
    static final class MirrorBase implements ITypeConverter<URI> {
        @Override
        public URI convert(String value) {
            return HttpUrl.check(value, true);
        }
    }

    /** Where a path ends up once every symlink and {@code ..} is followed, also for the parts that do not exist yet. */
    static Path wouldResolveTo(Path p) throws IOException {
        Path abs = p.toAbsolutePath();
        for (int links = 0; Files.isSymbolicLink(abs); links++) {
            if (links > 40) {
                throw new IOException("too many levels of symbolic links: " + p);
            }
            abs = abs.resolveSibling(Files.readSymbolicLink(abs)).toAbsolutePath();
        }
        Path existing = abs;
        Path rest = abs.getFileSystem().getPath("");
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            rest = existing.getFileName().resolve(rest);
            existing = existing.getParent();
        }
        if (existing == null) {
            return abs.normalize();
        }
        return existing.toRealPath().resolve(rest).normalize();
    }
}
