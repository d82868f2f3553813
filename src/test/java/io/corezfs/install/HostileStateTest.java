package io.corezfs.install;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corezfs.testing.Cli;
import io.corezfs.testing.HostRoots;
import io.corezfs.testing.TarBuilder;
import io.corezfs.testing.TreeSnapshot;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The install state in {@code /opt/corezfs/.corezfs/state.json} and the directories an install shipped into are
 * as untrusted as an archive: whatever they say, uninstall and the next upgrade never remove anything outside the
 * root, never act through a symlinked directory, and a bad state is refused (exit 4) with nothing changed.
 */
class HostileStateTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    Path world;
    Path root;
    Path state;

    @BeforeEach
    void installedRootBesideOtherFiles() throws IOException {
        world = tmp.resolve("world");
        root = HostRoots.flatcar(world.resolve("root"))
                .file("/etc/hostname", "node-1\n")
                .root();
        HostRoots.at(world.resolve("beside"))
                .file("/secret", "do not touch\n")
                .file("/zfs.conf", "zfs\n")
                .symlink("/link", "/etc/systemd/system/zfs-overlay.service");
        Files.createDirectories(world.resolve("beside/empty"));
        Path a = TarBuilder.typicalTree().writeTo(tmp.resolve("a.tar.gz"));
        Cli.Run r = new Cli(tmp).run("install", "--archive", a.toString(), "--root", root.toString());
        assertEquals(0, r.exitCode(), r::toString);
        state = root.resolve("opt/corezfs/.corezfs/state.json");
    }

    static Stream<Arguments> tampered() {
        return Stream.of(
                edit("a file entry climbing out of the root", s -> entries(s).add(file("etc/../../beside/zfs.conf"))),
                edit("an absolute file entry", s -> entries(s).add(file("/beside/zfs.conf"))),
                edit("a file entry outside etc and opt/corezfs", s -> entries(s).add(file("usr/zfs.conf"))),
                edit("a non-canonical entry", s -> entries(s).add(file("etc//zfs.conf"))),
                edit(
                        "a link climbing out of the root",
                        s -> links(s).addObject()
                                .put("path", "etc/../../beside/link")
                                .put("target", "/etc/systemd/system/zfs-overlay.service")),
                edit(
                        "an absolute link path",
                        s -> links(s).addObject()
                                .put("path", "/beside/link")
                                .put("target", "/etc/systemd/system/zfs-overlay.service")),
                edit("a created directory climbing out", s -> dirs(s).add("etc/../../beside/empty")),
                edit("a created directory outside etc and opt", s -> dirs(s).add("usr")),
                edit("a duplicate entry", s -> entries(s).add(entries(s).get(1).deepCopy())),
                edit("a duplicate link", s -> links(s).add(links(s).get(0).deepCopy())),
                edit(
                        "a duplicate created directory",
                        s -> dirs(s).add("etc/zfs").add("etc/zfs")),
                edit("a null manifest", s -> s.putNull("manifest")),
                edit("a null entry", s -> entries(s).addNull()),
                edit("a null link", s -> links(s).addNull()),
                edit("a null path", s -> ((ObjectNode) entries(s).get(1)).putNull("path")),
                edit("entries of the wrong type", s -> ((ObjectNode) s.get("manifest")).put("entries", "all of them")),
                edit("a size of the wrong type", s -> ((ObjectNode) entries(s).get(1)).put("size", "big")),
                edit("an unknown entry type", s -> ((ObjectNode) entries(s).get(1)).put("type", "device")),
                edit("a mode that is not octal", s -> ((ObjectNode) entries(s).get(1)).put("mode", "rwx")),
                edit("no manifest hash", s -> s.remove("manifestSha256")));
    }

    private static Arguments edit(String name, Consumer<ObjectNode> e) {
        return Arguments.of(name, e);
    }

    private static ArrayNode entries(ObjectNode s) {
        return (ArrayNode) s.get("manifest").get("entries");
    }

    private static ArrayNode links(ObjectNode s) {
        return (ArrayNode) s.get("links");
    }

    private static ArrayNode dirs(ObjectNode s) {
        return (ArrayNode) s.get("createdDirs");
    }

    /** An entry that matches {@code beside/zfs.conf}, so a trusting uninstall would think it is ours and delete it. */
    private static ObjectNode file(String path) {
        return JSON.createObjectNode()
                .put("path", path)
                .put("type", "file")
                .put("mode", "0644")
                .put("size", 4)
                .put("sha256", TarBuilder.sha256("zfs\n".getBytes()));
    }

    @ParameterizedTest(name = "uninstall refuses {0}")
    @MethodSource("tampered")
    void uninstallRefusesATamperedState(String name, Consumer<ObjectNode> tamper) throws IOException {
        rewriteState(tamper);
        assertRefused(4, "uninstall", "--root", root.toString());
    }

    @ParameterizedTest(name = "an upgrade refuses {0}")
    @MethodSource("tampered")
    void anUpgradeRefusesATamperedState(String name, Consumer<ObjectNode> tamper) throws IOException {
        rewriteState(tamper);
        Path b = TarBuilder.typicalTree().zfs("2.1.12").writeTo(tmp.resolve("b.tar.gz"));
        assertRefused(4, "install", "--archive", b.toString(), "--root", root.toString());
    }

    @ParameterizedTest(name = "state: {0}")
    @ValueSource(strings = {"{not json", "[]", "null", "42", "{\"archive\": \"a\", \"archive\": \"b\"}", "", "{} {}"})
    void malformedStateIsRefused(String text) throws IOException {
        Files.writeString(state, text);
        assertRefused(4, "uninstall", "--root", root.toString());
        Path b = TarBuilder.typicalTree().zfs("2.1.12").writeTo(tmp.resolve("b.tar.gz"));
        assertRefused(4, "install", "--archive", b.toString(), "--root", root.toString());
    }

    @ParameterizedTest(name = "a state that is {0}")
    @ValueSource(strings = {"huge", "a directory", "a symlink"})
    void aStateThatIsNotASmallFileIsRefused(String what) throws IOException {
        Files.delete(state);
        switch (what) {
            case "huge" -> {
                try (RandomAccessFile f = new RandomAccessFile(state.toFile(), "rw")) {
                    f.setLength(InstallState.MAX_BYTES + 1);
                }
            }
            case "a directory" -> Files.createDirectory(state);
            default -> Files.createSymbolicLink(state, world.resolve("beside/secret"));
        }
        assertRefused(4, "uninstall", "--root", root.toString());
    }

    @ParameterizedTest(name = "{0} as a symlink out of the root")
    @ValueSource(strings = {"etc/modules-load.d", "etc/zfs", "etc/systemd/system", "etc/systemd", "opt", "opt/corezfs"})
    void uninstallNeverRemovesThroughASymlinkedDirectory(String dir) throws IOException {
        Path inRoot = root.resolve(dir);
        Path outside = world.resolve("beside/moved-" + dir.replace('/', '-'));
        Files.move(inRoot, outside);
        Files.createSymbolicLink(inRoot, outside);
        Cli.Run r = assertRefused(3, "uninstall", "--root", root.toString());
        assertTrue(r.err().contains(inRoot.toString()), () -> "names the symlink: " + r);
    }

    private void rewriteState(Consumer<ObjectNode> tamper) throws IOException {
        ObjectNode s = (ObjectNode) JSON.readTree(state.toFile());
        tamper.accept(s);
        JSON.writeValue(state.toFile(), s);
    }

    private Cli.Run assertRefused(int code, String... args) {
        Map<String, String> before = TreeSnapshot.of(world);
        Cli.Run r = new Cli(tmp).run(args);
        assertEquals(code, r.exitCode(), r::toString);
        assertEquals(1, r.err().strip().lines().count(), () -> "one line: " + r);
        assertEquals(before, TreeSnapshot.of(world), "nothing in the root or beside it changed");
        return r;
    }
}
