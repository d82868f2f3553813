package io.corezfs.fleet;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.host.HostDetector;
import io.corezfs.host.HostFacts;
import io.corezfs.system.ProcessRequest;
import io.corezfs.system.ProcessResult;
import io.corezfs.trust.Hashes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One node over an open session: its facts, pushes into its files, and corezfs commands run there with
 * {@code sudo -n}. Every failure is a {@link CorezfsException} whose message is the one line the report shows.
 */
final class RemoteNode {
    /**
     * A shell function, {@code sum FILE}: the file's sha256 in hex. openssl's, where the node has it (Flatcar does),
     * since it uses the CPU's SHA instructions: 0.07 s for 68 MiB against 0.21–0.37 s for coreutils' sha256sum, which
     * is on the path of every push and of every look at an archive already there (BENCHMARKS.md, "Fleet rollout over
     * SSH"). Anything from openssl that is not 64 hex digits, or its absence, falls back to sha256sum.
     */
    static final String SUM = String.join(
            "\n",
            "sum() {",
            "  h=$(openssl dgst -sha256 -r < \"$1\" 2>/dev/null) && h=${h%% *} || h=",
            "  case $h in *[!0-9a-f]*|'') ;; *) if [ ${#h} -eq 64 ]; then echo \"$h\"; return 0; fi ;; esac",
            "  sha256sum < \"$1\" | cut -c1-64",
            "}");

    /**
     * {@code probe DIR NAME}: the final file's sha256 and the partial file's size and sha256, when they exist. One
     * answer line each: {@code final HEX}, {@code partial SIZE HEX}.
     */
    static final String PROBE = String.join(
            "\n",
            SUM,
            "f=\"$1/$2\"; p=\"$1/.$2.partial\"",
            "if [ -f \"$f\" ]; then printf 'final %s\\n' \"$(sum \"$f\")\"; fi",
            "if [ -f \"$p\" ]; then printf 'partial %s %s\\n' \"$(wc -c < \"$p\")\" \"$(sum \"$p\")\"; fi",
            "exit 0");

    /** {@code append DIR NAME MODE}: stdin goes to the end of the partial file ({@code MODE} new: from empty). */
    static final String APPEND = String.join(
            "\n",
            "mkdir -p \"$1\" || exit 1",
            "p=\"$1/.$2.partial\"",
            "if [ \"$3\" = new ]; then cat > \"$p\"; else cat >> \"$p\"; fi");

    /** {@code commit DIR NAME SHA256}: the partial becomes the file only if its bytes are the ones sent. */
    static final String COMMIT = String.join(
            "\n",
            SUM,
            "f=\"$1/$2\"; p=\"$1/.$2.partial\"",
            "a=$(sum \"$p\") || exit 1",
            "if [ \"$a\" != \"$3\" ]; then rm -f \"$p\"; echo \"sha256 $a\" >&2; exit 5; fi",
            "sync \"$p\" 2>/dev/null || sync",
            "mv -f \"$p\" \"$f\"");

    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern FINAL = Pattern.compile("final ([0-9a-f]{64})");
    private static final Pattern PARTIAL = Pattern.compile("partial ([0-9]{1,19}) ([0-9a-f]{64})");

    /** What a push did: bytes sent, and whether the file was already there whole. */
    record Pushed(String remotePath, long sent, boolean alreadyThere, long resumedFrom) {}

    private final Ssh.Session session;
    private final SshTarget target;
    private final Duration commandTimeout;

    RemoteNode(Ssh.Session session, SshTarget target, Duration commandTimeout) {
        this.session = session;
        this.target = target;
        this.commandTimeout = commandTimeout;
    }

    String name() {
        return target.name();
    }

    long bytesSent() {
        return session.bytesSent();
    }

    /** The node's facts, by the same detector as a local {@code status}; also whether {@code tool} is there. */
    Detected detect(HostDetector detector, String root, String tool) {
        ProcessResult r = session.run(ProcessRequest.of(RemoteFiles.command(root, tool))
                .timeout(commandTimeout)
                .caps(4 << 20, 8 << 10));
        if (!r.ok()) {
            throw new CorezfsException(
                    ExitCode.PRECONDITION, target.name() + ": cannot read its host files: " + oneLine(r));
        }
        RemoteFiles files = RemoteFiles.parse(target.name(), root, r.stdout().getBytes(StandardCharsets.ISO_8859_1));
        HostFacts facts = detector.detect(files, Optional.empty());
        return new Detected(facts, files.toolPresent());
    }

    record Detected(HostFacts facts, boolean toolPresent) {}

    /**
     * Runs {@code argv} as root ({@code sudo -n} unless the login is root). A sudo that wants a password fails at
     * once, and says so.
     */
    ProcessResult sudo(List<String> argv, Duration timeout) {
        ProcessResult r = session.run(ProcessRequest.of(privileged(argv)).timeout(timeout));
        checkSudo(r);
        return r;
    }

    private List<String> privileged(List<String> argv) {
        if (target.user().equals("root")) {
            return argv;
        }
        List<String> out = new ArrayList<>(List.of("sudo", "-n"));
        out.addAll(argv);
        return out;
    }

    private void checkSudo(ProcessResult r) {
        String err = r.stderrTail();
        if (!target.user().equals("root")
                && r.exitCode() == 1
                && (err.contains("a password is required") || err.contains("a terminal is required"))) {
            throw new CorezfsException(
                    ExitCode.PRECONDITION,
                    target.name() + ": sudo wants a password for " + target.user()
                            + "; fleet runs remote commands with sudo -n. Give " + target.user()
                            + " passwordless sudo (NOPASSWD), or connect as root");
        }
    }

    /**
     * Puts {@code local} at {@code dir/name} on the node: what is already there of a cut transfer is kept if its bytes
     * are the file's, only the rest is sent, the whole is checked against the file's sha256 on the node, and only then
     * renamed into place. A file already there whole is not sent again.
     */
    Pushed push(Path local, String dir, String name, String sha256) {
        return push(local, dir, name, () -> sha256);
    }

    /**
     * As {@link #push(Path, String, String, String)}, the sha256 asked for only when it is needed: at once when the
     * node has some of the file, else once the bytes are sent. The admin machine hashes while it sends.
     */
    Pushed push(Path local, String dir, String name, java.util.function.Supplier<String> sha256Of) {
        java.util.function.Supplier<String> checked = () -> {
            String sha256 = sha256Of.get();
            if (!HEX.matcher(sha256).matches()) {
                throw new IllegalArgumentException("not a sha256: " + sha256);
            }
            return sha256;
        };
        String remote = dir + "/" + name;
        ProcessResult probe = sudo(List.of("sh", "-c", PROBE, "sh", dir, name), commandTimeout);
        if (!probe.ok()) {
            throw new CorezfsException(
                    ExitCode.PRECONDITION, target.name() + ": cannot look at " + remote + ": " + oneLine(probe));
        }
        long size;
        try {
            size = Files.size(local);
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot read " + local + ": " + e.getMessage());
        }
        long have = 0;
        for (String l : probe.stdout().split("\n")) {
            if (l.isEmpty()) {
                continue;
            }
            Matcher f = FINAL.matcher(l);
            Matcher p = PARTIAL.matcher(l);
            if (f.matches()) {
                if (f.group(1).equals(checked.get())) {
                    return new Pushed(remote, 0, true, 0);
                }
            } else if (p.matches()) {
                long n = Long.parseLong(p.group(1));
                if (n <= size && prefixSha256(local, n).equals(p.group(2))) {
                    have = n;
                }
            } else {
                throw new CorezfsException(
                        ExitCode.PRECONDITION,
                        target.name() + ": unexpected answer looking at " + remote + ": '"
                                + io.corezfs.Text.printable(l, 80) + "'");
            }
        }
        long before = session.bytesSent();
        if (have < size || size == 0) {
            try (InputStream in = Files.newInputStream(local)) {
                in.skipNBytes(have);
                ProcessResult a = session.run(
                        ProcessRequest.of(privileged(
                                        List.of("sh", "-c", APPEND, "sh", dir, name, have == 0 ? "new" : "append")))
                                .timeout(commandTimeout),
                        Optional.of(in));
                checkSudo(a);
                if (!a.ok()) {
                    throw new CorezfsException(
                            ExitCode.PRECONDITION,
                            target.name() + ": sending " + name + " failed after "
                                    + (session.bytesSent() - before) + " bytes: " + oneLine(a)
                                    + "; --resume continues from what arrived");
                }
            } catch (IOException e) {
                throw CorezfsException.precondition("cannot read " + local + ": " + e.getMessage());
            }
        }
        String sha256 = checked.get();
        ProcessResult c = sudo(List.of("sh", "-c", COMMIT, "sh", dir, name, sha256), commandTimeout);
        if (!c.ok()) {
            throw new CorezfsException(
                    c.exitCode() == 5 ? ExitCode.VERIFICATION_FAILED : ExitCode.PRECONDITION,
                    target.name() + ": " + remote + " did not arrive intact (" + c.stderrLastLine()
                            + ", expected sha256 " + sha256 + "); the partial copy was removed");
        }
        return new Pushed(remote, session.bytesSent() - before, false, have);
    }

    static String prefixSha256(Path file, long n) {
        MessageDigest d = Hashes.newSha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            long left = n;
            while (left > 0) {
                int r = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (r < 0) {
                    break;
                }
                d.update(buf, 0, r);
                left -= r;
            }
        } catch (IOException e) {
            throw CorezfsException.precondition("cannot read " + file + ": " + e.getMessage());
        }
        return HexFormat.of().formatHex(d.digest());
    }

    /** How a remote command ended, without its (long, scripted) command line. */
    static String oneLine(ProcessResult r) {
        String how = switch (r.outcome()) {
            case EXITED -> "exit " + r.exitCode();
            case TIMED_OUT -> "no answer within " + r.duration().toSeconds() + " s (command timeout)";
            case NOT_STARTED -> "could not start";
            case INTERRUPTED -> "interrupted";
        };
        String last = r.stderrLastLine();
        return how + (last.isEmpty() ? "" : ": " + io.corezfs.Text.printable(last, 200));
    }
}
