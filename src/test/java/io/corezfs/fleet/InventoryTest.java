package io.corezfs.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Inventories: plain lines, Ansible INI and YAML, and ~/.ssh/config, each held to one set of rules. */
class InventoryTest {
    static final Path HOME = Path.of("/home/op");
    static final Inventory.Local LOCAL = new Inventory.Local(
            HOME,
            Path.of("/srv/ops"),
            n -> Optional.ofNullable(Map.of("KEYS", "/etc/fleet-keys").get(n)));

    static List<SshTarget> targets(String file, String text, String group, String sshConfig) {
        SshConfig c = sshConfig == null ? SshConfig.EMPTY : SshConfig.parse(Path.of("config"), sshConfig);
        return Inventory.parse(Path.of(file), text, Optional.ofNullable(group)).stream()
                .map(d -> Inventory.resolve(d, c, Optional.empty(), LOCAL))
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
                List.of("admin@10.0.0.11", "ops@10.0.0.12:2222"),
                storage.stream().map(SshTarget::address).toList());
        List<SshTarget> all = targets("inventory.yml", yaml, "all", null);
        assertEquals(
                List.of("admin@10.0.0.11", "ops@10.0.0.12:2222", "admin@web1"),
                all.stream().map(SshTarget::address).toList());
    }

    @Test
    void allVarsReachEveryHostWhicheverGroupSelectsIt() {
        String ini = "[storage]\nzfs1\n\n[web]\nweb1\n\n[all:vars]\nansible_user=admin\nansible_port=2200\n";
        assertEquals(
                List.of("admin@zfs1:2200"),
                targets("inv.ini", ini, "storage", null).stream()
                        .map(SshTarget::address)
                        .toList());
        assertEquals(
                List.of("admin@zfs1:2200", "admin@web1:2200"),
                targets("inv.ini", ini, null, null).stream()
                        .map(SshTarget::address)
                        .toList());
        assertEquals(2, targets("inv.ini", ini, "all", null).size());
    }

    @Test
    void aHostInSeveralGroupsGetsTheirVarsMergedAsAnsibleMergesThem() {
        String ini = String.join(
                "\n",
                "[zfs]",
                "node1",
                "node2 ansible_user=owner",
                "[zfs:vars]",
                "ansible_user=zfsadmin",
                "[east]",
                "node1",
                "node2",
                "[east:vars]",
                "ansible_port=2201",
                "[fleet:children]",
                "zfs",
                "east",
                "[fleet:vars]",
                "ansible_user=fleetadmin",
                "ansible_port=2299",
                "[all:vars]",
                "ansible_host=ignored.example",
                "");
        // fleet (depth 1) < east, zfs (depth 2, by name): zfs's user and east's port win over fleet's; the host's own
        // user wins over every group's; all's ansible_host, the shallowest group's, reaches hosts that set none.
        List<SshTarget> east = targets("inv.ini", ini, "east", null);
        assertEquals(
                List.of("zfsadmin@ignored.example:2201", "owner@ignored.example:2201"),
                east.stream().map(SshTarget::address).toList());
        assertEquals(east, targets("inv.ini", ini, "zfs", null), "the selecting group does not change the values");

        String priority = "[a]\nn1\n[a:vars]\nansible_user=alpha\nansible_group_priority=5\n"
                + "[b]\nn1\n[b:vars]\nansible_user=beta\n";
        assertEquals("alpha@n1", targets("inv.ini", priority, null, null).get(0).address());
        assertEquals(
                "beta@n1",
                targets("inv.ini", priority.replace("priority=5", "priority=0"), null, null)
                        .get(0)
                        .address());
        assertTrue(usage(() -> targets("inv.ini", priority.replace("=5", "=high"), null, null))
                .startsWith("inv.ini:5: ansible_group_priority is not a whole number"));

        String again = "[a]\nn1 ansible_port=2201\n[b]\nn1 ansible_user=ops\n";
        assertEquals(
                List.of("ops@n1:2201"),
                targets("inv.ini", again, null, null).stream()
                        .map(SshTarget::address)
                        .toList(),
                "a host listed twice is one host with both lines' vars");
    }

    @Test
    void hostPortNamesAndIpv6AddressesAreReadAsAnsibleWritesThem() {
        String config = "Host zfs1\n  HostName 10.0.0.11\n";
        assertEquals(
                "core@10.0.0.11:2222",
                targets("inv.ini", "[a]\nzfs1:2222\n", null, config).get(0).address(),
                "ssh config still names the address of host:port");
        assertEquals(
                List.of("core@10.0.0.11:2222", "core@zfs2:2223"),
                targets("inv.yml", "all:\n  hosts:\n    zfs1:2222:\n    zfs2:2223:\n", null, config).stream()
                        .map(SshTarget::address)
                        .toList());
        assertEquals(
                List.of("2001:db8::11", "2001:db8::12", "fe80::1"),
                targets(
                                "inv.ini",
                                "[a]\nn1 ansible_host=2001:db8::11\nn2 ansible_host=[2001:db8::12]\n"
                                        + "n3 ansible_host=fe80::1 ansible_port=2200\n",
                                null,
                                null)
                        .stream()
                        .map(SshTarget::host)
                        .toList());
        assertEquals(
                "core@[fe80::1]:2200",
                targets("inv.ini", "[a]\nn3 ansible_host=fe80::1 ansible_port=2200\n", null, null)
                        .get(0)
                        .address());
        for (String bad : List.of("n1:22", "ops@n1", "2001:db8::zz", "1:2", "[n1]", "a b")) {
            String m = usage(() -> targets("inv.ini", "[a]\nn1 ansible_host='" + bad + "'\n", null, null));
            assertTrue(m.startsWith("inv.ini:2: ansible_host is not a host name or address"), m);
        }
    }

    @Test
    void groupCyclesALatticeAndDeepNestingAreRefusedOrReadQuickly() {
        assertTrue(usage(() -> targets("inv.ini", "[a:children]\nb\n[b:children]\na\n[a]\nn1\n", null, null))
                .contains("contains itself through its children"));
        // 40 levels of two groups, each a child of both above it: 2^40 paths from all, each group's depth found once.
        StringBuilder lattice = new StringBuilder("[l0a]\nn1\n[l0b]\nn2\n");
        for (int i = 1; i < 40; i++) {
            for (String me : List.of("a", "b")) {
                lattice.append("[l").append(i).append(me).append(":children]\n");
                lattice.append("l").append(i - 1).append("a\nl").append(i - 1).append("b\n");
            }
        }
        lattice.append("[l39a:vars]\nansible_user=top\n");
        assertEquals(
                List.of("top@n1", "top@n2"),
                targets("inv.ini", lattice.toString(), null, null).stream()
                        .map(SshTarget::address)
                        .toList());
        StringBuilder chain = new StringBuilder("[g0]\nn1\n");
        for (int i = 1; i <= 600; i++) {
            chain.append("[g").append(i).append(":children]\ng").append(i - 1).append("\n");
        }
        assertTrue(usage(() -> targets("inv.ini", chain.toString(), null, null)).contains("nested more than 500 deep"));
    }

    @Test
    void aYamlVariableWithNoValueSetsNothing() {
        String yaml = "all:\n  vars:\n    ansible_user: ops\n  hosts:\n    zfs1:\n      ansible_user:\n"
                + "      ansible_host: ~\n      ansible_port: 2200\n";
        assertEquals(
                "ops@zfs1:2200", targets("inv.yml", yaml, null, null).get(0).address());
    }

    private static List<String> names(String file, String text) {
        return targets(file, text, null, null).stream().map(SshTarget::address).toList();
    }

    @Test
    void hostRangesExpandAsAnsibleExpandsThemInIniAndYaml() {
        assertEquals(
                List.of(
                        "ops@zfs01.example.com",
                        "ops@zfs02.example.com",
                        "ops@zfs03.example.com",
                        "core@db-a:2222",
                        "core@db-b:2222",
                        "core@db-c:2222",
                        "core@10.0.0.1",
                        "core@10.0.0.5",
                        "core@10.0.0.9",
                        "core@r1-x",
                        "core@r1-y",
                        "core@r2-x",
                        "core@r2-y",
                        "core@n8",
                        "core@n9",
                        "core@n10"),
                names(
                        "inv.ini",
                        "[zfs]\nzfs[01:03].example.com ansible_user=ops\ndb-[a:c]:2222\n10.0.0.[1:9:4]\n"
                                + "r[1:2]-[x:y]\nn[8:10]\n"));
        assertEquals(
                List.of("core@web1:2200", "core@web2:2200", "core@web3"),
                names(
                        "inv.yml",
                        "all:\n  hosts:\n    web[1:2]:\n      ansible_port: 2200\n    web3:\n      ansible_port: 22\n"));
        assertEquals(
                List.of("core@a:2201", "core@b"),
                names("inv.ini", "[x]\na:2201\nb\n"),
                "a colon outside brackets is a port, not a range");
        assertEquals(
                List.of("ops@n1", "ops@n2"),
                names("inv.ini", "[x]\nn[1:2]\n[y]\nn[1:2]\n[all:vars]\nansible_user=ops\n"),
                "a host two ranges both name is one host");
    }

    @Test
    void aBadOrHostileHostRangeIsRefusedNamingTheLineAndNothingHugeIsExpanded() {
        assertTrue(usage(() -> names("inv.ini", "[a]\nn1\nzfs[3:1]\n"))
                .startsWith("inv.ini:3: 'zfs[3:1]': a range's begin"));
        assertTrue(usage(() -> names("inv.ini", "[a]\nzfs[01:100]\n")).contains("leading zero (01) sets the width"));
        for (String zero : List.of("0", "00000000000000000000")) {
            assertTrue(
                    usage(() -> names("inv.ini", "[a]\nzfs[1:3:" + zero + "]\n"))
                            .contains("step of 0"),
                    zero);
        }
        assertEquals(
                List.of("core@zfs1"),
                names("inv.ini", "[a]\nzfs[1:3:000000000000000000009]\n"),
                "a step past the range gives its first host");
        for (String bad :
                List.of("zfs[1-3]", "zfs[a:Z]", "zfs[1:c]", "zfs[:3]", "zfs[1:3", "zfs[ab:cd]", "zfs[1:[2:3]]")) {
            String m = usage(() -> names("inv.ini", "[a]\n" + bad + "\n"));
            assertTrue(m.startsWith("inv.ini:2: "), bad + ": " + m);
        }
        assertTrue(usage(() -> names("inv.ini", "[a]\nzfs[0:999999999]\n")).contains("more than 10000 hosts"));
        assertTrue(usage(() -> names("inv.yml", "all:\n  hosts:\n    h[0:999]x[0:999]:\n"))
                .contains("more than 10000 hosts"));
        assertTrue(
                usage(() -> names("inv.ini", "[a]\nh[0:5999]\n[b]\ng[0:5999]\n"))
                        .startsWith("inv.ini:4: "),
                "the cap counts the whole inventory, not one line");
        assertEquals(
                10_000,
                names("inv.ini", "[a]\nh[0:9999]\n[b]\nh[0:9999]\n").size(),
                "hosts named again in another group are not counted twice");
    }

    @Test
    void aHostAnsibleReachesOtherwiseThanOverSshIsRefusedUnlessLeftOutByGroup() {
        String ini = "[local]\nlocalhost ansible_connection=local\n[zfs]\nzfs1 ansible_connection=ssh\n"
                + "zfs2 ansible_connection=ansible.builtin.paramiko_ssh\n";
        String m = usage(() -> targets("inv.ini", ini, null, null));
        assertEquals(
                "inv.ini:2: localhost has ansible_connection=local; corezfs fleet reaches nodes over SSH only: leave"
                        + " it out with --group",
                m);
        assertEquals(2, targets("inv.ini", ini, "zfs", null).size());
        String jump = usage(() -> targets(
                "inv.ini",
                "[zfs]\nzfs1\n[zfs:vars]\nansible_ssh_common_args='-o ProxyCommand=\"ssh -W %h:%p -q bastion\"'\n",
                null,
                null));
        assertTrue(
                jump.startsWith("inv.ini:4: zfs1 is reached through a jump host or proxy in ansible_ssh_common_args"),
                jump);
        assertTrue(usage(() -> targets("inv.ini", "[zfs]\nzfs1 ansible_ssh_extra_args=\"-J ops@gate\"\n", null, null))
                .contains("ProxyJump in ~/.ssh/config"));
        assertEquals(
                "core@zfs1",
                targets("inv.ini", "[zfs]\nzfs1 ansible_ssh_common_args='-o StrictHostKeyChecking=no -j'\n", null, null)
                        .get(0)
                        .address(),
                "other ssh arguments are passed over");
        String jinja = usage(() -> targets(
                "inv.yml",
                "all:\n  hosts:\n    zfs1:\n      ansible_host: \"{{ lookup('env', 'IP') }}\"\n",
                null,
                null));
        assertTrue(jinja.startsWith("inv.yml:3: ansible_host of zfs1 is a Jinja template"), jinja);
        assertEquals(
                "core@zfs1",
                targets("inv.ini", "[zfs]\nzfs1 ansible_python_interpreter=\"{{ py }}\"\n", null, null)
                        .get(0)
                        .address(),
                "a template in a variable fleet does not read is passed over");
    }

    @Test
    void keyFilesAreReadWhereSshReadsThem() {
        String config = "Host zfs1\n  IdentityFile keys/zfs_ed25519\n  IdentityFile none\n"
                + "  IdentityFile ${KEYS}/%n\n  IdentityFile /abs/key\n";
        assertEquals(
                List.of(Path.of("/srv/ops/keys/zfs_ed25519"), Path.of("/etc/fleet-keys/zfs1"), Path.of("/abs/key")),
                targets("hosts", "zfs1\n", null, config).get(0).identities(),
                "relative to the working directory as for ssh; none names no file; ${VAR} from the environment");
        assertEquals(
                List.of(Path.of("/srv/ops/keys/id"), HOME.resolve(".ssh/id")),
                targets(
                                "inv.ini",
                                "[a]\nn1 ansible_private_key_file=keys/id\nn2 ansible_ssh_private_key_file=~/.ssh/id\n",
                                null,
                                null)
                        .stream()
                        .map(t -> t.identities().get(0))
                        .toList());
        String unset = usage(() -> targets("hosts", "zfs1\n", null, "Host *\n  IdentityFile ${NOPE}/id\n"));
        assertTrue(unset.startsWith("config:2: IdentityFile uses ${NOPE}, which is not set"), unset);
        for (String bad : List.of("$KEYS/id", "${KEYS", "${}/id", "${1X}/id")) {
            String m = usage(() -> targets("hosts", "zfs1\n", null, "Host *\n  IdentityFile " + bad + "\n"));
            assertTrue(m.startsWith("config:2: IdentityFile has a '$' that is not ${NAME}"), bad + ": " + m);
        }
        String other = usage(() -> targets("hosts", "zfs1\n", null, "Host *\n  IdentityFile ~ops/.ssh/id\n"));
        assertTrue(other.contains("under another user's home"), other);
    }

    @Test
    void theReadmesInventoryExampleReadsAsItSays() throws java.io.IOException {
        String readme = java.nio.file.Files.readString(Path.of("README.md"));
        int start = readme.indexOf("```ini\n# inventory.ini\n");
        assertTrue(start >= 0, "the README's fleet section has its inventory example");
        String ini = readme.substring(start + "```ini\n".length(), readme.indexOf("```", start + 6));
        List<String> hosts = targets("inventory.ini", ini, "storage", null).stream()
                .map(SshTarget::address)
                .toList();
        assertEquals(8, hosts.size(), hosts::toString);
        assertEquals("core@10.0.0.11", hosts.get(0));
        assertEquals("core@10.0.0.12:2222", hosts.get(1));
        assertEquals("core@zfs08.storage.example", hosts.get(7));
    }

    @Test
    void hostLineValuesMayBeQuotedAsInAnsible() {
        SshTarget t = targets(
                        "inv.ini",
                        "[a]\nn1 ansible_ssh_private_key_file=\"/keys/fleet key\" ansible_user='ops'\n",
                        null,
                        null)
                .get(0);
        assertEquals(List.of(Path.of("/keys/fleet key")), t.identities());
        assertEquals("ops", t.user());
        assertTrue(usage(() -> targets("inv.ini", "[a]\nn1 ansible_user=\"ops\n", null, null))
                .startsWith("inv.ini:2: a quote is not closed"));
        assertEquals(
                "inv.ini: no hosts in group 'empty'",
                usage(() -> targets("inv.ini", "[a]\nn1\n[empty]\n", "empty", null)));
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
