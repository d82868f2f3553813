#!/usr/bin/env bash
# Start-up of the CLI, each figure against `java -version` of the same bundled runtime measured in the same run:
#
#   java -version                     the bare JVM (baseline)
#   before  --version / status --json the bundle of BENCH_BEFORE_REV: every command's model built, no app archive
#   no-cds  --version / status --json this tree's bundle with COREZFS_CDS=off: only the named command built
#   after   --version / status --json this tree's bundle as shipped: that, plus the class data archive
#
#   bash bench/startup.sh
#
# Knobs (environment):
#   BENCH_RUNS=20             timed runs per command (after 3 warm-up runs)
#   BENCH_TOOL=auto           hyperfine (installed with apt-get when missing and run as root) or loop (date +%s%N,
#                             the commands interleaved round by round); auto takes hyperfine when it can
#   BENCH_BEFORE_REV=95f02d8  the revision measured as "before" (the last one without the start-up work)
#   BENCH_REBUILD=1           rebuild this tree's bundle even if target/ holds one
#
# Everything it writes lives under target/bench/startup/ (git-ignored); the "before" bundle is built once per
# revision, from `git archive`, in target/bench/startup/before-src (removed afterwards). Results: results.json and a table on stdout.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
work="$repo/target/bench/startup"
runs=${BENCH_RUNS:-20}
tool=${BENCH_TOOL:-auto}
before_rev=${BENCH_BEFORE_REV:-95f02d8}
mkdir -p "$work"

log() { printf '[startup] %s\n' "$*" >&2; }
die() { printf '[startup] error: %s\n' "$*" >&2; exit 1; }

for t in python3 tar git mvn; do
  command -v "$t" >/dev/null 2>&1 || die "$t is required"
done

# --- tool ----------------------------------------------------------------------------------------------------
if [ "$tool" = auto ] || [ "$tool" = hyperfine ]; then
  if ! command -v hyperfine >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    log "installing hyperfine (Debian package)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q hyperfine >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q hyperfine >/dev/null 2>&1; } \
      || log "could not install hyperfine"
  fi
  if command -v hyperfine >/dev/null 2>&1; then
    tool=hyperfine
  elif [ "$tool" = hyperfine ]; then
    die "hyperfine is not installed"
  else
    tool=loop
  fi
fi
[ "$tool" = hyperfine ] || [ "$tool" = loop ] || die "BENCH_TOOL must be auto, hyperfine or loop"

# --- bundles -------------------------------------------------------------------------------------------------
bundle_in() { ls "$1"/target/corezfs-*-linux-x86_64.tar.gz 2>/dev/null | head -n 1; }

after_tgz=$(bundle_in "$repo")
if [ -z "$after_tgz" ] || [ "${BENCH_REBUILD:-0}" = 1 ]; then
  log "building this tree's bundle"
  mvn -B -ntp -q -DskipTests package >&2
  after_tgz=$(bundle_in "$repo")
fi
[ -n "$after_tgz" ] || die "no bundle in target/ (only a Linux x86_64 build makes one)"

before_rev_full=$(git rev-parse --verify "$before_rev^{commit}") || die "unknown revision $before_rev"
before_tgz="$work/before-${before_rev_full:0:12}.tar.gz"
if [ ! -f "$before_tgz" ]; then
  log "building the bundle of $before_rev (once)"
  src="$work/before-src"
  rm -rf "$src"
  mkdir -p "$src"
  git archive "$before_rev_full" | tar -x -C "$src"
  (cd "$src" && mvn -B -ntp -q -DskipTests package >&2)
  cp "$(bundle_in "$src")" "$before_tgz"
  rm -rf "$src"
fi

unpack() {
  rm -rf "${work:?}/${1:?}"
  mkdir -p "$work/$1"
  tar -xzf "$2" -C "$work/$1"
  ls -d "$work/$1"/corezfs-*
}
before=$(unpack before "$before_tgz")
after=$(unpack after "$after_tgz")

# A Flatcar host under --root: the release files and the kernel, nothing installed.
root="$work/root"
rm -rf "$root"
mkdir -p "$root/usr/share/flatcar" "$root/proc/sys/kernel"
printf 'FLATCAR_RELEASE_VERSION=3975.2.0\nFLATCAR_RELEASE_BOARD=amd64-usr\n' >"$root/usr/share/flatcar/release"
printf 'GROUP=stable\n' >"$root/usr/share/flatcar/update.conf"
printf '6.6.95-flatcar\n' >"$root/proc/sys/kernel/osrelease"

# No spaces in any of these paths: hyperfine -N splits its commands on them.
names=(java-version before-version nocds-version after-version before-status nocds-status after-status)
cmds=(
  "$after/runtime/bin/java -version"
  "$before/bin/corezfs --version"
  "env COREZFS_CDS=off $after/bin/corezfs --version"
  "$after/bin/corezfs --version"
  "$before/bin/corezfs status --json --root $root"
  "env COREZFS_CDS=off $after/bin/corezfs status --json --root $root"
  "$after/bin/corezfs status --json --root $root"
)
for c in "${cmds[@]}"; do
  $c >/dev/null 2>&1 || die "fails: $c"
done
# Each variant really is what it says: the archive maps for "after" and is absent for the others.
"$after/bin/corezfs" --version >/dev/null 2>&1 \
  || die "the after bundle does not start"
COREZFS_JAVA_OPTS="-Xshare:on -XX:SharedArchiveFile=/proc/self/fd/9/lib/cds/corezfs.jsa" "$after/bin/corezfs" --version \
  >/dev/null 2>&1 || die "the after bundle's class data archive does not map"
[ ! -e "$before/lib/cds/corezfs.jsa" ] || log "note: the before bundle already has an archive"

log "$tool: $runs runs per command, load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
times="$work/times"
rm -rf "$times"
mkdir -p "$times"
if [ "$tool" = hyperfine ]; then
  args=()
  for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
  hyperfine -N --style basic --warmup 3 --runs "$runs" --export-json "$times/hyperfine.json" "${args[@]}" >&2
else
  for i in 1 2 3; do for c in "${cmds[@]}"; do $c >/dev/null 2>&1; done; done
  for ((r = 0; r < runs; r++)); do
    for i in "${!names[@]}"; do
      s=$(date +%s%N)
      ${cmds[$i]} >/dev/null 2>&1
      e=$(date +%s%N)
      echo $(((e - s) / 1000)) >>"$times/${names[$i]}"
    done
  done
fi

python3 - "$tool" "$times" "$work/results.json" "$runs" "${names[@]}" <<'PY'
import json, os, statistics, sys
tool, times, out, runs, names = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
r = {}
if tool == "hyperfine":
    for x in json.load(open(os.path.join(times, "hyperfine.json")))["results"]:
        r[x["command"]] = {"median": x["median"], "mean": x["mean"], "min": x["min"], "max": x["max"],
                           "cpu": x["user"] + x["system"]}
else:
    for n in names:
        t = [int(l) / 1e6 for l in open(os.path.join(times, n))]
        r[n] = {"median": statistics.median(t), "mean": statistics.mean(t), "min": min(t), "max": max(t), "cpu": None}
base = r["java-version"]["median"]
print(f"| Command | median | mean | min–max | CPU (user+sys, mean) | ÷ java -version |")
print("|---|---|---|---|---|---|")
for n in names:
    x = r[n]
    cpu = "—" if x["cpu"] is None else f"{x['cpu']:.3f} s"
    print(f"| {n} | {x['median']:.3f} s | {x['mean']:.3f} s | {x['min']:.3f}–{x['max']:.3f} s | {cpu} | {x['median'] / base:.2f} |")
ver = r["after-version"]["median"] / base
st = r["after-status"]["median"]
print()
print(f"goal --version <= 3x java -version: {ver:.2f}x -> {'PASS' if ver <= 3 else 'MISS'}")
print(f"goal status --json <= 0.25 s: {st:.3f} s -> {'PASS' if st <= 0.25 else 'MISS'}")
json.dump({"tool": tool, "runs": runs, "results": r, "version_ratio": ver, "status_seconds": st}, open(out, "w"), indent=2)
PY
