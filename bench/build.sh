#!/usr/bin/env bash
# Build benchmarks (issue: build), each against a baseline measured in the same run:
#   1. `corezfs build` with a cached developer image  vs  raw `configure && make && make install` in the same image
#   2. JVM peak RSS of `corezfs build` when it must download, verify and import the developer container
# Needs the lab (bash lab/all.sh) and a running engine (bash lab/docker.sh). Scratch data: target/bench/build/.
#   BENCH_BUILD_RUNS=1  timed runs per side (each is a full compile of OpenZFS: ~4 min on 2 cores)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
source lab/lib.sh
runs=${BENCH_BUILD_RUNS:-1}
work="$repo/target/bench/build"
corezfs="$repo/target/corezfs/bin/corezfs"
image="corezfs/devcontainer:flatcar-$LAB_FLATCAR_VERSION"
src="$LAB_ZFS_ORIG"
mkdir -p "$work"
[ -x "$corezfs" ] || mvn -q -B -ntp -DskipTests package
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
log() { printf '[bench] %s\n' "$*" >&2; }

serve_pid=
cleanup() { [ -z "$serve_pid" ] || kill "$serve_pid" 2>/dev/null || true; }
trap cleanup EXIT
python3 -m http.server --bind 127.0.0.1 0 --directory "$LAB_MIRROR" >"$work/http.log" 2>&1 &
serve_pid=$!
for _ in $(seq 50); do port=$(grep -o 'port [0-9]*' "$work/http.log" | awk '{print $2}'); [ -n "$port" ] && break; sleep 0.1; done
mirror="http://127.0.0.1:$port"

# 2. First: a fresh cache and no image, so the tool downloads, verifies and imports; its peak RSS is measured.
docker image rm -f "$image" >/dev/null 2>&1 || true
rm -rf "$work/cache-fresh"
/usr/bin/time -f '%e %M' -o "$work/fresh.time" "$corezfs" -q build --root "$LAB_HOSTROOT" --release-mirror "$mirror" \
    --keyring "$LAB_PUBKEY" --zfs-source "$src" --cache-dir "$work/cache-fresh" -o "$work/fresh.tar.gz" >/dev/null
read -r fresh_s fresh_kb <"$work/fresh.time"
log "fresh build (download + verify + import + compile): ${fresh_s}s, JVM peak RSS $((fresh_kb / 1024)) MiB"

# The same configure options the tool's build script uses, so the baseline does the same compile.
raw_script='set -e; mkdir -p /w && cd /w && tar -xzf /src/zfs.tar.gz && cd zfs-* &&
KV='"$LAB_KV"'; T=/usr/lib/modules/$KV; libdir=$(dirname $(readlink -f $(gcc -print-file-name=libc.so.6)));
./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var --libdir=$libdir --bindir=/usr/bin --sbindir=/usr/sbin \
 --with-mounthelperdir=/usr/sbin --with-config=all --with-linux=$(readlink -f $T/source) --with-linux-obj=$(readlink -f $T/build) \
 --enable-systemd --disable-sysvinit --disable-pyzfs --disable-static --with-systemdunitdir=/usr/lib/systemd/system \
 --with-systemdpresetdir=/usr/lib/systemd/system-preset --with-systemdmodulesloaddir=/usr/lib/modules-load.d \
 --with-systemdgeneratordir=/usr/lib/systemd/system-generators --with-udevdir=/usr/lib/udev \
 --with-udevruledir=/usr/lib/udev/rules.d --with-dracutdir=/usr/lib/dracut >/dev/null && make -j2 >/dev/null && make install DESTDIR=/w/d >/dev/null'

a_times=() b_times=()
for i in $(seq "$runs"); do
    s=$(date +%s.%N)
    "$corezfs" -q build --root "$LAB_HOSTROOT" --dev-image "$image" --zfs-source "$src" --cache-dir "$work/cache" \
        -o "$work/a.tar.gz" >/dev/null
    a=$(echo "$(date +%s.%N) - $s" | bc); a_times+=("$a")
    s=$(date +%s.%N)
    docker run --rm --network none -v "$src:/src/zfs.tar.gz:ro" "$image" /bin/bash -c "$raw_script"
    b=$(echo "$(date +%s.%N) - $s" | bc); b_times+=("$b")
    log "run $i: corezfs build ${a}s, raw configure+make+install ${b}s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ma=$(median "${a_times[@]}"); mb=$(median "${b_times[@]}")
ratio=$(echo "scale=3; $ma / $mb" | bc)
printf '| corezfs build (cached image) | %.1f s | raw configure+make+install %.1f s | %s | <= 1.10 |\n' "$ma" "$mb" "$ratio"
printf '| JVM peak RSS, download + verify + import + build | %d MiB | | | <= 256 MB |\n' "$((fresh_kb / 1024))"
