package io.corezfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.testing.Cli;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.TarBuilder;
import io.corezfs.testing.TreeSnapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every option that takes a path, a name or a number is checked before anything runs: a bad value is exit 2 and one
 * line naming the option, whichever command it is given to.
 */
class OptionValidationTest {
    @TempDir
    Path tmp;

    Path root;
    Path tree;

    @BeforeEach
    void hostAndTree() throws IOException {
        root = HostRoots.flatcar(tmp.resolve("root")).root();
        tree = Files.createDirectories(tmp.resolve("tree"));
        Files.createDirectories(tree.resolve("etc/zfs"));
        Files.writeString(tree.resolve("etc/zfs/zed.rc"), "# zed\n");
        Files.createDirectories(tree.resolve("opt/corezfs/usr/sbin"));
        Files.writeString(tree.resolve("opt/corezfs/usr/sbin/zfs"), "#!/bin/sh\n");
    }

    private Cli.Run run(String... args) {
        return assertTimeoutPreemptively(Duration.ofSeconds(30), () -> new Cli(tmp).run(args));
    }

    private static void usage(Cli.Run r, String option) {
        assertEquals(2, r.exitCode(), r::toString);
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r);
        assertTrue(r.err().contains(option), "names " + option + ": " + r);
        assertFalse(r.err().contains("Exception"), r::toString);
    }

    /** The same option on every command that has it. */
    private void everywhere(String option, String value) {
        List<List<String>> commands = List.of(
                List.of("status", "--root", root.toString()),
                List.of("archive", "list", "--root", root.toString()),
                List.of(
                        "archive",
                        "pack",
                        tree.toString(),
                        "--zfs-version",
                        "2.1.11",
                        "--root",
                        root.toString(),
                        "-o",
                        tmp.resolve("out.tar.gz").toString()),
                List.of("install", "--root", root.toString(), "--no-build", "--dry-run"),
                List.of("build", "--root", root.toString()));
        for (List<String> c : commands) {
            List<String> args = new ArrayList<>(c);
            int i = args.indexOf(option);
            if (i >= 0) {
                args.set(i + 1, value);
            } else {
                args.add(option);
                args.add(value);
            }
            usage(run(args.toArray(String[]::new)), option);
        }
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "6.1.0-55-cloud-amd64-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                "6.1/../../x",
                "6.1 x",
                "6.1\n",
                "",
                ".6.1",
                "6.1;reboot",
                "ü6"
            })
    void aKernelReleaseIsShortAndPlain(String kernel) {
        everywhere("--kernel", kernel);
    }

    @Test
    void aKernelReleaseOfSixtyFourCharactersIsAccepted() {
        Cli.Run r = run("status", "--root", root.toString(), "--kernel", "6".repeat(64));
        assertEquals(0, r.exitCode(), r::toString);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "nope", "FILE"})
    void theRootMustBeAnExistingDirectory(String value) throws IOException {
        Files.writeString(tmp.resolve("FILE"), "x");
        everywhere("--root", value.equals("FILE") ? tmp.resolve("FILE").toString() : value);
        usage(
                run(
                        "uninstall",
                        "--root",
                        value.equals("FILE") ? tmp.resolve("FILE").toString() : value),
                "--root");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "0", "abc", "1025", "99999999999", "1.5", ""})
    void jobsIsAPositiveNumberOfSaneSize(String jobs) {
        usage(run("build", "--root", root.toString(), "--jobs", jobs), "--jobs");
        usage(run("install", "--root", root.toString(), "--no-build", "--jobs", jobs), "--jobs");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "--header-timeout=0",
                "--header-timeout=-1s",
                "--stall-timeout=abc",
                "--stall-timeout=8d",
                "--min-rate=-1",
                "--min-rate=1X",
                "--download-deadline=",
                "--deadline-rate=0",
                "--max-download-size=2T",
                "--max-redirects=-1",
                "--max-redirects=21",
                "--max-index-size=lots",
                "--max-index-size=0",
                "--max-download-size=0K"
            })
    void downloadLimitsAreCheckedNumbers(String option) {
        usage(
                run("install", "--root", root.toString(), "--no-build", option),
                option.substring(0, option.indexOf('=')));
        // Before anything else: a live install as non-root would otherwise fail its root check first.
        usage(run("install", option), option.substring(0, option.indexOf('=')));
    }

    @ParameterizedTest
    @ValueSource(strings = {"--board=../x", "--channel=Stable Channel", "--os=", "--zfs-version=../2.1"})
    void namesAreTokens(String option) {
        usage(
                run("build", "--os-version", "3975.2.0", "--kernel", "6.1.0", option),
                option.substring(0, option.indexOf('=')));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "--release-mirror=ftp://x/",
                "--zfs-mirror=mirror.local/zfs",
                "--zfs-mirror=http:///x",
                "--release-mirror=file:relative"
            })
    void buildMirrorsAreUrls(String option) {
        usage(run("build", "--root", root.toString(), option), option.substring(0, option.indexOf('=')));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "--dev-image=",
                "--dev-image=img name",
                "--dev-image=-rm",
                "--dev-image=a\nb",
                "--zfs-source=",
                "--zfs-source=missing.tar.gz",
                "--zfs-source=FIFO",
                "--zfs-source=http://x/a\nb"
            })
    void buildSourcesAreCheckedUpFront(String option) throws Exception {
        Path fifo = tmp.resolve("src.fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        String name = option.substring(0, option.indexOf('='));
        String value = option.substring(option.indexOf('=') + 1).replace("FIFO", fifo.toString());
        usage(run("build", "--root", root.toString(), name, value), name);
        usage(run("install", name, value), name);
    }

    @Test
    void aMirrorOnPortZeroIsAUsageError() {
        usage(run("install", "--mirror", "http://127.0.0.1:0/"), "--mirror");
    }

    @Test
    void pathsThatMustBeRegularFilesAreCheckedBeforeTheyAreOpened() throws Exception {
        Path fifo = tmp.resolve("fifo.tar.gz");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        usage(run("archive", "verify", fifo.toString()), "FILE");
        usage(run("archive", "verify", tmp.toString()), "FILE");
        usage(run("archive", "verify", tmp.resolve("missing.tar.gz").toString()), "FILE");
        usage(run("archive", "verify", ""), "FILE");
        usage(run("install", "--root", root.toString(), "--archive", fifo.toString()), "--archive");
        usage(run("build", "--root", root.toString(), "--keyring", fifo.toString()), "--keyring");
        usage(run("publish", tmp.resolve("missing").toString()), "DIR");
        usage(run("archive", "pack", fifo.toString(), "--zfs-version", "2.1.11", "--root", root.toString()), "TREE");
    }

    @Test
    void anEmptyPathIsNeverTheCurrentDirectory() {
        usage(run("archive", "list", "--root", root.toString(), "--archive-dir", ""), "--archive-dir");
        usage(
                run("archive", "pack", tree.toString(), "--zfs-version", "2.1.11", "--root", root.toString(), "-o", ""),
                "--output");
        usage(run("install", "--root", root.toString(), "--archive-dir", "", "--no-build"), "--archive-dir");
        usage(run("build", "--root", root.toString(), "--cache-dir", ""), "--cache-dir");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "-o=TREE/x.tar.gz",
                "-o=TREE/etc/new/../x.tar.gz",
                "-o=TREE/../tree/x.tar.gz",
                "-o=LINK/x.tar.gz",
                "-o=FILELINK",
                "-o=DANGLING",
                "--archive-dir=TREE/archives",
                "--archive-dir=LINK",
                "-o=TREE"
            })
    void packNeverWritesIntoTheTreeItPacks(String option) throws IOException {
        Files.createSymbolicLink(tmp.resolve("link"), tree);
        Files.createSymbolicLink(tmp.resolve("filelink"), tree.resolve("etc/zfs/zed.rc"));
        Files.createSymbolicLink(tmp.resolve("dangling"), tree.resolve("etc/zfs/new.tar.gz"));
        String value = option.substring(option.indexOf('=') + 1)
                .replace("TREE", tree.toString())
                .replace("FILELINK", tmp.resolve("filelink").toString())
                .replace("DANGLING", tmp.resolve("dangling").toString())
                .replace("LINK", tmp.resolve("link").toString());
        String name = option.substring(0, option.indexOf('='));
        Map<String, String> before = TreeSnapshot.of(tree);
        Cli.Run r = run(
                "archive", "pack", tree.toString(), "--zfs-version", "2.1.11", "--root", root.toString(), name, value);
        usage(r, "inside the tree");
        assertEquals(before, TreeSnapshot.of(tree), "the tree is untouched");
    }

    @Test
    void packBesideTheTreeStillWorks() {
        Cli.Run r = run(
                "archive",
                "pack",
                tree.toString(),
                "--zfs-version",
                "2.1.11",
                "--root",
                root.toString(),
                "-o",
                tree.resolveSibling("tree.tar.gz").toString());
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(Files.isRegularFile(tmp.resolve("tree.tar.gz")));
    }

    @Test
    void aTypicalArchiveStillVerifies() {
        Path a = TarBuilder.typicalTree().writeTo(tmp.resolve("corezfs_amd64-usr_3975.2.0_stable_zfs-2.1.11.tar.gz"));
        Cli.Run r = run("archive", "verify", a.toString());
        assertEquals(0, r.exitCode(), r::toString);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "a\u0000b"})
    void anArchiveStoreFromTheEnvironmentIsCheckedLikeAnOption(String value) {
        Cli.Run r = assertTimeoutPreemptively(
                Duration.ofSeconds(30),
                () -> new Cli(tmp).env("COREZFS_ARCHIVE_DIR", value).run("archive", "list", "--root", root.toString()));
        usage(r, "COREZFS_ARCHIVE_DIR");
    }

    @Test
    void aRelativeArchiveStoreFromTheEnvironmentIsUnderTheWorkingDirectory() {
        Cli.Run r = new Cli(tmp).env("COREZFS_ARCHIVE_DIR", "store").run("archive", "list", "--root", root.toString());
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("store " + tmp.resolve("store")), r::toString);
    }
}
