#!/usr/bin/env bash
# Image import benchmark (issue: build, performance): corezfs's import path against `tar -C MNT -c . | docker import -`,
# both reading the same loop-mounted ROOT partition of the lab's developer container, in the same run.
#
#   sudo bench/import.sh                       (BENCH_IMPORT_RUNS=3 timed runs per side)
#
# Sides, interleaved and rotated each round so load and page cache hit them alike:
#   shell   tar --numeric-owner --xattrs -C MNT -c . | docker import - REPO:TAG
#   java    bench/ImportBench.java on this tree's classes: the same tar, started through HostCommands, streamed into
#           DockerJavaEngine.importImage (what `corezfs build` does after mounting); wall time of the whole JVM,
#           with the launcher's JVM flags, and its peak RSS
#   before  the same with DockerJavaEngine.java as of BENCH_IMPORT_BEFORE (default: the merge base with main),
#           compiled in front of this tree's classes; skipped when that version already has the socket path, or
#           with BENCH_IMPORT_BEFORE=none
# Besides wall time, each run records the CPU time of the client side (tar and the docker CLI, or the JVM and its
# tar) and of dockerd during the run; on a loaded machine that sum varies less than wall time.
# Each image is removed after its run and `sync` runs before each, so no run pays for another's writeback. One
# untimed import comes first (the first import after mounting was always the fastest, whichever side it was).
#
# Needs root (loop mount), a running engine (lab/docker.sh) and the lab (lab/all.sh; LAB_CACHE is honoured).
# Scratch: target/bench/import/ (the decompressed disk is kept there for the next run).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
source lab/lib.sh

runs=${BENCH_IMPORT_RUNS:-3}
work="$repo/target/bench/import"
bz2="$LAB_MIRROR/$LAB_FLATCAR_BOARD/$LAB_FLATCAR_VERSION/$LAB_DEVCONTAINER_NAME"
disk="$work/disk.img"
mnt="$work/mnt"
jvm=(java -XX:+UseSerialGC -Xss1m -Xmx192m -Xshare:auto)   # as bin/corezfs starts it
repo_prefix=corezfs-bench
log() { printf '[bench] %s\n' "$*" >&2; }

[[ $(id -u) == 0 ]] || die "needs root for the loop mount"
[[ -f $bz2 ]] || die "no developer container at $bz2; run: sudo lab/all.sh"
docker info >/dev/null 2>&1 || die "the Docker engine is not running (bash lab/docker.sh)"
[[ -x /usr/bin/time ]] || apt-get install -y -qq time >/dev/null

mkdir -p "$work/classes" "$mnt"
cleanup() {
    if mountpoint -q "$mnt"; then umount "$mnt"; fi
    docker images --format '{{.Repository}}:{{.Tag}}' | grep "^$repo_prefix/" | xargs -r docker rmi -f >/dev/null 2>&1 || true
}
trap cleanup EXIT

# --- classes: always this tree's current code ---------------------------------------------------------------------
log "building the distribution (mvn -q -B -ntp -DskipTests package)"
mvn -q -B -ntp -DskipTests package >&2
lib="$repo/target/corezfs/lib"
javac -d "$work/classes" -cp "$lib/*" bench/ImportBench.java
sides=(shell java)
before=${BENCH_IMPORT_BEFORE:-$(git merge-base HEAD main 2>/dev/null || echo none)}
if [[ $before != none ]]; then
    rm -rf "$work/before" && mkdir -p "$work/before"
    # The engine lived in io/corezfs/build before the package restructure.
    git show "$before:src/main/java/io/corezfs/docker/DockerJavaEngine.java" >"$work/before/DockerJavaEngine.java" 2>/dev/null ||
        git show "$before:src/main/java/io/corezfs/build/DockerJavaEngine.java" >"$work/before/DockerJavaEngine.java"
    if grep -q 'SocketImport\|UnixDomainSocket' "$work/before/DockerJavaEngine.java"; then
        log "DockerJavaEngine at $before already writes to the socket itself; no 'before' side"
    else
        javac -nowarn -d "$work/before" -cp "$lib/*" "$work/before/DockerJavaEngine.java"
        sides+=(before)
    fi
fi
cp_of() { case $1 in java) echo "$work/classes:$lib/*" ;; before) echo "$work/before:$work/classes:$lib/*" ;; esac; }

# --- the mounted image, as corezfs mounts it ------------------------------------------------------------------------
if mountpoint -q "$mnt"; then umount "$mnt"; fi
stamp="$(stat -c '%s %Y %i' "$bz2")"
if [[ ! -f $disk || $(cat "$work/disk.stamp" 2>/dev/null) != "$stamp" ]]; then
    log "decompressing $bz2 (sparse)"
    lbzip2 -dc "$bz2" | dd of="$disk.tmp" bs=1M conv=sparse iflag=fullblock status=none
    mv -f "$disk.tmp" "$disk"
    echo "$stamp" >"$work/disk.stamp"
fi
offset=$(partition_offset "$disk" 9)
mount -o "loop,ro,offset=$offset" -t ext4 "$disk" "$mnt"
log "mounted ROOT: $(du -sm "$mnt" | cut -f1) MiB in $(find "$mnt" -xdev | wc -l) entries"
tar -C "$mnt" -c . | cat >/dev/null   # page cache warm for every side alike

# --- runs -----------------------------------------------------------------------------------------------------------
now() { date +%s.%N; }
# CPU seconds (user + system) dockerd has used so far: the import's other half, and less noisy than wall time.
dockerd_pid=$(pidof dockerd | awk '{print $1}')
hz=$(getconf CLK_TCK)
dockerd_cpu() { awk -v hz="$hz" '{printf "%.2f\n", ($14 + $15) / hz}' "/proc/$dockerd_pid/stat"; }
one() { # one SIDE TAG: prints the wall time; appends "client_cpu dockerd_cpu" to $work/SIDE.cpu
    local side=$1 tag=$2 t0 t1 d0 d1 out
    sync; sleep 1
    d0=$(dockerd_cpu); t0=$(now)
    case $side in
    shell) /usr/bin/time -f 'cpu=%U %S' -o "$work/time.out" bash -c 'tar --numeric-owner --xattrs -C "$1" -c . \
               | docker import - "$2" >/dev/null' _ "$mnt" "$repo_prefix/$side:$tag"
           out=$(cat "$work/time.out") ;;
    *) out=$(/usr/bin/time -f 'max_rss_kb=%M'$'\n''cpu=%U %S' "${jvm[@]}" -cp "$(cp_of "$side")" ImportBench "$mnt" \
            "$repo_prefix/$side" "$tag" 2>&1) || { printf '%s\n' "$out" >&2; exit 1; } ;;
    esac
    t1=$(now); d1=$(dockerd_cpu)
    [[ $side == shell ]] || grep -E '^(import_ms|vm_hwm_kb|max_rss_kb)=' <<<"$out" | paste -sd' ' >>"$work/$side.log"
    printf '%s %s\n' "$(grep '^cpu=' <<<"$out" | cut -d= -f2 | awk '{print $1 + $2}')" "$(echo "$d1 - $d0" | bc)" \
        >>"$work/$side.cpu"
    docker rmi "$repo_prefix/$side:$tag" >/dev/null
    echo "$t1 - $t0" | bc
}
for s in "${sides[@]}"; do : >"$work/$s.log"; : >"$work/$s.times"; : >"$work/$s.cpu"; done
log "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
log "untimed warm-up import"
one shell 0 >/dev/null
: >"$work/shell.cpu"
n=${#sides[@]}
for ((r = 1; r <= runs; r++)); do
    line="round $r:"
    for ((k = 0; k < n; k++)); do
        s=${sides[$(((k + r - 1) % n))]}    # rotate who goes first
        t=$(one "$s" "$r")
        echo "$t" >>"$work/$s.times"
        line+=$(printf '  %s %.2f s' "$s" "$t")
    done
    log "$line   (load $(cut -d' ' -f1 /proc/loadavg))"
done

median() { sort -g "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
pairs() { paste "$work/$1.times" "$work/shell.times" | awk '{r=$1/$2; if (NR==1||r<lo) lo=r; if (NR==1||r>hi) hi=r} END {printf "%.2f-%.2f", lo, hi}'; }
cpu_col() { awk -v c="$2" '{print $c}' "$work/$1.cpu" >"$work/$1.cpu$2"; median "$work/$1.cpu$2"; }
cpu_sum() { awk '{print $1 + $2}' "$work/$1.cpu" >"$work/$1.cpusum"; median "$work/$1.cpusum"; }
ms=$(median "$work/shell.times"); cs=$(cpu_sum shell)
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
{
    printf '| Side | median wall (%d runs) | ratio to tar \\| docker import | per-round ratios | CPU: client + dockerd (median) | CPU ratio | JVM peak RSS (max) |\n' "$runs"
    printf '|---|---|---|---|---|---|---|\n'
    printf '| tar \\| docker import - | %.2f s | 1.00 | | %.1f + %.1f s | 1.00 | |\n' "$ms" "$(cpu_col shell 1)" "$(cpu_col shell 2)"
    for s in "${sides[@]:1}"; do
        m=$(median "$work/$s.times")
        rss=$(grep -o 'max_rss_kb=[0-9]*' "$work/$s.log" | cut -d= -f2 | sort -n | tail -1)
        printf '| %s | %.2f s | %.2f | %s | %.1f + %.1f s | %.2f | %d MiB |\n' "$s" "$m" "$(echo "$m / $ms" | bc -l)" \
            "$(pairs "$s")" "$(cpu_col "$s" 1)" "$(cpu_col "$s" 2)" "$(echo "$(cpu_sum "$s") / $cs" | bc -l)" "$((rss / 1024))"
    done
} | tee "$work/results.md"
