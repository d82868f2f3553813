#!/usr/bin/env bash
# corezfs fleet's three figures, measured in one run against sshd containers of the lab image (lab/sshd-image.sh) on
# 127.0.0.1 ports: (a) install to 8 hosts against 1 host, same archive; (b) bytes a resumed push sends against the
# bytes missing; (c) pushing the archive to one host (fleet prepare) against scp of the same file to the same sshd.
# Results: target/bench-fleet/results.md. BENCH_RUNS (default 3) interleaved runs per measure; medians are reported.
# BENCH_BEFORE_TOOL: an earlier build's launcher, to time its push beside this tree's in the same run.
# Needs root (the lab image), Docker (lab/docker.sh), ssh-keygen and scp, and the packaged tool (mvn -DskipTests package).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
work=$repo/target/bench-fleet
runs=${BENCH_RUNS:-3}
kernel=5.15.119-flatcar
corezfs=$repo/target/corezfs/bin/corezfs
# Optional: an earlier build's target/corezfs/bin/corezfs, whose fleet prepare is timed beside this tree's.
before=${BENCH_BEFORE_TOOL:-}
log() { printf '[bench-fleet %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[bench-fleet] error: %s\n' "$*" >&2; exit 1; }

shopt -s nullglob
bundles=("$repo"/target/corezfs-*-linux-x86_64.tar.gz)
shopt -u nullglob
[[ -x $corezfs && ${#bundles[@]} -eq 1 ]] || die "run mvn -DskipTests package first (target/corezfs and the bundle)"
# A build older than the sources would measure other code, or fail on options it does not know yet.
newer=$(find src pom.xml -newer "$repo/target/corezfs/lib/corezfs.jar" -type f -print -quit)
[[ -z $newer ]] || die "target/corezfs is older than $newer; run mvn -DskipTests package again"
bundle=${bundles[0]}
for t in docker ssh-keygen scp python3; do command -v "$t" >/dev/null || die "$t is required"; done
image=$(bash lab/sshd-image.sh | tail -n1)
mkdir -p "$work"

# --- inputs: a key, a Flatcar-like root, the benchmark tree packed into an archive for it ---------------------
key=$work/id_ed25519
[[ -f $key ]] || ssh-keygen -q -t ed25519 -N '' -C bench-fleet -f "$key"
root=$work/root
rm -rf "$root"
mkdir -p "$root/usr/share/flatcar" "$root/usr/lib" "$root/etc" "$root/proc/sys/kernel"
printf '%s\n' FLATCAR_RELEASE_VERSION=3975.2.0 FLATCAR_RELEASE_BOARD=amd64-usr FLATCAR_RELEASE_APPID='{e96281a6-d1af-4bde-9a0a-97b76e56dc57}' \
    >"$root/usr/share/flatcar/release"
echo GROUP=stable >"$root/usr/share/flatcar/update.conf"
printf '%s\n' ID=flatcar VERSION_ID=3975.2.0 >"$root/usr/lib/os-release"
ln -s ../usr/lib/os-release "$root/etc/os-release"
echo "$kernel" >"$root/proc/sys/kernel/osrelease"
chmod 0755 "$root"
archive=$work/corezfs_amd64-usr_3975.2.0_stable_zfs-2.1.11.tar.gz
if [[ ! -f $archive ]]; then
    log "generating the benchmark tree and packing it"
    rm -rf "$work/tree" && mkdir -p "$work/tree"
    python3 bench/gen_tree.py "$work/tree" "$kernel"
    SOURCE_DATE_EPOCH=1700000000 "$corezfs" -q archive pack "$work/tree" --root "$root" --zfs-version 2.1.11 -o "$archive"
fi
size=$(stat -c %s "$archive")
log "archive: $((size / 1048576)) MiB; bundle: $(($(stat -c %s "$bundle") / 1048576)) MiB"

# --- nodes ------------------------------------------------------------------------------------------------------
ids=()
ports=()
cleanup() { ((${#ids[@]})) && docker rm -f "${ids[@]}" >/dev/null 2>&1; pkill_proxy; true; }
proxy_pid=
pkill_proxy() { [[ -n $proxy_pid ]] && kill "$proxy_pid" 2>/dev/null; proxy_pid=; }
trap cleanup EXIT
: >"$work/known_hosts"
mkdir -p "$work/lab"
cp "$key.pub" "$work/lab/authorized_keys"
for i in 1 2 3 4 5 6 7 8; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    id=$(docker create --network host --label io.corezfs.fleet-bench=1 "$image" /usr/local/sbin/lab-sshd "$port")
    ids+=("$id")
    ports+=("$port")
    docker cp "$work/lab" "$id:/lab"
    docker cp "$root" "$id:/flatcar.orig"
    docker start "$id" >/dev/null
done
for i in "${!ids[@]}"; do
    for _ in $(seq 100); do docker logs "${ids[i]}" 2>&1 | grep -q 'Server listening' && break; sleep 0.2; done
    docker exec "${ids[i]}" cp -a /flatcar.orig /flatcar
    docker exec "${ids[i]}" sh -c 'cat /etc/ssh/ssh_host_*_key.pub' |
        awk -v p="${ports[i]}" '{print "[127.0.0.1]:" p " " $1 " " $2}' >>"$work/known_hosts"
done
reset() { docker exec "$1" sh -c 'rm -rf /var/lib/corezfs /flatcar && cp -a /flatcar.orig /flatcar'; }
fleet() { fleet_with "" "$@"; }
timed_fleet() { fleet_with timed "$@"; }
fleet_with() {
    local how=$1
    shift
    HOME=$work ${how:+"$how"} "$corezfs" "${quiet[@]}" fleet "$@" --known-hosts "$work/known_hosts" --identity "$key" --remote-root /flatcar \
        --state "$work/state.json" --bundle "$bundle" --canary 0 --command-timeout 10m
}
quiet=(-q)
now() { date +%s.%N; }
# CPU seconds a node's container has used (cgroup v1 cpuacct, else v2 cpu.stat): sshd, the shell and the node's corezfs.
nodecpu() {
    local v1=/sys/fs/cgroup/cpuacct/docker/$1/cpuacct.usage v2=/sys/fs/cgroup/system.slice/docker-$1.scope/cpu.stat
    if [[ -r $v1 ]]; then
        echo "scale=3; $(cat "$v1") / 1000000000" | bc
    elif [[ -r $v2 ]]; then
        echo "scale=3; $(awk '$1 == "usage_usec" {print $2}' "$v2") / 1000000" | bc
    else
        echo 0
    fi
}
# The summed CPU seconds of the given containers.
nodescpu() { local t=0 id; for id in "$@"; do t=$(echo "$t + $(nodecpu "$id")" | bc); done; echo "$t"; }
# Runs the command; its own CPU seconds (user + sys) go to $work/cpu.txt, read back by cpu_of.
timed() { /usr/bin/time -o "$work/cpu.txt" -f '%U %S' "$@"; }
cpu_of() { awk '{print $1 + $2}' "$work/cpu.txt"; }
hosts8=()
for p in "${ports[@]}"; do hosts8+=("127.0.0.1:$p"); done
host1=${hosts8[0]}

log "warming up: the bundle goes to every node once (not measured)"
fleet install "${hosts8[@]}" --archive "$archive" --parallel 8 >/dev/null

: >"$work/raw.txt"
for r in $(seq "$runs"); do
    log "run $r/$runs"
    echo "load $(cut -d' ' -f1 /proc/loadavg)" >>"$work/raw.txt"
    reset "${ids[0]}"; rm -f "$work/state.json"
    c0=$(nodecpu "${ids[0]}")
    t0=$(now); timed_fleet install "$host1" --archive "$archive" >/dev/null; t1=$(now)
    echo "one $(echo "$t1 - $t0" | bc)" >>"$work/raw.txt"
    echo "onecpu_admin $(cpu_of)" >>"$work/raw.txt"
    echo "onecpu_node $(echo "$(nodecpu "${ids[0]}") - $c0" | bc)" >>"$work/raw.txt"
    for id in "${ids[@]}"; do reset "$id"; done; rm -f "$work/state.json"
    c0=$(nodescpu "${ids[@]}")
    t0=$(now); timed_fleet install "${hosts8[@]}" --archive "$archive" --parallel 8 >/dev/null; t1=$(now)
    echo "eight $(echo "$t1 - $t0" | bc)" >>"$work/raw.txt"
    echo "eightcpu_admin $(cpu_of)" >>"$work/raw.txt"
    echo "eightcpu_node $(echo "$(nodescpu "${ids[@]}") - $c0" | bc)" >>"$work/raw.txt"
    reset "${ids[0]}"; rm -f "$work/state.json"
    quiet=()
    t0=$(now); timed_fleet prepare "$host1" --archive "$archive" >/dev/null 2>"$work/prepare.err"; t1=$(now)
    quiet=(-q)
    echo "push $(echo "$t1 - $t0" | bc)" >>"$work/raw.txt"
    echo "pushcpu_admin $(cpu_of)" >>"$work/raw.txt"
    if [[ -n $before ]]; then
        # The same push by an earlier build's launcher (BENCH_BEFORE_TOOL), right after: a change measured in one run.
        reset "${ids[0]}"; rm -f "$work/state.json"
        t0=$(now); corezfs=$before timed_fleet prepare "$host1" --archive "$archive" >/dev/null 2>&1; t1=$(now)
        echo "pushbefore $(echo "$t1 - $t0" | bc)" >>"$work/raw.txt"
        echo "pushbeforecpu_admin $(cpu_of)" >>"$work/raw.txt"
    fi
    # The node's own time: from its connection to the archive verified and renamed, without this JVM's start.
    echo "pushnode $(sed -n 's/.*: ok in \([0-9.]*\) s$/\1/p' "$work/prepare.err" | tail -n1)" >>"$work/raw.txt"
    # Orchestration alone: a light command (status) on 8 hosts against 1.
    t0=$(now); fleet status "$host1" >/dev/null; t1=$(now)
    echo "status1 $(echo "$t1 - $t0" | bc)" >>"$work/raw.txt"
    t0=$(now); fleet status "${hosts8[@]}" --parallel 8 >/dev/null; t1=$(now)
    echo "status8 $(echo "$t1 - $t0" | bc)" >>"$work/raw.txt"
    docker exec "${ids[0]}" rm -f /tmp/scp.bin
    t0=$(now)
    timed scp -q -i "$key" -o UserKnownHostsFile="$work/known_hosts" -o StrictHostKeyChecking=yes -P "${ports[0]}" \
        "$archive" "core@127.0.0.1:/tmp/scp.bin"
    t1=$(now)
    echo "scp $(echo "$t1 - $t0" | bc)" >>"$work/raw.txt"
    echo "scpcpu_admin $(cpu_of)" >>"$work/raw.txt"
    # Resume: cut the push at about half the archive, then --resume.
    reset "${ids[0]}"; rm -f "$work/state.json" "$work/proxy.port"
    python3 bench/cutproxy.py "${ports[0]}" $((size / 2)) "$work/proxy.port" &
    proxy_pid=$!
    for _ in $(seq 50); do [[ -s $work/proxy.port ]] && break; sleep 0.1; done
    pport=$(cat "$work/proxy.port")
    docker exec "${ids[0]}" sh -c 'cat /etc/ssh/ssh_host_*_key.pub' |
        awk -v p="$pport" '{print "[127.0.0.1]:" p " " $1 " " $2}' >>"$work/known_hosts"
    fleet install "127.0.0.1:$pport" --archive "$archive" >/dev/null 2>&1 || true
    pkill_proxy
    partial=/flatcar/var/lib/corezfs/archives/.$(basename "$archive").partial
    have=-1
    for _ in $(seq 50); do
        n=$(docker exec "${ids[0]}" stat -c %s "$partial")
        [[ $n == "$have" ]] && break
        have=$n; sleep 0.2
    done
    sent=$(fleet install "127.0.0.1:${ports[0]}" --archive "$archive" --resume --json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["hosts"][0]["bytesSent"])')
    echo "resume $((size - have)) $sent" >>"$work/raw.txt"
done

python3 - "$work/raw.txt" "$runs" "$size" "$(nproc)" >"$work/results.md" <<'PY'
import statistics, sys
raw, runs, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
m = {}
resume = []
for line in open(raw):
    k, *v = line.split()
    if k == "resume":
        resume.append((int(v[0]), int(v[1])))
    else:
        m.setdefault(k, []).append(float(v[0]))
med = {k: statistics.median(v) for k, v in m.items()}
print(f"runs: {runs}, archive {size / 1048576:.1f} MiB\n")
print("| Measure | corezfs fleet | Baseline | Ratio | Goal |")
print("|---|---|---|---|---|")
print(f"| a. install, 8 hosts --parallel 8 vs 1 host (wall, median) | {med['eight']:.2f} s | {med['one']:.2f} s | {med['eight'] / med['one']:.2f} | ≤ 1.3 |")
worst = max(s / miss for miss, s in resume)
print(f"| b. resumed push: bytes sent vs bytes missing (worst of {len(resume)}) | {resume[-1][1]} B | {resume[-1][0]} B | {worst:.4f} | ≤ 1.05 |")
print(f"| c. push to 1 host (fleet prepare) vs scp (wall, median) | {med['push']:.2f} s | {med['scp']:.2f} s | {med['push'] / med['scp']:.2f} | ≤ 1.2 |")
print(f"| c'. the node's part of that push (connect, probe, send, sha256 on the node, rename) vs scp | {med['pushnode']:.2f} s | {med['scp']:.2f} s | {med['pushnode'] / med['scp']:.2f} | info |")
print(f"| a'. status, 8 hosts --parallel 8 vs 1 host (wall, median) | {med['status8']:.2f} s | {med['status1']:.2f} s | {med['status8'] / med['status1']:.2f} | info |")
# The CPU an install takes, in the nodes' containers and the admin's process: on this machine's cores, that sum over
# the cores is a floor under the wall time, whatever the parallelism.
cores = int(sys.argv[4])
one_cpu = med["onecpu_node"] + med["onecpu_admin"]
eight_cpu = med["eightcpu_node"] + med["eightcpu_admin"]
print(f"| a-cpu. CPU of the install (nodes' containers + admin), 8 hosts vs 1 (median) | {eight_cpu:.2f} s | {one_cpu:.2f} s | {eight_cpu / one_cpu:.2f} | info |")
per = med["eightcpu_node"] / 8
print(f"| a-node. node CPU per host, 8-host run vs 1-host run (median) | {per:.2f} s | {med['onecpu_node']:.2f} s | {per / med['onecpu_node']:.2f} | info |")
print(f"| a-floor. 8 hosts: wall vs the CPU floor (CPU / {cores} cores) | {med['eight']:.2f} s | {eight_cpu / cores:.2f} s | {med['eight'] / (eight_cpu / cores):.2f} | info |")
print(f"| c-cpu. admin CPU of the push (user+sys) vs scp's (median) | {med['pushcpu_admin']:.2f} s | {med['scpcpu_admin']:.2f} s | {med['pushcpu_admin'] / med['scpcpu_admin']:.2f} | info |")
if "pushbefore" in med:
    print(f"| c-before. push to 1 host, this tree vs BENCH_BEFORE_TOOL (wall, median) | {med['push']:.2f} s | {med['pushbefore']:.2f} s | {med['push'] / med['pushbefore']:.2f} | info |")
    print(f"| c-before-cpu. its admin CPU, this tree vs BENCH_BEFORE_TOOL (median) | {med['pushcpu_admin']:.2f} s | {med['pushbeforecpu_admin']:.2f} s | {med['pushcpu_admin'] / med['pushbeforecpu_admin']:.2f} | info |")
print("\nload average (1 min) at the start of each run: " + ", ".join(f"{x:.2f}" for x in m["load"]))
print("\nraw (s): " + "; ".join(f"{k} " + ", ".join(f"{x:.2f}" for x in v) for k, v in m.items()))
PY
cat "$work/results.md"
