"""Generates the benchmark's input tree: what an OpenZFS build installs, shaped like the real one.

Usage: python3 bench/gen_tree.py OUT KERNEL

Writes under OUT (etc/ and opt/corezfs/usr/) a few large .ko/.so files with ELF-like mixed compressibility
(machine code, incompressible data, padding, tables, strings), a few thousand small text files (tests, man pages,
headers, scripts), library symlinks and systemd units; the modules go under lib/modules/KERNEL. Everything comes
from random.Random(42), so the same OUT content is written on every run and every machine: bench/run.sh generates
it once and reuses it while this file and KERNEL are unchanged.
"""
import math, os, random, sys

out, kernel = sys.argv[1], sys.argv[2]
rng = random.Random(42)

LETTERS = "etaoinshrdlcumwfgypbvkjxqz_"
REAL = ("zfs zpool dataset snapshot vdev mirror raidz txg spa dmu arc l2arc zil zio dbuf dnode objset "
        "the of and to in is for that with on as by be this are from or at which it an not if else then fi "
        "log_must log_mustnot log_assert verify_runnable default_setup default_cleanup typeset function "
        "return while do done case esac echo grep awk sed TESTPOOL TESTFS DISK mountpoint compression "
        "checksum recordsize property value option returns error EINVAL ENOENT uint64_t int void static "
        "struct const char boolean_t nvlist_t size_t NULL B_TRUE B_FALSE include define endif ifdef").split()
vocab = REAL + ["".join(rng.choice(LETTERS) for _ in range(rng.randint(2, 11))) for _ in range(2000)]
zipf = [1.0 / (i + 1) for i in range(len(vocab))]
seps = [" "] * 12 + ["\n", "\n\t", "  ", ", ", "; ", "(", ")", " = ", "$", "\"", "\n\n"]
words = rng.choices(vocab, weights=zipf, k=800_000)
sp = rng.choices(seps, k=len(words))
CORPUS = "".join(w + s for w, s in zip(words, sp)).encode()

def text_like(n, noise=0.06):
    """Words from the corpus at random offsets, with some random bytes mixed in (embedded data, hashes)."""
    parts, have = [], 0
    while have < n:
        if rng.random() < noise:
            chunk = rng.randbytes(rng.randint(16, 192))
        else:
            ln = rng.randint(256, 4096)
            off = rng.randrange(0, len(CORPUS) - ln)
            chunk = CORPUS[off:off + ln]
        parts.append(chunk)
        have += len(chunk)
    return b"".join(parts)[:n]

# Machine code: a skewed alphabet of 40 byte values (0x00, REX prefixes, mov/call opcodes most common).
CODE = bytes([0x00] * 24 + [0x48] * 14 + [0x89, 0x8b, 0xff, 0xe8, 0x0f] * 6 + [0x24, 0x44, 0x4c, 0xc7, 0x83] * 4) \
    + bytes(rng.choices(rng.randbytes(40), k=256 - 24 - 14 - 30 - 20))
CODE_TABLE = CODE

def elf_like(n):
    """ELF-ish: header, then segments of machine code, incompressible data, zero padding, tables and strings."""
    parts = [b"\x7fELF\x02\x01\x01" + bytes(57)]
    have = 64
    while have < n:
        ln = min(n - have, rng.randint(4 << 10, 1 << 20))
        r = rng.random()
        if r < 0.40:
            chunk = rng.randbytes(ln).translate(CODE_TABLE)      # .text
        elif r < 0.55:
            chunk = rng.randbytes(ln)                            # compressed/encrypted data, hashes
        elif r < 0.72:
            chunk = bytes(ln)                                    # .bss alignment, padding
        elif r < 0.84:
            unit = rng.randbytes(rng.choice((8, 16, 24, 32)))    # relocation / symbol tables
            chunk = (unit * (ln // len(unit) + 1))[:ln]
        else:
            chunk = text_like(ln, noise=0.02)                    # .strtab, .debug_str
        parts.append(chunk)
        have += len(chunk)
    return b"".join(parts)[:n]

def kib(lo, hi):
    """A size between lo and hi KiB, log-uniform, so most files are small."""
    return int(1024 * math.exp(rng.uniform(math.log(lo), math.log(hi))))

def write(rel, data, mode=0o644):
    p = os.path.join(out, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    os.chmod(p, mode)

def link(rel, target):
    p = os.path.join(out, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    os.symlink(target, p)

U = "opt/corezfs/usr"

# Large ELF objects: kernel modules and the big shared libraries.
write(f"{U}/lib/modules/{kernel}/extra/zfs.ko", elf_like(40 << 20))
write(f"{U}/lib/modules/{kernel}/extra/spl.ko", elf_like(6 << 20))
libs = [("libzpool.so.5.0.0", 22 << 20), ("libzfs.so.4.1.0", 9 << 20), ("libzfs_core.so.3.0.0", 5 << 20),
        ("libnvpair.so.3.0.0", 420 << 10), ("libuutil.so.3.0.0", 160 << 10), ("libzfsbootenv.so.1.0.0", 60 << 10)]
for name, size in libs:
    write(f"{U}/lib/{name}", elf_like(size), 0o755)
    base = name.split(".so.")[0] + ".so"
    major = name[: name.index(".so.") + 4] + name.split(".so.")[1].split(".")[0]
    link(f"{U}/lib/{base}", name)
    link(f"{U}/lib/{major}", name)
    write(f"{U}/lib/{base[:-3]}.la", text_like(kib(1, 2), noise=0))
for name in ("libzfs", "libzfs_core", "libnvpair", "libuutil", "libzfsbootenv"):
    write(f"{U}/lib/pkgconfig/{name}.pc", text_like(400, noise=0))
write(f"{U}/lib/modules-load.d/zfs.conf", b"zfs\n")

# Binaries and scripts.
for name, size in [("zfs", 1200), ("zpool", 1500), ("zdb", 2500), ("zed", 600), ("zstream", 400),
                   ("zinject", 300), ("ztest", 3000), ("zhack", 300), ("raidz_test", 2000), ("mount.zfs", 200),
                   ("zgenhostid", 50), ("zfs_ids_to_path", 40)]:
    write(f"{U}/sbin/{name}", elf_like(size << 10), 0o755)
for name in ("fsck.zfs", "zilstat", "zvol_wait"):
    write(f"{U}/sbin/{name}", b"#!/bin/sh\n" + text_like(kib(1, 16)), 0o755)
for name in ("arc_summary", "arcstat", "dbufstat", "zarcsummary", "zarcstat"):
    write(f"{U}/bin/{name}", b"#!/usr/bin/env python3\n" + text_like(kib(8, 48)), 0o755)
link(f"{U}/bin/zstreamdump", "../sbin/zstream")
link(f"{U}/sbin/zfs-mount-generator", "../lib/systemd/system-generators/zfs-mount-generator")
write(f"{U}/lib/systemd/system-generators/zfs-mount-generator", elf_like(30 << 10), 0o755)
write(f"{U}/lib/udev/zvol_id", elf_like(20 << 10), 0o755)
write(f"{U}/lib/udev/vdev_id", b"#!/bin/sh\n" + text_like(kib(4, 20)), 0o755)
for r in ("60-zvol.rules", "69-vdev.rules", "90-zfs.rules"):
    write(f"{U}/lib/udev/rules.d/{r}", text_like(kib(1, 3)))

# Man pages.
sections = {"1": 12, "4": 6, "5": 8, "7": 18, "8": 110}
for sec, count in sections.items():
    for i in range(count):
        name = "z" + "".join(rng.choice(LETTERS[:20]) for _ in range(rng.randint(3, 12)))
        body = f".TH {name.upper()} {sec} 2023-01-01 OpenZFS\n.SH NAME\n{name}\n.SH DESCRIPTION\n".encode()
        write(f"{U}/share/man/man{sec}/{name}.{sec}", body + text_like(kib(2, 64), noise=0.0))

# Headers.
for sub, count in (("libzfs", 60), ("libzfs/sys", 90), ("libspl/sys", 70), ("libspl", 20)):
    for i in range(count):
        write(f"{U}/include/{sub}/h{i:03d}.h", b"/* SPDX-License-Identifier: CDDL-1.0 */\n" + text_like(kib(1, 40)))

# The test suite: most of the entries.
groups = ["".join(rng.choice(LETTERS[:20]) for _ in range(rng.randint(4, 12))) for _ in range(90)]
n = 0
for g in groups:
    for i in range(rng.randint(15, 45)):
        ext = rng.choice((".ksh",) * 8 + (".kshlib", ".cfg"))
        write(f"{U}/share/zfs/zfs-tests/tests/functional/{g}/{g}_{i:03d}_pos{ext}",
              b"#!/bin/ksh -p\n" + text_like(kib(1, 64)), 0o755 if ext == ".ksh" else 0o644)
        n += 1
for i in range(40):
    write(f"{U}/share/zfs/zfs-tests/include/lib{i:02d}.shlib", text_like(kib(2, 64)))
for i in range(30):
    write(f"{U}/share/zfs/runfiles/run{i:02d}.run", text_like(kib(1, 32), noise=0))
for name in ("zfs-helpers.sh", "zfs-tests.sh", "zloop.sh", "zimport.sh", "common.sh", "zfs.sh"):
    write(f"{U}/share/zfs/{name}", b"#!/bin/bash\n" + text_like(kib(4, 40)), 0o755)

# etc: units, module loading, zed scripts.
units = {
    "zfs-import-cache.service": "zfs-import.target", "zfs-import-scan.service": "zfs-import.target",
    "zfs-mount.service": "zfs.target", "zfs-share.service": "zfs.target", "zfs-zed.service": "zfs.target",
    "zfs-volume-wait.service": "zfs-volumes.target",
}
for u, wanted in units.items():
    write(f"etc/systemd/system/{u}",
          (f"[Unit]\nDescription={u}\nDocumentation=man:zfs(8)\nDefaultDependencies=no\n"
           f"After=systemd-udev-settle.service\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\n"
           f"ExecStart=/opt/corezfs/usr/sbin/zfs mount -a\n\n[Install]\nWantedBy={wanted}\n").encode())
for t in ("zfs.target", "zfs-import.target", "zfs-volumes.target"):
    write(f"etc/systemd/system/{t}", f"[Unit]\nDescription={t}\n\n[Install]\nWantedBy=multi-user.target\n".encode())
write("etc/modules-load.d/zfs.conf", b"# Load the ZFS module at boot\nzfs\n")
write("etc/default/zfs", text_like(2048, noise=0))
for i in range(24):
    write(f"etc/zfs/zed.d/zed{i:02d}.sh", b"#!/bin/sh\n" + text_like(kib(1, 6)), 0o755)
write("etc/zfs/zed.d/zed.rc", text_like(3000, noise=0))
link("etc/zfs/zed.d/all-syslog.sh", "zed00.sh")

for d, dirs, _ in os.walk(out):
    for x in dirs:
        p = os.path.join(d, x)
        if not os.path.islink(p):
            os.chmod(p, 0o755)
