package io.corezfs.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Inventories: plain lines, Ansible INI and YAML, and ~/.ssh/config, each held to one set of rules. */
class InventoryTest {
    static final Path HOME = Path.of("/home/op");

    static List<SshTarget> targets(String file, String text, String group, String sshConfig) {
        SshConfig c = sshConfig == null ? SshConfig.EMPTY : SshConfig.parse(Path.of("config"), sshConfig);
        return Inventory.parse(Path.of(file), text, Optional.ofNullable(group)).stream()
                .map(d -> Inventory.resolve(d, c, Optional.empty(), HOME))
                .toList();
    }

    static String usage(Runnable r) {
        CorezfsException e = assertThrows(CorezfsException.class, r::run);
        assertEquals(ExitCode.USAGE, e.exitCode());
        return e.getMessage();
    }

    @Test
    void plainLinesAreUserAtHostColonPortWithCommentsAndTheDefaultUserIsCore() {
        List<SshTarget> t = targets(
                "hosts.txt", "# storage nodes\nnode1\nadmin@node2:2222  # the odd one\n\n[::1]:22\n", null, null);
        assertEquals(3, t.size());
        assertEquals("core@node1", t.get(0).address());
        assertEquals("admin@node2:2222", t.get(1).address());
        assertEquals("::1", t.get(2).host());
    }

    @Test
    void aBadLineNamesTheFileAndLine() {
        String m = usage(() -> targets("hosts.txt", "node1\nnode 2\n", null, null));
        assertEquals("hosts.txt:2: not [user@]host[:port]: 'node 2'", m);
        assertTrue(
                usage(() -> targets("hosts.txt", "node1:99999\n", null, null)).startsWith("hosts.txt:1: port"));
        assertTrue(
                usage(() -> targets("hosts.txt", "node1\nnode1\n", null, null)).contains("listed twice"));
        assertTrue(usage(() -> targets("hosts.txt", "# nothing\n", null, null)).contains("no hosts"));
    }

    @Test
    void anAnsibleIniInventoryGivesHostsVarsChildrenAndGroups() {
        String ini = String.join(
                "\n",
                "[storage]",
                "zfs1 ansible_host=10.0.0.11",
                "zfs2 ansible_host=10.0.0.12 ansible_port=2222 ansible_user=ops",
                "",
                "[storage:vars]",
                "ansible_user=admin",
                "",
                "[web]",
                "web1",
                "",
                "[all_nodes:children]",
                "storage",
                "web",
                "");
        List<SshTarget> storage = targets("inventory.ini", ini, "storage", null);
        assertEquals(
                List.of("admin@10.0.0.11", "ops@10.0.0.12:2222"),
                storage.stream().map(SshTarget::address).toList());
        assertEquals("zfs1", storage.get(0).name());
        assertEquals(3, targets("inventory.ini", ini, "all_nodes", null).size());
        assertEquals(3, targets("inventory.ini", ini, null, null).size());
        assertTrue(usage(() -> targets("inventory.ini", ini, "db", null)).startsWith("inventory.ini: no group 'db'"));
    }

    @Test
    void iniErrorsNameFileAndLine() {
        assertEquals(
                "inv.ini:2: not key=value: 'ansible_port'",
                usage(() -> targets("inv.ini", "[a]\nzfs1 ansible_port\n", null, null)));
        assertTrue(usage(() -> targets("inv.ini", "[a]\nzfs[01:10] x=1\n", null, null))
                .contains("host ranges"));
        assertTrue(usage(() -> targets("inv.ini", "[a]\nzfs1 ansible_port=0\n", null, null))
                .startsWith("inv.ini:2: port"));
        assertTrue(usage(() -> targets("inv.ini", "[a b]\nzfs1\n", null, null)).startsWith("inv.ini:1:"));
    }

    @Test
    void anAnsibleYamlInventoryGivesTheSame() {
        String yaml = String.join(
                "\n",
                "all:",
                "  vars:",
                "    ansible_user: admin",
                "  children:",
                "    storage:",
                "      hosts:",
                "        zfs1:",
                "          ansible_host: 10.0.0.11",
                "        zfs2:",
                "          ansible_host: 10.0.0.12",
                "          ansible_port: 2222",
                "          ansible_user: ops",
                "    web:",
                "      hosts:",
                "        web1:",
                "");
        List<SshTarget> storage = targets("inventory.yml", yaml, "storage", null);
        assertEquals(
                List.of("core@10.0.0.11", "ops@10.0.0.12:2222"),
                storage.stream().map(SshTarget::address).toList());
        List<SshTarget> all = targets("inventory.yml", yaml, "all", null);
        assertEquals(
                List.of("admin@10.0.0.11", "ops@10.0.0.12:2222", "admin@web1"),
                all.stream().map(SshTarget::address).toList());
    }

    @Test
    void yamlErrorsNameFileAndLine() {
        String m = usage(() -> targets("inv.yml", "all:\n  hosts:\n    zfs1:\n      ansible_port: x\n", null, null));
        assertTrue(m.startsWith("inv.yml:3: port is not 1-65535"), m);
        assertTrue(usage(() -> targets("inv.yml", "all:\n  hostz:\n    zfs1:\n", null, null))
                .startsWith("inv.yml:2: 'hostz'"));
        assertTrue(usage(() -> targets("inv.yml", "all:\n  hosts: [a, b\n", null, null))
                .startsWith("inv.yml:2: expected"));
        assertTrue(usage(() -> targets("inv.yml", "all:\n  hosts:\n    a: {b: [\n", null, null))
                .startsWith("inv.yml: not valid YAML"));
    }

    @Test
    void sshConfigFillsWhatTheInventoryLeavesOutAndTheInventoryWins() {
        String config = String.join(
                "\n",
                "Host zfs*",
                "    HostName 192.0.2.10",
                "    User ops",
                "    Port 2200",
                "    IdentityFile ~/.ssh/fleet_ed25519",
                "Match exec \"true\"",
                "    User ignored",
                "Host *",
                "    User fallback",
                "");
        SshTarget t = targets("hosts", "zfs1\n", null, config).get(0);
        assertEquals("ops@192.0.2.10:2200", t.address());
        assertEquals(List.of(HOME.resolve(".ssh/fleet_ed25519")), t.identities());
        SshTarget other = targets("hosts", "root@zfs2:22\nweb\n", null, config).get(0);
        assertEquals("root@192.0.2.10", other.address(), "the inventory's user and port win");
        assertEquals(
                "fallback@web", targets("hosts", "web\n", null, config).get(0).address());
    }

    @Test
    void oneProxyJumpIsFollowedTheJumpHostResolvedFromItsOwnBlock() {
        String config = "Host zfs1\n  HostName 10.0.0.11\n  ProxyJump ops@bastion:2200\n"
                + "Host bastion\n  HostName 192.0.2.1\n  User nobody\n  IdentityFile ~/.ssh/bastion_key\n"
                + "Host zfs2\n  ProxyJump ssh://gate\n";
        SshTarget t = targets("hosts", "zfs1\n", null, config).get(0);
        assertEquals("core@10.0.0.11", t.address());
        SshTarget j = t.jump().orElseThrow();
        assertEquals("ops@192.0.2.1:2200", j.address(), "the ProxyJump's user and port win over its block's");
        assertEquals("zfs1 via jump host ops@bastion:2200", j.name());
        assertEquals(List.of(HOME.resolve(".ssh/bastion_key")), j.identities());
        assertEquals(Optional.empty(), j.jump());
        assertEquals(
                "core@gate",
                targets("hosts", "zfs2\n", null, config)
                        .get(0)
                        .jump()
                        .orElseThrow()
                        .address());
        assertEquals(
                Optional.empty(),
                targets("hosts", "zfs1\n", null, "Host zfs1\n  ProxyJump none\n")
                        .get(0)
                        .jump());
    }

    @Test
    void aChainOfJumpHostsOrABadOneIsRefusedNamingTheLine() {
        String chain = usage(() -> targets("hosts", "zfs1\n", null, "Host zfs1\n  ProxyJump a,b\n"));
        assertTrue(chain.startsWith("config:2: zfs1 is reached through ProxyJump a,b, a chain of jump hosts"), chain);
        String nested =
                usage(() -> targets("hosts", "zfs1\n", null, "Host zfs1\n  ProxyJump a\nHost a\n  ProxyJump b\n"));
        assertTrue(
                nested.startsWith("config:2: zfs1 is reached through a, which is itself behind ProxyJump b"), nested);
        String bad = usage(() -> targets("hosts", "zfs1\n", null, "Host zfs1\n  ProxyJump 'a b'\n"));
        assertTrue(bad.startsWith("config:2 (ProxyJump): not [user@]host[:port]"), bad);
        assertTrue(usage(() -> SshConfig.parse(Path.of("config"), "Host a\n  Port high\n"))
                .startsWith("config:2: Port"));
    }
}
