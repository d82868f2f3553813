package io.corezfs.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ~/.ssh/config read by OpenSSH's rules: Include, tokens, lower-case matching, Match all. */
class SshConfigTest {
    @TempDir
    Path home;

    private Path write(String name, String text) throws IOException {
        Path f = home.resolve(".ssh").resolve(name);
        Files.createDirectories(f.getParent());
        Files.writeString(f, text);
        return f;
    }

    private SshTarget target(String node, String config) throws IOException {
        Path f = write("config", config);
        SshConfig c = SshConfig.parse(f, config, home.resolve(".ssh"), SshConfig.files());
        return Inventory.resolve(
                Inventory.address(node, "HOST 1"),
                c,
                Optional.empty(),
                new Inventory.Local(home, home.resolve("work"), name -> Optional.empty()));
    }

    private String usage(org.junit.jupiter.api.function.Executable e) {
        return InventoryTest.usage(() -> {
            try {
                e.execute();
            } catch (RuntimeException r) {
                throw r;
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        });
    }

    @Test
    void includedFilesAreReadInPlaceInLexicalOrderAndAMissingOneAddsNothing() throws IOException {
        write("config.d/20-zfs", "Host zfs*\n  User second\n  Port 2202\n");
        write("config.d/10-zfs", "Host zfs*\n  User first\n");
        write("config.d/.hidden", "Host *\n  User hidden\n");
        write("extra", "Host zfs1\n  HostName 10.0.0.11\n");
        SshTarget t = target("zfs1", "Include config.d/*\nInclude ~/.ssh/extra ~/.ssh/none/*\nHost *\n  User last\n");
        assertEquals("first@10.0.0.11:2202", t.address(), "first value obtained wins across the included files");
        assertEquals(
                "last@web1",
                target("web1", "Include config.d/*\nHost *\n  User last\n").address());
    }

    @Test
    void anIncludeInsideAHostBlockAppliesOnlyToThatBlocksHosts() throws IOException {
        write("zfs.conf", "User zfsadmin\nHost *\n  IdentityFile ~/.ssh/from_include\n");
        String config = "Host zfs*\n  Include zfs.conf\n  Port 2200\nHost *\n  User other\n";
        SshTarget zfs = target("zfs1", config);
        assertEquals("zfsadmin@zfs1:2200", zfs.address(), "the block's lines after the Include still apply");
        assertEquals(List.of(home.resolve(".ssh/from_include")), zfs.identities());
        SshTarget web = target("web1", config);
        assertEquals("other@web1", web.address());
        assertEquals(List.of(), web.identities(), "the included Host * is inside Host zfs*");
    }

    @Test
    void anIncludeLoopIsRefusedNamingTheLine() throws IOException {
        write("loop", "Include loop\n");
        String m = usage(() -> target("zfs1", "Include loop\n"));
        assertTrue(m.endsWith("Include nested more than 16 deep (does a file include itself?)"), m);
        assertTrue(m.startsWith(home.resolve(".ssh/loop") + ":1: "), m);
    }

    @Test
    void hostNameAndIdentityFileTokensAreExpandedAndUnknownOnesRefused() throws IOException {
        SshTarget t = target(
                "ops@zfs1:2201",
                "Host zfs*\n  HostName %h.storage.example\n  IdentityFile %d/keys/%n-%r-%p\n"
                        + "  IdentityFile ~/.ssh/%h_%%\n");
        assertEquals("zfs1.storage.example", t.host());
        assertEquals(
                List.of(home.resolve("keys/zfs1-ops-2201"), home.resolve(".ssh/zfs1.storage.example_%")),
                t.identities());
        String m = usage(() -> target("zfs1", "Host zfs1\n  IdentityFile ~/.ssh/%C\n"));
        assertTrue(m.contains("config:2: IdentityFile token %C is not supported"), m);
        String h = usage(() -> target("zfs1", "Host zfs1\n  HostName %r.example\n"));
        assertTrue(h.contains("config:2: HostName token %r is not supported"), h);
        String lone = usage(() -> target("zfs1", "Host zfs1\n  HostName zfs%\n"));
        assertTrue(lone.contains("config:2: HostName ends in a lone '%'"), lone);
    }

    @Test
    void theNameIsMatchedInLowerCaseAndMatchAllAppliesToEveryHost() throws IOException {
        String config = "Host zfs1\n  Port 2201\nMatch exec true\n  User skipped\nMatch all\n  User everyone\n";
        assertEquals("everyone@ZFS1:2201", target("ZFS1", config).address());
        assertEquals("everyone@web", target("web", config).address());
    }
}
