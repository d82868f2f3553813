package io.corezfs.zfs;

import io.corezfs.CorezfsException;
import io.corezfs.net.Downloader;
import io.corezfs.trust.BundledKeys;
import io.corezfs.trust.SignatureVerifier;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Finds, fetches and checks the OpenZFS source for {@code corezfs build}, failing before any compile when it
 * cannot be trusted (exit 5) or cannot build for the kernel (exit 3).
 *
 * <p>Trust comes from {@link ZfsReleases}, by hash: a download from GitHub or a mirror must match its pinned
 * sha256, and a file or URL given with {@code --zfs-source} is recognised by its sha256 whatever its name. A release
 * that is not pinned is accepted when its detached signature beside it ({@code <tarball>.asc}) is good and made by
 * a bundled OpenZFS release key ({@link io.corezfs.trust.BundledKeys#OPENZFS}). Anything else needs
 * {@code --insecure-source}.
 *
 * <p>Without {@code --zfs-version} the release is the newest pinned one whose range holds the kernel and that the
 * source (mirror or GitHub) serves, probed newest first. Whether the release suits the kernel is decided by the
 * tarball's own META, the same file OpenZFS's configure reads, narrowed by the pinned range when the release is
 * pinned (a release once shipped a placeholder Linux-Maximum).
 *
 * <p>Pinned downloads are cached in {@code <cache>/sources/} under their release file names; they are checked
 * again on every use, so a damaged cache file is caught and deleted. URLs given with {@code --zfs-source} are
 * always downloaded afresh into {@code <cache>/sources/from-url/}: their name says nothing about their content.
 */
public final class ZfsSourceResolver {
    private static final long MAX_ASC = SignatureVerifier.MAX_SIGNATURE_BYTES;
    private static final Pattern URL_LIKE = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*://.*");

    /**
     * What the user asked for.
     *
     * @param kernelRelease  the target's {@code uname -r}
     * @param zfsVersion     {@code --zfs-version}; without it, the newest pinned release that supports the kernel
     * @param zfsSource      {@code --zfs-source}: a local file, or an http(s) or file URL of a release tarball
     * @param mirror         {@code --zfs-mirror}: replaces {@code https://github.com}, keeping the release path
     * @param insecureSource {@code --insecure-source}: accept sources whose hash is not pinned
     */
    public record Request(
            String kernelRelease,
            Optional<String> zfsVersion,
            Optional<String> zfsSource,
            Optional<URI> mirror,
            boolean insecureSource) {
        public Request {
            Objects.requireNonNull(kernelRelease, "kernelRelease");
            Objects.requireNonNull(zfsVersion, "zfsVersion");
            Objects.requireNonNull(zfsSource, "zfsSource");
            Objects.requireNonNull(mirror, "mirror");
        }

        public static Request forKernel(String kernelRelease) {
            return new Request(kernelRelease, Optional.empty(), Optional.empty(), Optional.empty(), false);
        }

        public Request withVersion(String version) {
            return new Request(kernelRelease, Optional.of(version), zfsSource, mirror, insecureSource);
        }

        public Request withSource(String source) {
            return new Request(kernelRelease, zfsVersion, Optional.of(source), mirror, insecureSource);
        }

        public Request withMirror(URI base) {
            return new Request(kernelRelease, zfsVersion, zfsSource, Optional.of(base), insecureSource);
        }

        public Request insecure() {
            return new Request(kernelRelease, zfsVersion, zfsSource, mirror, true);
        }
    }

    private final ZfsReleases releases;
    private final Optional<SignatureVerifier> releaseKeys;
    private final Downloader downloader;
    private final Path sources;

    /**
     * @param releases   the pinned table ({@link ZfsReleases#shipped()} outside tests)
     * @param downloader fetches http(s) URLs
     * @param cacheDir   corezfs's cache; tarballs go to its {@code sources/} folder
     */
    public ZfsSourceResolver(ZfsReleases releases, Downloader downloader, Path cacheDir) {
        this(releases, BundledKeys.load(BundledKeys.OPENZFS), downloader, cacheDir);
    }

    /**
     * @param releaseKeys the keys whose signature vouches for a release that is not pinned; empty when none is
     *                    bundled
     */
    public ZfsSourceResolver(
            ZfsReleases releases, Optional<SignatureVerifier> releaseKeys, Downloader downloader, Path cacheDir) {
        this.releases = releases;
        this.releaseKeys = releaseKeys;
        this.downloader = downloader;
        this.sources = cacheDir.resolve("sources");
    }

    /**
     * Resolves the request.
     *
     * @throws CorezfsException exit 3 when no release supports the kernel, the source serves none that does, the
     *                          chosen one does not (by the table or its META), a source cannot be reached or is not
     *                          a release tarball; exit 5 when a pinned download's hash differs (the file is
     *                          deleted), a source or version is neither pinned nor signed by a bundled release key
     *                          and {@code insecureSource} is off, a signature is bad, or a tarball is not the
     *                          version it should be
     */
    public ZfsSource resolve(Request request) {
        Optional<ZfsVersion> asked = request.zfsVersion().map(ZfsVersion::of);
        if (request.zfsSource().isPresent()) {
            return fromGivenSource(request, asked);
        }
        if (asked.isEmpty()) {
            Pick pick = pick(request);
            ZfsReleases.Release release = pick.release();
            ZfsTarball zfs = fetchChecked(
                    ZfsReleaseUrls.zfs(release.version(), request.mirror()),
                    "zfs-" + release.version() + ".tar.gz",
                    Optional.of(release.sha256()));
            return finish(request, release.version(), zfs, Optional.of(release), Optional.empty(), pick.why());
        }
        ZfsVersion version = asked.get();
        Optional<ZfsReleases.Release> pinned = releases.get(version);
        URI url = ZfsReleaseUrls.zfs(version, request.mirror());
        String name = "zfs-" + version + ".tar.gz";
        if (pinned.isPresent()) {
            // The table copies META's range: refusing here saves downloading a release that cannot build.
            pinned.get().declaredMeta().requireKernel(request.kernelRelease());
            ZfsTarball zfs = fetchChecked(url, name, Optional.of(pinned.get().sha256()));
            return finish(
                    request, version, zfs, pinned, Optional.empty(), "ZFS " + version + ": --zfs-version, pinned");
        }
        String notPinned = "OpenZFS " + version + " is not in corezfs's table of verified releases (known: "
                + releases.describe() + ")";
        if (request.insecureSource()) {
            ZfsTarball zfs = fetchChecked(url, name, Optional.empty());
            return finish(request, version, zfs, Optional.empty(), Optional.empty(), "");
        }
        if (releaseKeys.isEmpty()) {
            requireInsecure(request, notPinned + " and no OpenZFS release key is bundled to check a signature");
        }
        // Only a signature can vouch for it now; without one nothing is downloaded but the small probe.
        URI ascUrl = URI.create(url + ".asc");
        if (!served(ascUrl)) {
            requireInsecure(request, notPinned + ", and " + ascUrl + " has no signature to check it by");
        }
        // Checked before the tarball is parsed at all: until then it is any bytes a source chose to send.
        Path file = fetch(url, sources.resolve(name));
        String signer = checkSignature(file, ascUrl, sources.resolve(name + ".asc"), true);
        ZfsTarball zfs = ZfsTarball.read(file, ZfsTarball.sha256(file));
        return finish(
                request,
                version,
                zfs,
                Optional.empty(),
                Optional.of(signer),
                "ZFS " + version + ": not pinned; signature by " + signer + " (OpenZFS release key) checked");
    }

    private ZfsSource fromGivenSource(Request request, Optional<ZfsVersion> asked) {
        String given = request.zfsSource().get();
        boolean downloaded = false;
        Path file;
        if (URL_LIKE.matcher(given).matches()) {
            URI url = uri(given);
            String scheme = url.getScheme().toLowerCase(Locale.ROOT);
            if (scheme.equals("file")) {
                file = localFile(given, fileUrlPath(given, url));
            } else if (scheme.equals("http") || scheme.equals("https")) {
                file = downloader.fetchAgain(url, sources.resolve("from-url").resolve(fileName(url)));
                downloaded = true;
            } else {
                throw CorezfsException.precondition("--zfs-source " + given + ": only http, https and file URLs"
                        + " or a local file are supported");
            }
        } else {
            file = localFile(given, pathOf(given));
        }
        String sha256 = ZfsTarball.sha256(file);
        Optional<ZfsReleases.Release> pinned = releases.bySha256(sha256);
        Optional<String> signer = Optional.empty();
        if (pinned.isEmpty() && !request.insecureSource()) {
            String notPinned = "--zfs-source " + given + " has sha256 " + sha256 + ", which is not the"
                    + " tarball of any release in corezfs's table of verified releases (known: "
                    + releases.describe() + ")";
            try {
                signer = givenSignature(given, file, downloaded);
                if (signer.isEmpty()) {
                    requireInsecure(
                            request,
                            notPinned + ", and no signature by a bundled OpenZFS release key lies" + " beside it ("
                                    + given + ".asc)");
                }
            } catch (CorezfsException e) {
                if (downloaded) {
                    deleteQuietly(file);
                }
                throw e;
            }
        }
        ZfsTarball zfs = ZfsTarball.read(file, sha256);
        ZfsVersion version = pinned.map(ZfsReleases.Release::version)
                .orElseGet(() -> ZfsVersion.of(zfs.meta().version()));
        if (asked.isPresent() && !asked.get().equals(version)) {
            throw CorezfsException.verification("--zfs-version " + asked.get() + " was asked for, but --zfs-source "
                    + given + " is OpenZFS " + version);
        }
        String why = pinned.isPresent()
                ? "ZFS " + version + ": --zfs-source " + given + " is the pinned release tarball"
                : signer.map(f ->
                                "ZFS " + version + ": not pinned; signature by " + f + " (OpenZFS release key) checked")
                        .orElse("");
        return finish(request, version, zfs, pinned, signer, why);
    }

    /**
     * The signer of a given tarball's detached signature beside it ({@code <file>.asc}, or {@code <url>.asc}),
     * or empty when there is none to check or no key is bundled.
     */
    private Optional<String> givenSignature(String given, Path file, boolean downloaded) {
        if (releaseKeys.isEmpty()) {
            return Optional.empty();
        }
        if (downloaded) {
            URI asc = URI.create(uri(given) + ".asc");
            if (!served(asc)) {
                return Optional.empty();
            }
            return Optional.of(checkSignature(file, asc, file.resolveSibling(file.getFileName() + ".asc"), false));
        }
        Path asc = file.resolveSibling(file.getFileName() + ".asc");
        if (!Files.isRegularFile(asc)) {
            return Optional.empty();
        }
        return Optional.of(verify(file, asc));
    }

    /** The checks every zfs tarball gets, then the SPL for releases that need one. */
    private ZfsSource finish(
            Request request,
            ZfsVersion version,
            ZfsTarball zfs,
            Optional<ZfsReleases.Release> pinned,
            Optional<String> signer,
            String why) {
        requireVersion(zfs, version);
        requireKernel(zfs, pinned, request.kernelRelease());
        if (!version.needsSpl()) {
            return new ZfsSource(version, zfs, Optional.empty(), pinned.isPresent(), signer, why);
        }
        // The SPL is checked against the table whenever it knows the version, even when the zfs tarball was an
        // insecure one: its trust does not depend on the other file's.
        Optional<String> splSha256 = releases.get(version).flatMap(ZfsReleases.Release::splSha256);
        if (splSha256.isEmpty()) {
            requireInsecure(
                    request, "the SPL of OpenZFS " + version + " is not in corezfs's table of verified" + " releases");
        }
        ZfsTarball spl =
                fetchChecked(ZfsReleaseUrls.spl(version, request.mirror()), "spl-" + version + ".tar.gz", splSha256);
        requireVersion(spl, version);
        spl.meta().requireKernel(request.kernelRelease());
        return new ZfsSource(
                version, zfs, Optional.of(spl), pinned.isPresent() && splSha256.isPresent(), Optional.empty(), why);
    }

    /**
     * The range is the tarball's own META (what configure will check), narrowed by the pinned table when the
     * release is pinned: a release has shipped a META whose Linux-Maximum was a placeholder (2.4.2's 99.99), and
     * the table records what the release really supports.
     */
    private static void requireKernel(ZfsTarball zfs, Optional<ZfsReleases.Release> pinned, String kernel) {
        zfs.meta().requireKernel(kernel);
        if (pinned.isPresent() && !pinned.get().supportsKernel(kernel)) {
            ZfsReleases.Release r = pinned.get();
            throw CorezfsException.precondition("OpenZFS " + r.version() + " supports Linux " + r.linuxMinimum()
                    + " to " + r.linuxMaximum() + " by corezfs's table of verified releases (narrower than its META's "
                    + zfs.meta().linuxMinimum().orElse("(any)") + " to "
                    + zfs.meta().linuxMaximum().orElse("(any)")
                    + "), but the kernel is " + kernel + "; use a ZFS release that supports it");
        }
    }

    private record Pick(ZfsReleases.Release release, String why) {}

    /**
     * The newest pinned release that supports the kernel and that the source actually has: a mirror holds what
     * its operator copied into it, so the newest entry of the table may well be missing there. A tarball already
     * in the cache needs no source. Each candidate costs one small request; only a 404 moves on to the next, any
     * other failure of the source is an error rather than a quiet choice of an older release.
     */
    private Pick pick(Request request) {
        String kernel = request.kernelRelease();
        List<ZfsReleases.Release> candidates =
                releases.all().stream().filter(r -> r.supportsKernel(kernel)).toList();
        if (candidates.isEmpty()) {
            throw CorezfsException.precondition("no OpenZFS release corezfs knows supports kernel " + kernel
                    + "; known: " + releases.describe() + ". Choose one with --zfs-version and --insecure-source,"
                    + " or give a tarball with --zfs-source");
        }
        String where = request.mirror().map(URI::toString).orElse("https://github.com");
        List<String> missing = new ArrayList<>();
        List<String> tried = new ArrayList<>();
        for (ZfsReleases.Release r : candidates) {
            String skipped = missing.isEmpty() ? "" : " (" + String.join(", ", missing) + " not served there)";
            if (Files.isRegularFile(sources.resolve("zfs-" + r.version() + ".tar.gz"))) {
                return new Pick(
                        r,
                        "ZFS " + r.version() + ": newest pinned release for kernel " + kernel + " that " + where
                                + " serves or the cache " + sources + " holds" + skipped);
            }
            URI url = ZfsReleaseUrls.zfs(r.version(), request.mirror());
            if (served(url)) {
                return new Pick(
                        r,
                        "ZFS " + r.version() + ": newest pinned release for kernel " + kernel + " that " + where
                                + " serves" + skipped);
            }
            missing.add(r.version().text());
            tried.add(url + (url.getScheme().equalsIgnoreCase("file") ? " (no such file)" : " (not found, HTTP 404)"));
        }
        throw CorezfsException.precondition("none of the pinned OpenZFS releases that support kernel " + kernel
                + " is served by " + where + ": " + String.join(", ", tried)
                + ". Copy one into the mirror, or give a tarball with --zfs-source");
    }

    /** Whether the source has {@code url}: only "not found" is a no, anything else unexpected is an error. */
    private boolean served(URI url) {
        if (url.getScheme().equalsIgnoreCase("file")) {
            try {
                return Files.isRegularFile(Path.of(url));
            } catch (IllegalArgumentException e) {
                throw CorezfsException.precondition(url + ": not a local file URL (file:///path)");
            }
        }
        return downloader.exists(url);
    }

    /** Fetches the detached signature at {@code ascUrl} and checks it; returns the signing key's fingerprint. */
    private String checkSignature(Path tarball, URI ascUrl, Path target, boolean deleteTarballIfBad) {
        boolean local = ascUrl.getScheme().equalsIgnoreCase("file");
        try {
            return verify(tarball, local ? Path.of(ascUrl) : downloader.fetchBounded(ascUrl, target, MAX_ASC));
        } catch (CorezfsException e) {
            if (deleteTarballIfBad) {
                deleteQuietly(tarball);
            }
            throw e;
        } finally {
            if (!local) {
                deleteQuietly(target); // a few hundred bytes, fetched again whenever needed
            }
        }
    }

    private String verify(Path tarball, Path asc) {
        try {
            return releaseKeys.get().verify(tarball, asc).fingerprint();
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot read " + asc + ": " + e.getMessage());
        }
    }

    /** Fetches into the cache (reusing a cached copy), checks the pinned hash if there is one, then reads it. */
    private ZfsTarball fetchChecked(URI url, String name, Optional<String> expectedSha256) {
        Path target = sources.resolve(name);
        Path file = fetch(url, target);
        String actual = ZfsTarball.sha256(file);
        if (expectedSha256.isPresent()
                && !MessageDigest.isEqual(
                        expectedSha256.get().getBytes(StandardCharsets.US_ASCII),
                        actual.getBytes(StandardCharsets.US_ASCII))) {
            deleteQuietly(file);
            throw CorezfsException.verification(name + " from " + url + " has sha256 " + actual + ", but the pinned"
                    + " release has " + expectedSha256.get() + "; deleted " + file + ", run again to download it anew");
        }
        return ZfsTarball.read(file, actual);
    }

    private Path fetch(URI url, Path target) {
        if (!url.getScheme().equalsIgnoreCase("file")) {
            return downloader.fetch(url, target);
        }
        // A file: mirror is copied like a download, so a bad copy can be deleted without touching the mirror.
        if (Files.isRegularFile(target)) {
            return target;
        }
        Path from = Path.of(url);
        Path part = target.resolveSibling(target.getFileName() + ".part");
        try {
            Files.createDirectories(target.getParent());
            Files.copy(from, part, StandardCopyOption.REPLACE_EXISTING);
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            deleteQuietly(part);
            throw CorezfsException.precondition("cannot copy " + from + " to " + target + ": " + e.getMessage());
        }
    }

    private static void requireVersion(ZfsTarball t, ZfsVersion version) {
        if (!t.meta().version().equals(version.text())) {
            throw CorezfsException.verification(t.file() + " should be OpenZFS " + version + ", but its META says "
                    + t.meta().version());
        }
    }

    private static void requireInsecure(Request request, String why) {
        if (!request.insecureSource()) {
            throw CorezfsException.verification(why + ". Pass --insecure-source to build from it unverified");
        }
    }

    private static Path localFile(String given, Path file) {
        if (!Files.isRegularFile(file)) {
            throw CorezfsException.precondition("--zfs-source " + given + ": no such file");
        }
        return file;
    }

    private static Path pathOf(String given) {
        try {
            return Path.of(given);
        } catch (InvalidPathException e) {
            throw CorezfsException.precondition("--zfs-source " + given + ": " + e.getMessage());
        }
    }

    private static Path fileUrlPath(String given, URI url) {
        try {
            return Path.of(url);
        } catch (IllegalArgumentException e) {
            throw CorezfsException.precondition("--zfs-source " + given + ": not a local file URL (file:///path)");
        }
    }

    private static URI uri(String given) {
        try {
            return URI.create(given);
        } catch (IllegalArgumentException e) {
            throw CorezfsException.precondition("--zfs-source " + given + ": not a valid URL");
        }
    }

    /** The URL's last path segment, refused if it could climb out of the cache folder. */
    private static String fileName(URI url) {
        String path = url.getPath() == null ? "" : url.getPath();
        String name = path.substring(path.lastIndexOf('/') + 1);
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.contains("\\")) {
            throw CorezfsException.precondition("--zfs-source " + url + ": the URL does not end in a file name");
        }
        return name;
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: the message already says what went wrong
        }
    }
}
