#!/usr/bin/env bash
# corezfs performance benchmark: pack, install, peak RSS and startup, each against a baseline measured in the
# same run (interleaved A B A B …, medians). See BENCHMARKS.md for the method and the last recorded figures.
#
#   bash bench/run.sh
#
# Knobs (environment):
#   BENCH_RUNS=7          timed runs per side for pack and install
#   BENCH_VERSION_RUNS=10 timed runs per side for --version / java -version
#   BENCH_REBUILD=1       rebuild the distribution even if target/corezfs/bin/corezfs exists
#   BENCH_KERNEL=…        kernel release used for the tree, the pack and the install
#   BENCH_DIAG=1          also run the diagnostics (C1-only vs C2 JIT, hashing cost) described in BENCHMARKS.md
#
# Everything it writes lives under target/bench/ (git-ignored); the generated tree is reused between runs
# while the generator is unchanged.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

bench="$repo/target/bench"
tree="$bench/tree"
work="$bench/work"
runs=${BENCH_RUNS:-7}
version_runs=${BENCH_VERSION_RUNS:-10}
kernel=${BENCH_KERNEL:-5.15.119-flatcar}
corezfs="$repo/target/corezfs/bin/corezfs"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
export LC_ALL=C

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

# --- tools -------------------------------------------------------------------------------------------------------
for t in python3 tar gzip sha256sum java; do
  command -v "$t" >/dev/null 2>&1 || die "$t is required"
done
if [ ! -x /usr/bin/time ]; then
  log "installing GNU time (/usr/bin/time)"
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null; }
  else
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null
  fi
fi
/usr/bin/time -f '%e %M' true 2>/dev/null || die "/usr/bin/time is not GNU time"
java_bin=$(command -v java)
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then java_bin="$JAVA_HOME/bin/java"; fi

# --- build -------------------------------------------------------------------------------------------------------
build() {
  # The dist step copies units/ and overlay/; on branches that do not carry them yet the copy fails. Create them
  # empty for the build only and remove them again, so the worktree is left exactly as it was.
  command -v mvn >/dev/null 2>&1 || die "mvn is required to build the distribution"
  local made=()
  for d in units overlay; do
    if [ ! -e "$d" ]; then mkdir "$d"; made+=("$d"); fi
  done
  local rc=0
  mvn -q -DskipTests package >&2 || rc=$?
  for d in ${made[@]+"${made[@]}"}; do rmdir "$d" 2>/dev/null || true; done
  [ "$rc" = 0 ] || die "mvn package failed (exit $rc)"
}
if [ ! -x "$corezfs" ] || [ "${BENCH_REBUILD:-0}" = 1 ]; then
  log "building the distribution (mvn -q -DskipTests package)"
  build
fi
[ -x "$corezfs" ] || die "no distribution at $corezfs"

mkdir -p "$bench" "$work"

# --- tree --------------------------------------------------------------------------------------------------------
# A deterministic (random.Random(42)) tree shaped like an OpenZFS build: a few large .ko/.so with ELF-like mixed
# compressibility, a few thousand small text files (tests, man pages, headers, scripts), library symlinks, units.
gen=$(cat <<'PY'
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
PY
)
stamp="$(printf '%s\n%s\n' "$gen" "$kernel" | sha256sum | cut -c1-16)"
if [ ! -f "$bench/tree.stamp" ] || [ "$(cat "$bench/tree.stamp")" != "$stamp" ] || [ ! -d "$tree" ]; then
  log "generating the tree under $tree (seed 42)"
  rm -rf "$tree" "$bench/tree.stamp"
  mkdir -p "$tree"
  python3 -c "$gen" "$tree" "$kernel"
  echo "$stamp" > "$bench/tree.stamp"
fi

# --- measure -----------------------------------------------------------------------------------------------------
log "measuring: $runs runs per side for pack/install, $version_runs for startup (interleaved)"
python3 - "$corezfs" "$tree" "$work" "$kernel" "$runs" "$version_runs" "$java_bin" "$bench" "${BENCH_DIAG:-0}" <<'PY'
import hashlib, json, os, platform, shutil, statistics, subprocess, sys, time

corezfs, tree, work, kernel = sys.argv[1:5]
runs, vruns = int(sys.argv[5]), int(sys.argv[6])
java, bench, diag = sys.argv[7], sys.argv[8], sys.argv[9] == "1"
TIME = "/usr/bin/time"
MB = 1 << 20

def log(*a):
    print("[bench]", *a, file=sys.stderr, flush=True)

def mkroot(d):
    """A target root with the Flatcar release files the host detector reads."""
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "usr/share/flatcar"))
    with open(os.path.join(d, "usr/share/flatcar/release"), "w") as f:
        f.write("FLATCAR_RELEASE_VERSION=9999.0.0\nFLATCAR_RELEASE_BOARD=amd64-usr\n")
    with open(os.path.join(d, "usr/share/flatcar/update.conf"), "w") as f:
        f.write("GROUP=stable\n")

def rm(*paths):
    for p in paths:
        if os.path.isdir(p) and not os.path.islink(p):
            subprocess.run(["chmod", "-R", "u+w", p], check=False)
            shutil.rmtree(p)
        elif os.path.lexists(p):
            os.unlink(p)

def quiesce():
    """Outside the timed region: flush the previous run's dirty pages so writeback does not land in the next."""
    os.sync()

def timed(cmd, env=None):
    """Wall time (perf_counter around the whole process) and peak RSS in KiB (GNU time %M)."""
    tf = os.path.join(work, ".time")
    t0 = time.perf_counter()
    p = subprocess.run([TIME, "-f", "%e %M", "-o", tf] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, env=env)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"[bench] command failed (exit {p.returncode}): {' '.join(cmd)}\n{p.stderr.decode(errors='replace')[-3000:]}")
    rss = int(open(tf).read().split()[-1])
    return dt, rss

def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()

def tree_stats(root):
    files = dirs = links = size = 0
    for d, ds, fs in os.walk(root):
        for x in ds:
            if os.path.islink(os.path.join(d, x)):
                links += 1
            else:
                dirs += 1
        for x in fs:
            p = os.path.join(d, x)
            if os.path.islink(p):
                links += 1
            else:
                files += 1
                size += os.lstat(p).st_size
    return dict(files=files, dirs=dirs, symlinks=links, bytes=size)

def same_tree(src, dst, sub):
    """Every file, link and directory of src/sub is in dst/sub with the same content, mode and link target."""
    for d, ds, fs in os.walk(os.path.join(src, sub)):
        for x in ds + fs:
            a = os.path.join(d, x)
            b = os.path.join(dst, os.path.relpath(a, src))
            sa, sb = os.lstat(a), os.lstat(b)
            if (sa.st_mode & 0o170777) != (sb.st_mode & 0o170777):
                return f"{b}: mode {oct(sb.st_mode)} != {oct(sa.st_mode)}"
            if os.path.islink(a):
                if os.readlink(a) != os.readlink(b):
                    return f"{b}: link target differs"
            elif os.path.isfile(a) and (sa.st_size != sb.st_size or sha256(a) != sha256(b)):
                return f"{b}: content differs"
    return None

def med(xs):
    return statistics.median(xs)

os.makedirs(work, exist_ok=True)
for x in os.listdir(work):
    rm(os.path.join(work, x))
hostroot = os.path.join(work, "hostroot")
mkroot(hostroot)
stats = tree_stats(tree)
log(f"tree: {stats['files']} files, {stats['dirs']} dirs, {stats['symlinks']} symlinks, {stats['bytes'] / MB:.1f} MiB")

out_c = os.path.join(work, "corezfs.tar.gz")
out_b = os.path.join(work, "baseline.tar.gz")

def pack_corezfs(out, env=None):
    return timed([corezfs, "archive", "pack", tree, "--root", hostroot, "--kernel", kernel,
                  "--zfs-version", "2.1.11", "-o", out], env)

def pack_baseline(out):
    return timed(["bash", "-c", 'set -o pipefail; tar -C "$1" -c etc opt | gzip -6 > "$2"', "_", tree, out])

def install_corezfs(archive, i, env=None):
    root = os.path.join(work, f"root-{i}")
    mkroot(root)
    quiesce()
    r = timed([corezfs, "install", "--archive", archive, "--root", root, "--kernel", kernel], env)
    return r, root

def install_baseline(archive, i):
    d = os.path.join(work, f"tar-{i}")
    os.makedirs(d)
    quiesce()
    return timed(["tar", "-C", d, "-xzf", archive]), d

results = {"runs": runs, "version_runs": vruns, "tree": stats, "kernel": kernel,
           "machine": {"cpus": os.cpu_count(), "platform": platform.platform()}}

# ---- a. pack ------------------------------------------------------------------------------------------------------
log("pack: warm-up")
pack_corezfs(out_c)
pack_baseline(out_b)
if subprocess.run(["gzip", "-t", out_c]).returncode != 0:
    sys.exit("[bench] corezfs archive is not valid gzip")
hashes = [sha256(out_c)]
pc, pb, rss_pack = [], [], []
for i in range(runs):
    rm(out_c, out_b); quiesce()
    dt, rss = pack_corezfs(out_c); pc.append(dt); rss_pack.append(rss)
    hashes.append(sha256(out_c))
    rm(out_b); quiesce()
    dt, _ = pack_baseline(out_b); pb.append(dt)
    log(f"pack run {i + 1}/{runs}: corezfs {pc[-1]:.2f}s  baseline {pb[-1]:.2f}s  (rss {rss / 1024:.0f} MiB)")
size_c, size_b = os.path.getsize(out_c), os.path.getsize(out_b)
# Block boundaries of the parallel gzip must not depend on the thread count: one more pack on a single CPU.
out_1 = os.path.join(work, "one-cpu.tar.gz")
pack_corezfs(out_1, dict(os.environ, COREZFS_JAVA_OPTS="-XX:ActiveProcessorCount=1"))
hash_1cpu = sha256(out_1)
rm(out_1)
log(f"pack sha256 {hashes[0][:16]}…; {len(set(hashes))} distinct of {len(hashes)}; single-CPU pack "
    + ("identical" if hash_1cpu == hashes[0] else "DIFFERENT"))

# ---- b. install ---------------------------------------------------------------------------------------------------
log("install: warm-up and correctness check")
(_, _), root = install_corezfs(out_c, "w")
for sub in ("opt/corezfs", "etc"):
    bad = same_tree(tree, root, sub)
    if bad:
        sys.exit(f"[bench] installed tree differs from the source: {bad}")
rm(root)
(_, _), d = install_baseline(out_b, "w")
rm(d)
ic, ib, rss_inst = [], [], []
for i in range(runs):
    (dt, rss), root = install_corezfs(out_c, i); ic.append(dt); rss_inst.append(rss)
    rm(root); quiesce()
    (dt, _), d = install_baseline(out_b, i); ib.append(dt)
    rm(d); quiesce()
    log(f"install run {i + 1}/{runs}: corezfs {ic[-1]:.2f}s  baseline {ib[-1]:.2f}s  (rss {rss / 1024:.0f} MiB)")

# ---- d. startup ---------------------------------------------------------------------------------------------------
log("startup: warm-up")
for _ in range(2):
    timed([corezfs, "--version"]); timed([java, "-version"])
vc, vj = [], []
for i in range(vruns):
    vc.append(timed([corezfs, "--version"])[0])
    vj.append(timed([java, "-version"])[0])
log(f"startup: corezfs --version median {med(vc):.3f}s, java -version median {med(vj):.3f}s")

# ---- optional diagnostics -----------------------------------------------------------------------------------------
diag_rows = []
if diag:
    # The launcher pins the JIT to C1 (-XX:TieredStopAtLevel=1). A later flag wins, so COREZFS_JAVA_OPTS can turn
    # the full tiered JIT (C2, which has the SHA-256 intrinsic) back on without touching the code. Interleaved:
    # pack and install under both JITs, and the CPU-only path (archive verify = gunzip + tar parse + SHA-256, no
    # files written) against `gzip -dc | sha256sum`.
    env_c2 = dict(os.environ, COREZFS_JAVA_OPTS="-XX:TieredStopAtLevel=4")
    out_x = os.path.join(work, "diag.tar.gz")
    verify = [corezfs, "archive", "verify", out_c]
    cpu_base = ["bash", "-c", 'set -o pipefail; gzip -dc "$1" | sha256sum >/dev/null', "_", out_c]
    d = {k: [] for k in ("pack1", "pack2", "inst1", "inst2", "ver1", "ver2", "gz")}
    for i in range(runs):
        rm(out_x); quiesce(); d["pack1"].append(pack_corezfs(out_x)[0])
        rm(out_x); quiesce(); d["pack2"].append(pack_corezfs(out_x, env_c2)[0])
        (dt, _), root = install_corezfs(out_c, f"d{i}"); d["inst1"].append(dt); rm(root); quiesce()
        (dt, _), root = install_corezfs(out_c, f"e{i}", env_c2); d["inst2"].append(dt); rm(root); quiesce()
        d["ver1"].append(timed(verify)[0])
        d["ver2"].append(timed(verify, env_c2)[0])
        d["gz"].append(timed(cpu_base)[0])
        log(f"diag run {i + 1}/{runs}: " + "  ".join(f"{k} {v[-1]:.2f}s" for k, v in d.items()))
    m = {k: med(v) for k, v in d.items()}
    diag_rows = [
        ("pack, launcher default (C1 only)", m["pack1"], "1.00"),
        ("pack, C2 enabled", m["pack2"], f"{m['pack2'] / m['pack1']:.2f} × C1"),
        ("install, launcher default (C1 only)", m["inst1"], f"{m['inst1'] / med(ib):.2f} × tar -xzf"),
        ("install, C2 enabled", m["inst2"], f"{m['inst2'] / m['inst1']:.2f} × C1"),
        ("archive verify (no writes), C1 only", m["ver1"], f"{m['ver1'] / m['gz']:.2f} × gzip -dc \\| sha256sum"),
        ("archive verify (no writes), C2 enabled", m["ver2"], f"{m['ver2'] / m['gz']:.2f} × gzip -dc \\| sha256sum"),
        ("gzip -dc \\| sha256sum (CPU-only floor)", m["gz"], "1.00"),
    ]

# ---- report -------------------------------------------------------------------------------------------------------
def verdict(ok, value, goal):
    if ok:
        return "PASS"
    return f"MISS (+{(value / goal - 1) * 100:.0f}% over goal)"

r_pack = med(pc) / med(pb)
r_inst = med(ic) / med(ib)
pair_pack = [a / b for a, b in zip(pc, pb)]
pair_inst = [a / b for a, b in zip(ic, ib)]
rss_p, rss_i = max(rss_pack) / 1024, max(rss_inst) / 1024
identical = len(set(hashes)) == 1 and hash_1cpu == hashes[0]

rows = [
    ("a. archive pack (wall)", f"{med(pc):.2f} s", f"{med(pb):.2f} s (tar \\| gzip -6)",
     f"{r_pack:.2f} (pairs {min(pair_pack):.2f}–{max(pair_pack):.2f})", "≤ 1.0", verdict(r_pack <= 1.0, r_pack, 1.0)),
    ("b. install --root (wall)", f"{med(ic):.2f} s", f"{med(ib):.2f} s (tar -xzf)",
     f"{r_inst:.2f} (pairs {min(pair_inst):.2f}–{max(pair_inst):.2f})", "≤ 1.2", verdict(r_inst <= 1.2, r_inst, 1.2)),
    ("c. peak RSS, pack", f"{rss_p:.0f} MiB (max of {runs}; median {med(rss_pack) / 1024:.0f})", "—", "—",
     "≤ 256 MB", verdict(rss_p <= 256, rss_p, 256)),
    ("c. peak RSS, install", f"{rss_i:.0f} MiB (max of {runs}; median {med(rss_inst) / 1024:.0f})", "—", "—",
     "≤ 256 MB", verdict(rss_i <= 256, rss_i, 256)),
    ("d. corezfs --version (wall)", f"{med(vc):.3f} s", f"{med(vj):.3f} s (java -version)",
     f"{med(vc) / med(vj):.2f}", "≤ 0.4 s", verdict(med(vc) <= 0.4, med(vc), 0.4)),
    ("archive size", f"{size_c / MB:.1f} MiB", f"{size_b / MB:.1f} MiB (gzip -6)", f"{size_c / size_b:.3f}", "—", "info"),
    ("reproducible pack (sha256)", f"{len(hashes)} packs + 1 single-CPU pack: {len(set(hashes + [hash_1cpu]))} distinct",
     "—", "—", "identical",
     "PASS" if identical else "MISS"),
]
lines = ["| Measure | corezfs | Baseline | Ratio | Goal | Result |", "|---|---|---|---|---|---|"]
lines += ["| " + " | ".join(r) + " |" for r in rows]
table = "\n".join(lines)
if diag_rows:
    table += "\n\n| Diagnostic (interleaved, BENCH_DIAG=1) | Median wall | Ratio |\n|---|---|---|\n"
    table += "\n".join(f"| {n} | {v:.2f} s | {r} |" for n, v, r in diag_rows)

results.update({
    "pack": {"corezfs_s": pc, "baseline_s": pb, "ratio": r_pack, "rss_kib": rss_pack},
    "install": {"corezfs_s": ic, "baseline_s": ib, "ratio": r_inst, "rss_kib": rss_inst},
    "startup": {"corezfs_s": vc, "java_s": vj},
    "archive": {"corezfs_bytes": size_c, "baseline_bytes": size_b, "sha256": hashes, "sha256_one_cpu": hash_1cpu},
    "diagnostics": [dict(name=n, median_s=v, ratio=r) for n, v, r in diag_rows],
    "table_md": table,
})
with open(os.path.join(bench, "results.json"), "w") as f:
    json.dump(results, f, indent=1)
header = (f"Tree: {stats['files']} files, {stats['dirs']} dirs, {stats['symlinks']} symlinks, "
          f"{stats['bytes'] / MB:.1f} MiB; {os.cpu_count()} CPUs; runs per side: {runs} (pack, install), "
          f"{vruns} (startup); {time.strftime('%Y-%m-%d %H:%M:%S')}\n"
          f"corezfs archive sha256: {hashes[0]}")
with open(os.path.join(bench, "results.md"), "w") as f:
    f.write(header + "\n\n" + table + "\n")
print()
print(header)
print()
print(table)
print()
print(f"Written: {os.path.join(bench, 'results.md')}, {os.path.join(bench, 'results.json')}")
PY
