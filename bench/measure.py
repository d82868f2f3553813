"""Measures corezfs against its baselines and writes the report, for bench/run.sh.

Usage: python3 bench/measure.py COREZFS TREE WORK KERNEL RUNS VERSION_RUNS JAVA BENCH DIAG

Interleaved A B A B runs (medians over RUNS per side, after a warm-up) of:
  a. `corezfs archive pack TREE` against `tar -c | gzip -6`, plus the sha256 of every pack and of one pack pinned
     to a single CPU (the pack must be reproducible);
  b. `corezfs install --root` of that archive against `tar -xzf`, after checking once that the installed tree is
     TREE's opt/corezfs and etc, file for file;
  c. the peak RSS of pack and install (GNU time %M);
  d. `corezfs --version` against `java -version` (VERSION_RUNS each);
and, when DIAG is 1, the diagnostics of BENCHMARKS.md (C1-only against the C2 JIT, archive verify against
`gzip -dc | sha256sum`). All scratch files are under WORK (emptied first). Writes BENCH/results.json and
BENCH/results.md, prints the table on stdout and the progress on stderr; exits non-zero when a command fails or
an installed tree differs from TREE.
"""
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
