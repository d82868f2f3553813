#!/usr/bin/env bash
# Lays out $LAB_CACHE/mirror/, the tree lab/serve.sh serves on 127.0.0.1, in the URL layouts corezfs
# downloads from in real life, so only the base URL differs between the lab and production:
#   <board>/<version>/flatcar_developer_container.bin.bz2{,.sig,.DIGESTS}   Flatcar release server
#   openzfs/zfs/releases/download/zfs-<v>/zfs-<v>.tar.gz                    GitHub release asset (both pinned <v>)
# Every developer container built under $LAB_CACHE/devcontainer/ is published (a second version with
# another kernel makes "the OS updated" tests possible). Files are hard links into the cache: no copy,
# no extra disk. Idempotent: links already pointing at the current files are left alone.
# Builds nothing itself: run lab/devcontainer.sh and lab/zfs-source.sh first (or lab/all.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
lab_lock mirror

# publish SRC DEST: DEST becomes a hard link to SRC (a copy if the cache spans filesystems).
publish() {
    local src=$1 dest=$2
    [[ -f $src ]] || die "missing $src (run lab/all.sh)"
    [[ $src -ef $dest ]] && return
    mkdir -p "$(dirname "$dest")"
    ln -f "$src" "$dest.tmp" 2>/dev/null || cp -f "$src" "$dest.tmp"
    mv -f "$dest.tmp" "$dest"
    log "published ${dest#"$LAB_MIRROR"/}"
}

mkdir -p "$LAB_MIRROR"
n=0
for dir in "$LAB_CACHE"/devcontainer/*/*/; do
    dir=${dir%/}
    [[ -f $dir/.signed.stamp ]] || continue      # only complete, signed builds
    board=$(basename "$(dirname "$dir")")
    version=$(basename "$dir")
    for suffix in "" .sig .DIGESTS; do
        publish "$dir/$LAB_DEVCONTAINER_NAME$suffix" "$LAB_MIRROR/$board/$version/$LAB_DEVCONTAINER_NAME$suffix"
    done
    n=$((n + 1))
done
((n)) || die "no signed developer container under $LAB_CACHE/devcontainer (run lab/devcontainer.sh)"

# Both pinned tarballs: the current target's and the next one's (versions.env).
for pair in "$LAB_ZFS_VERSION $LAB_ZFS_SHA256" "$LAB_NEXT_ZFS_VERSION $LAB_NEXT_ZFS_SHA256"; do
    read -r version sha <<<"$pair"
    orig=$LAB_ZFS_DIR/zfs-linux_$version.orig.tar.gz
    sha256sum -c --quiet --status - <<<"$sha  $orig" ||
        die "$orig missing or not the pinned tarball (run lab/all.sh)"
    publish "$orig" "$LAB_MIRROR/openzfs/zfs/releases/download/zfs-$version/zfs-$version.tar.gz"
done

log "mirror ready: $LAB_MIRROR ($n developer container(s))"
