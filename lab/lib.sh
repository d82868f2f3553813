# shellcheck shell=bash disable=SC2034  # variables here are used by the scripts that source this file
# Common helpers of the lab scripts. Sourced, never run: `source "$(dirname "$0")/lib.sh"`.
#
# Every script of the lab:
#   - runs with `set -euo pipefail` (set here too, in case a caller forgot);
#   - writes only under $LAB_CACHE (default /var/cache/corezfs-lab, outside the clone: every clone on this
#     machine, CI's included, reuses what another built, since each step is keyed by its inputs);
#   - is idempotent: each expensive step records what it made in a stamp file (an input key plus the
#     sha256 of its outputs), and a re-run that finds a matching stamp does nothing.
set -euo pipefail

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$LAB_DIR/.." && pwd)"

# Pinned inputs: versions.env holds defaults; a variable already in the environment wins.
_lab_load_versions() {
    local line key value
    while IFS= read -r line || [[ -n $line ]]; do
        [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
        [[ $line =~ ^([A-Z_][A-Z0-9_]*)=(.*)$ ]] || { echo "lab: bad line in versions.env: $line" >&2; exit 1; }
        key=${BASH_REMATCH[1]}
        value=${BASH_REMATCH[2]}
        if [[ -z ${!key+set} ]]; then
            printf -v "$key" '%s' "$value"
        fi
        export "${key?}"
    done <"$LAB_DIR/versions.env"
}
_lab_load_versions

# Absolute, so scripts may cd freely. Relative values are taken from the repo root, as documented.
LAB_CACHE="${LAB_CACHE:-/var/cache/corezfs-lab}"
[[ $LAB_CACHE == /* ]] || LAB_CACHE="$REPO_ROOT/$LAB_CACHE"
export LAB_CACHE

# Derived names, used by several scripts.
LAB_KV="${LAB_KERNEL_ABI}-${LAB_KERNEL_FLAVOUR}"                 # uname -r of the pretend host
LAB_DEVCONTAINER_NAME=flatcar_developer_container.bin.bz2
LAB_DEVCONTAINER_DIR="$LAB_CACHE/devcontainer/$LAB_FLATCAR_BOARD/$LAB_FLATCAR_VERSION"
LAB_GNUPGHOME="$LAB_CACHE/gnupg"                                 # private keyring of the throwaway key
LAB_PUBKEY="$LAB_CACHE/keys/test-signing-key.asc"
LAB_ZFS_DIR="$LAB_CACHE/zfs-source"
LAB_ZFS_ORIG="$LAB_ZFS_DIR/zfs-linux_${LAB_ZFS_VERSION}.orig.tar.gz"
LAB_MIRROR="$LAB_CACHE/mirror"
# One host root per Flatcar version: the default target's keeps its old name, another one (lab_next_env) its own.
LAB_HOSTROOT="${LAB_HOSTROOT:-$LAB_CACHE/hostroot}"
LAB_RUN="$LAB_CACHE/run"                                         # pid and log files of lab/serve.sh

# Debian's own tools only: /root/.pyenv or /usr/local shims on a developer's PATH must not decide
# which python3 or docker the lab uses.
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
LAB_PYTHON=/usr/bin/python3

# The LAB_* assignments that make a script build the next target (versions.env's LAB_NEXT_* values), one per line:
#   env $(lab_next_env) "$LAB_DIR/devcontainer.sh"
# The values hold no blanks, so word splitting is safe.
lab_next_env() {
    printf '%s\n' "LAB_FLATCAR_VERSION=$LAB_NEXT_FLATCAR_VERSION" "LAB_KERNEL_ABI=$LAB_NEXT_KERNEL_ABI" \
        "LAB_KERNEL_SUITE=$LAB_NEXT_KERNEL_SUITE" "LAB_KBUILD_PACKAGE=$LAB_NEXT_KBUILD_PACKAGE" \
        "LAB_ZFS_VERSION=$LAB_NEXT_ZFS_VERSION" "LAB_ZFS_SHA256=$LAB_NEXT_ZFS_SHA256" \
        "LAB_ZFS_SUITE=$LAB_NEXT_ZFS_SUITE" "LAB_HOSTROOT=$LAB_CACHE/hostroot-$LAB_NEXT_FLATCAR_VERSION"
}

log() { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }

need_root() { [[ $(id -u) -eq 0 ]] || die "$(basename "$0") must run as root (debootstrap, chroot, apt)"; }

# Another engineer benchmarks on these machines: everything CPU- or disk-heavy runs at the lowest
# priority, so it only takes what is idle.
heavy() { nice -n 19 ionice -c3 "$@"; }

# The host tools the scripts use come from Debian packages that setup-host.sh installs; a script that
# needs them runs it first (a fast no-op when all is there), so nothing relies on a hand install.
ensure_host() { "$LAB_DIR/setup-host.sh"; }

# One run of a given script at a time: two debootstraps or two mkfs into the same cache would
# corrupt each other. The lock is released when the script's process exits.
lab_lock() {
    mkdir -p "$LAB_CACHE/locks"
    exec {LAB_LOCK_FD}>"$LAB_CACHE/locks/$1.lock"
    flock -n "$LAB_LOCK_FD" || die "another $1 run holds $LAB_CACHE/locks/$1.lock"
}

# A short hash of strings and files, used as the input key of a stamp: when an input changes
# (a pinned version, the script that builds the output), the key changes and the step runs again.
input_key() {
    local x
    for x in "$@"; do
        if [[ -f $x ]]; then printf 'file %s\n' "$(sha256sum <"$x")"; else printf 'str %s\n' "$x"; fi
    done | sha256sum | cut -c1-32
}

# stamp_write STAMP KEY [FILE...]: record KEY and the sha256 of each FILE (relative to the stamp's
# directory). Written last and atomically, so a stamp only exists for a step that finished.
stamp_write() {
    local stamp=$1 key=$2; shift 2
    local dir; dir=$(dirname "$stamp")
    {
        printf 'key %s\n' "$key"
        if (($#)); then (cd "$dir" && sha256sum -- "$@"); fi
    } >"$stamp.tmp"
    mv -f "$stamp.tmp" "$stamp"
}

# stamp_ok STAMP KEY: true when STAMP was written with KEY and every file it lists still has the
# recorded sha256 (a file deleted or changed by hand makes the step run again).
stamp_ok() {
    local stamp=$1 key=$2
    [[ -f $stamp ]] || return 1
    [[ $(head -n1 "$stamp") == "key $key" ]] || return 1
    local sums; sums=$(tail -n +2 "$stamp")
    [[ -z $sums ]] && return 0
    (cd "$(dirname "$stamp")" && sha256sum --quiet --status -c - <<<"$sums")
}

# Partition offset in bytes of GPT partition number $2 in disk image $1, read back from the table
# (sfdisk names partition N of file "x.bin" "x.binN", or "xNpN" when the file name ends in a digit).
partition_offset() {
    local start
    start=$(sfdisk -J "$1" | LAB_PARTNO="$2" "$LAB_PYTHON" -c '
import json, os, re, sys
t = json.load(sys.stdin)["partitiontable"]
for p in t["partitions"]:
    if re.search(r"(\d+)$", p["node"]).group(1) == os.environ["LAB_PARTNO"]:
        print(p["start"] * t.get("sectorsize", 512))
')
    [[ -n $start ]] || die "no partition $2 in $1"
    printf '%s\n' "$start"
}

# gpg with the lab's private home under $LAB_CACHE: never the user's own keyring.
lab_gpg() { gpg --homedir "$LAB_GNUPGHOME" --batch --no-tty --quiet "$@"; }

# write_flatcar_release ROOT: the files by which a Flatcar system says what it is, for the made-up
# release. Used for the developer container and for the host root, so both agree:
#   usr/share/flatcar/release      FLATCAR_RELEASE_VERSION/BOARD/APPID, what corezfs detects
#   usr/share/flatcar/update.conf  the release channel (GROUP)
#   usr/share/coreos -> flatcar    as Flatcar >= 2317 ships it, for tools that read the CoreOS path
#   usr/lib/os-release             ID=flatcar etc.; etc/os-release is a relative link to it, as on Flatcar
# ROOT must be a lab directory: this must never write the machine's own /usr or /etc.
write_flatcar_release() {
    local root=$1
    [[ -n $root && $root == /* && $(realpath -m "$root") != / && -d $root ]] ||
        die "write_flatcar_release: refusing root '$root'"
    mkdir -p "$root/usr/share/flatcar" "$root/usr/lib" "$root/etc"
    printf '%s\n' "FLATCAR_RELEASE_VERSION=$LAB_FLATCAR_VERSION" \
                  "FLATCAR_RELEASE_BOARD=$LAB_FLATCAR_BOARD" \
                  "FLATCAR_RELEASE_APPID=$LAB_FLATCAR_APPID" >"$root/usr/share/flatcar/release"
    printf '%s\n' "GROUP=$LAB_FLATCAR_CHANNEL" >"$root/usr/share/flatcar/update.conf"
    if [[ ! -L $root/usr/share/coreos ]]; then
        rm -rf "$root/usr/share/coreos"
        ln -s flatcar "$root/usr/share/coreos"
    fi
    printf '%s\n' 'NAME="Flatcar Container Linux by Kinvolk"' \
                  'ID=flatcar' \
                  'ID_LIKE=coreos' \
                  "VERSION=$LAB_FLATCAR_VERSION" \
                  "VERSION_ID=$LAB_FLATCAR_VERSION" \
                  'BUILD_ID=corezfs-lab' \
                  'SYSEXT_LEVEL=1.0' \
                  "PRETTY_NAME=\"Flatcar Container Linux by Kinvolk $LAB_FLATCAR_VERSION (corezfs lab stand-in)\"" \
                  "FLATCAR_BOARD=\"$LAB_FLATCAR_BOARD\"" >"$root/usr/lib/os-release"
    if [[ $(readlink "$root/etc/os-release" || true) != ../usr/lib/os-release ]]; then
        rm -f "$root/etc/os-release"
        ln -s ../usr/lib/os-release "$root/etc/os-release"
    fi
}

# ---------------------------------------------------------------------------------------------------
# The Debian chroot that devcontainer.sh and vm-image.sh build their images from. These helpers work on
# the calling script's ROOTFS (the tree), WORK (its stamps and logs) and DEBS (the .deb caches kept
# across rebuilds). Everything mounted under ROOTFS is recorded in MOUNTS and unmounted by umount_all,
# which each script's EXIT trap calls; ROOTFS is only ever deleted with --one-file-system after checking
# that nothing is mounted below it, because rm -rf through a bind mount of /dev would delete the
# machine's device nodes.
MOUNTS=()

# Dies unless ROOTFS is an absolute path other than /, so no helper writes, unmounts or deletes the host's own.
chroot_guard() {
    [[ ${ROOTFS:-} == /* && $(realpath -m "$ROOTFS") != / ]] || die "refusing chroot root '${ROOTFS:-}'"
}

# mount_in_root TARGET MOUNT-ARGS...: mount, creating TARGET, and record it for umount_all.
mount_in_root() {
    local target=$1; shift
    mkdir -p "$target"
    mount "$@" "$target"
    MOUNTS+=("$target")
}

# Unmounts what mount_in_root mounted, newest first (lazily when busy); never fails.
umount_all() {
    local i
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" || true
    done
    MOUNTS=()
}

# mounts_below DIR: the mount points at or below DIR, one a line.
mounts_below() { findmnt -rn -o TARGET | awk -v p="$1" '$0 == p || index($0, p "/") == 1'; }

# A run killed with -9 leaves its chroot mounts behind; the script's lock says no other run uses them.
umount_stale() {
    local m
    chroot_guard
    mounts_below "$ROOTFS" | sort -r | while IFS= read -r m; do
        log "unmounting $m, left by an earlier run"
        umount "$m" || umount -l "$m"
    done
}

# Deletes ROOTFS, refusing while anything is mounted below it.
remove_rootfs() {
    chroot_guard
    [[ -e $ROOTFS ]] || return 0
    [[ -z $(mounts_below "$ROOTFS") ]] || die "something is still mounted under $ROOTFS; not deleting it"
    rm -rf --one-file-system "$ROOTFS"
}

# in_root CMD...: runs CMD in the chroot at the lowest priority, with a clean non-interactive environment.
in_root() {
    chroot_guard
    heavy chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# debootstrap minbase into ROOTFS (stamp $WORK/.debootstrap.stamp, .debs cached in $DEBS/debootstrap).
bootstrap_rootfs() {
    chroot_guard
    local key; key=$(input_key "$LAB_DEBIAN_SUITE" "$LAB_DEBIAN_MIRROR" minbase)
    stamp_ok "$WORK/.debootstrap.stamp" "$key" && [[ -x $ROOTFS/usr/bin/apt-get ]] && return
    log "debootstrap --variant=minbase $LAB_DEBIAN_SUITE into $ROOTFS"
    remove_rootfs
    rm -f "$WORK"/.*.stamp
    mkdir -p "$WORK" "$DEBS/debootstrap"
    heavy debootstrap --variant=minbase --cache-dir="$DEBS/debootstrap" \
        "$LAB_DEBIAN_SUITE" "$ROOTFS" "$LAB_DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
        { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log: $WORK/debootstrap.log)"; }
    stamp_write "$WORK/.debootstrap.stamp" "$key"
}

# chroot_apt_install PKG...: apt-get install in the chroot; the mounts stay up for the caller's umount_all.
chroot_apt_install() {
    chroot_guard
    # The newest kernel ABIs are only in -security: the chroot gets the suite, -updates and -security, as
    # the host does. A kernel from another suite (LAB_KERNEL_SUITE, or CHROOT_EXTRA_SUITES of the caller, e.g.
    # bookworm-backports) adds that suite here, in the chroot only. Backports is NotAutomatic, so only packages
    # asked for by a name it alone serves come from it; every other package keeps bookworm's version.
    local extra=${CHROOT_EXTRA_SUITES:-$LAB_KERNEL_SUITE}
    rm -f "$ROOTFS/etc/apt/sources.list"
    cat >"$ROOTFS/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $LAB_DEBIAN_MIRROR
Suites: $LAB_DEBIAN_SUITE $LAB_DEBIAN_SUITE-updates${extra:+ $extra}
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $LAB_DEBIAN_SECURITY_MIRROR
Suites: $LAB_DEBIAN_SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    # No service may start from a maintainer script inside the chroot.
    printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
    chmod 755 "$ROOTFS/usr/sbin/policy-rc.d"
    cp -L /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
    # apt's archive dir is bind-mounted from $DEBS/apt: kept across rebuilds, never part of an image.
    mkdir -p "$DEBS/apt/partial"
    mount_in_root "$ROOTFS/proc" -t proc proc
    mount_in_root "$ROOTFS/dev" --bind /dev
    mount_in_root "$ROOTFS/var/cache/apt/archives" --bind "$DEBS/apt"
    in_root apt-get -qq update
    in_root apt-get -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends install "$@" >"$WORK/apt.log" 2>&1 ||
        { tail -n 30 "$WORK/apt.log" >&2; die "apt-get install in the chroot failed (log: $WORK/apt.log)"; }
}

# Leaves nothing of this machine or of the build in ROOTFS: no policy-rc.d, resolv.conf, apt lists, tmp, logs.
trim_rootfs() {
    chroot_guard
    rm -f "$ROOTFS/usr/sbin/policy-rc.d" "$ROOTFS/etc/resolv.conf"
    rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb
    rm -rf "$ROOTFS"/tmp/* "$ROOTFS"/var/tmp/*
    find "$ROOTFS/var/log" -type f -exec truncate -s 0 {} +
}

# check_fs IMG: e2fsck -fn of a new ext4 image; dies with its output ($WORK/e2fsck.log) on any error.
check_fs() {
    heavy e2fsck -fn "$1" >"$WORK/e2fsck.log" 2>&1 ||
        { cat "$WORK/e2fsck.log" >&2; die "e2fsck found errors in the new filesystem"; }
}
