#!/usr/bin/env bash
# Build benchmarks (issue: build), each against a baseline measured in the same run:
#   a. `corezfs build` with the developer image already imported  vs  a raw `configure && make && make install` of
#      the same tarball in a container of the same image (same configure options, same -j), interleaved
#   b. JVM peak RSS of a `corezfs build` that must download, verify, decompress and import the developer container
#      (measured first; it also imports the image that (a) uses)
#
#   sudo bench/build.sh          BENCH_BUILD_RUNS=1 timed runs per side (each is a full compile of OpenZFS)
#   BENCH_BUILD_FRESH=0          skip (b): import the image with plain `tar | docker import` instead (about a
#                                minute) and only measure (a)
#
# The engine is shared with other users, so the bench works on a release of its own: the lab's developer container
# served (hard links) under a private version, BENCH_BUILD_VERSION (default 9999.77.0), for a copy of the lab's host
# root that says that version. Its image corezfs/devcontainer:flatcar-<that version> is removed at the end; the
# lab's own image and tag are never touched. Before each `corezfs build` the bench waits until no other
# `corezfs.build` container runs, since a starting build removes the containers with that label.
#
# Needs root (loop mount), the lab (lab/all.sh; LAB_CACHE is honoured) and a running engine (lab/docker.sh).
# Scratch data: target/bench/build/ (results in results.md there).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
source lab/lib.sh
runs=${BENCH_BUILD_RUNS:-1}
version=${BENCH_BUILD_VERSION:-9999.77.0}
jobs=$(nproc)
work="$repo/target/bench/build"
corezfs="$repo/target/corezfs/bin/corezfs"
image="corezfs/devcontainer:flatcar-$version"
src="$LAB_ZFS_ORIG"
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[[ $(id -u) == 0 ]] || die "needs root (the fresh build loop-mounts the developer container)"
docker info >/dev/null 2>&1 || die "the Docker engine is not running (bash lab/docker.sh)"
[[ -x /usr/bin/time ]] || apt-get install -y -qq time >/dev/null
rm -rf "$work" && mkdir -p "$work"
log "building the distribution (mvn -q -B -ntp -DskipTests package)"
mvn -q -B -ntp -DskipTests package >&2

# The private release: mirror layout and host root.
rel="$LAB_FLATCAR_BOARD/$LAB_FLATCAR_VERSION"
mkdir -p "$work/mirror/$LAB_FLATCAR_BOARD/$version"
for f in "$LAB_MIRROR/$rel/$LAB_DEVCONTAINER_NAME"{,.sig,.DIGESTS}; do
    ln "$f" "$work/mirror/$LAB_FLATCAR_BOARD/$version/" 2>/dev/null || cp "$f" "$work/mirror/$LAB_FLATCAR_BOARD/$version/"
done
cp -a "$LAB_HOSTROOT" "$work/hostroot"
for f in usr/share/flatcar/release usr/lib/os-release; do
    sed -i "s/$LAB_FLATCAR_VERSION/$version/g" "$work/hostroot/$f"
done

serve_pid=
cleanup() {
    [[ -z $serve_pid ]] || kill "$serve_pid" 2>/dev/null || true
    if mountpoint -q "$work/mnt"; then umount "$work/mnt"; fi
    docker image rm -f "$image" >/dev/null 2>&1 || true
}
trap cleanup EXIT
"$LAB_PYTHON" -u -m http.server --bind 127.0.0.1 0 --directory "$work/mirror" >"$work/http.log" 2>&1 &
serve_pid=$!
port=
for _ in $(seq 100); do
    port=$(grep -o 'port [0-9]*' "$work/http.log" | awk '{print $2}' || true)
    [[ -n $port ]] && break
    sleep 0.1
done
[[ -n $port ]] || die "the mirror server did not start: $(cat "$work/http.log")"
mirror="http://127.0.0.1:$port"

# Each line of the tool's messages and of the raw build's phase marks, with the time it arrived: where time goes.
stamped() { while IFS= read -r l; do printf '%(%H:%M:%S)T %s\n' -1 "$l"; done; }

# A starting `corezfs build` removes every container labelled corezfs.build, also another user's running one.
wait_for_other_builds() {
    local said=
    while [[ -n $(docker ps -aq --filter label=corezfs.build) ]]; do
        [[ -n $said ]] || { log "waiting for another user's corezfs build to finish"; said=1; }
        sleep 10
    done
}

# b. Fresh cache, no image: download + verify + decompress + import + compile; peak RSS of the JVM.
docker image rm -f "$image" >/dev/null 2>&1 || true
fresh_kb=0 fresh_s=0
if [[ ${BENCH_BUILD_FRESH:-1} == 0 ]]; then
    log "importing $image with tar | docker import (BENCH_BUILD_FRESH=0)"
    mkdir -p "$work/mnt"
    lbzip2 -dc "$LAB_MIRROR/$rel/$LAB_DEVCONTAINER_NAME" | dd of="$work/disk.img" bs=1M conv=sparse iflag=fullblock status=none
    mount -o "loop,ro,offset=$(partition_offset "$work/disk.img" 9)" -t ext4 "$work/disk.img" "$work/mnt"
    tar --numeric-owner --xattrs -C "$work/mnt" -c . | docker import - "$image" >/dev/null
    umount "$work/mnt" && rm -f "$work/disk.img"
else
    wait_for_other_builds
    log "fresh build (download, verify, import, compile), load $(cut -d' ' -f1 /proc/loadavg)"
    /usr/bin/time -f '%e %M' -o "$work/fresh.time" "$corezfs" build --root "$work/hostroot" --release-mirror "$mirror" \
        --keyring "$LAB_PUBKEY" --zfs-source "$src" --cache-dir "$work/cache-fresh" -o "$work/fresh.tar.gz" \
        >/dev/null 2> >(stamped >"$work/fresh.err") || { cat "$work/fresh.err" >&2; exit 1; }
    read -r fresh_s fresh_kb <"$work/fresh.time"
    log "fresh build: ${fresh_s} s, JVM peak RSS $((fresh_kb / 1024)) MiB"
    sed 's/^/    /' "$work/fresh.err" >&2
fi

# a. The same configure options, -j and kernel tree as the tool's build script (build-zfs.sh), nothing else.
raw_script='set -e; echo unpacking >&2; mkdir -p /w && cd /w && tar -xzf /src/zfs.tar.gz && cd zfs-*; echo configuring >&2
T=/usr/lib/modules/'"$LAB_KV"'; libdir=$(dirname "$(readlink -f "$(gcc -print-file-name=libc.so.6)")")
./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var --libdir="$libdir" --bindir=/usr/bin \
 --sbindir=/usr/sbin --with-mounthelperdir=/usr/sbin --with-config=all --with-linux="$(readlink -f $T/source)" \
 --with-linux-obj="$(readlink -f $T/build)" --enable-systemd --disable-sysvinit --disable-pyzfs --disable-static \
 --with-systemdunitdir=/usr/lib/systemd/system --with-systemdpresetdir=/usr/lib/systemd/system-preset \
 --with-systemdmodulesloaddir=/usr/lib/modules-load.d --with-systemdgeneratordir=/usr/lib/systemd/system-generators \
 --with-udevdir=/usr/lib/udev --with-udevruledir=/usr/lib/udev/rules.d --with-dracutdir=/usr/lib/dracut >/dev/null
echo compiling >&2; make -j'"$jobs"' >/dev/null; echo installing >&2; make install DESTDIR=/w/d >/dev/null; echo done >&2'

now() { date +%s.%N; }
side_a() {
    wait_for_other_builds
    local t0; t0=$(now)
    "$corezfs" build --root "$work/hostroot" --dev-image "$image" --zfs-source "$src" --cache-dir "$work/cache" \
        --jobs "$jobs" -o "$work/a.tar.gz" >/dev/null 2> >(stamped >>"$work/a.err") || { cat "$work/a.err" >&2; exit 1; }
    echo "$(now) - $t0" | bc
    rm -f "$work/a.tar.gz"
}
side_b() {
    local t0; t0=$(now)
    docker run --rm --network none -v "$src:/src/zfs.tar.gz:ro" "$image" /bin/bash -c "$raw_script" 2>&1 \
        | stamped >>"$work/b.err"
    [[ ${PIPESTATUS[0]} == 0 ]] || { tail -30 "$work/b.err" >&2; exit 1; }
    echo "$(now) - $t0" | bc
}
: >"$work/a.times"; : >"$work/b.times"
for ((i = 1; i <= runs; i++)); do
    sync
    if ((i % 2)); then a=$(side_a); sync; b=$(side_b); else b=$(side_b); sync; a=$(side_a); fi
    echo "$a" >>"$work/a.times"; echo "$b" >>"$work/b.times"
    log "run $i: corezfs build ${a} s, raw configure+make+install ${b} s, ratio $(echo "scale=3; $a / $b" | bc)" \
        "(load $(cut -d' ' -f1 /proc/loadavg))"
done
median() { sort -g "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
ma=$(median "$work/a.times"); mb=$(median "$work/b.times")
{
    printf '| Measure | corezfs | Baseline | Ratio | Goal |\n|---|---|---|---|---|\n'
    printf '| a. build, cached image (median of %d) | %.1f s | %.1f s (raw configure+make -j%d+install) | %.3f | <= 1.10 |\n' \
        "$runs" "$ma" "$mb" "$jobs" "$(echo "$ma / $mb" | bc -l)"
    [[ $fresh_kb == 0 ]] || printf '| b. JVM peak RSS, download + verify + import + build | %d MiB (%.0f s wall) | | | <= 256 MB |\n' \
        "$((fresh_kb / 1024))" "$fresh_s"
} | tee "$work/results.md"
