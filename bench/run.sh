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
# A deterministic tree shaped like an OpenZFS build (bench/gen_tree.py), regenerated when the generator or the kernel
# changes.
gen="$repo/bench/gen_tree.py"
stamp="$(printf '%s\n%s\n' "$(cat "$gen")" "$kernel" | sha256sum | cut -c1-16)"
if [ ! -f "$bench/tree.stamp" ] || [ "$(cat "$bench/tree.stamp")" != "$stamp" ] || [ ! -d "$tree" ]; then
  log "generating the tree under $tree (seed 42)"
  rm -rf "$tree" "$bench/tree.stamp"
  mkdir -p "$tree"
  python3 "$gen" "$tree" "$kernel"
  echo "$stamp" > "$bench/tree.stamp"
fi

# --- measure -----------------------------------------------------------------------------------------------------
log "measuring: $runs runs per side for pack/install, $version_runs for startup (interleaved)"
# No stdin for the measured programs: every run sees the same empty input.
python3 "$repo/bench/measure.py" "$corezfs" "$tree" "$work" "$kernel" "$runs" "$version_runs" "$java_bin" "$bench" \
  "${BENCH_DIAG:-0}" </dev/null
