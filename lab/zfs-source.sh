#!/usr/bin/env bash
# Fetches the OpenZFS release tarball from Debian's source archive into $LAB_CACHE/zfs-source/.
# Debian's zfs-linux orig tarball *is* the upstream release tarball (top folder zfs-<ver>/, configure
# pre-generated), so it stands in for the GitHub release asset that corezfs downloads. Not the
# zfs-dkms tree: that one is kernel-only and its configure refuses to run (LAB.md).
# Idempotent: nothing is fetched when the tarball is there with the pinned sha256.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root
ensure_host
lab_lock zfs-source

ORIG=$LAB_ZFS_ORIG

have_orig() { [[ -f $ORIG ]] && sha256sum -c --quiet --status - <<<"$LAB_ZFS_SHA256  $ORIG"; }

if have_orig; then
    log "zfs $LAB_ZFS_VERSION source up to date: $ORIG"
    exit 0
fi

mkdir -p "$LAB_ZFS_DIR"
cd "$LAB_ZFS_DIR"
# A wrong or partial file from an earlier run must not satisfy apt (it would keep it).
rm -f "$ORIG"
log "apt-get source --download-only zfs-linux"
# apt's download user _apt must be able to write here, or apt warns and downloads as root.
chown _apt "$LAB_ZFS_DIR" 2>/dev/null || true
heavy apt-get -qq source --download-only zfs-linux
chown root "$LAB_ZFS_DIR" 2>/dev/null || true

[[ -f $ORIG ]] || die "apt-get source did not produce $(basename "$ORIG"); is zfs-linux still at $LAB_ZFS_VERSION?"
if ! have_orig; then
    die "$(basename "$ORIG") has sha256 $(sha256sum "$ORIG" | cut -d' ' -f1), pinned is $LAB_ZFS_SHA256"
fi
# The upstream tarball's top folder, as corezfs expects it from GitHub.
top=$(tar -tzf "$ORIG" | awk 'NR == 1')   # awk reads all: head would SIGPIPE tar under pipefail
[[ ${top%%/*} == "zfs-$LAB_ZFS_VERSION" ]] || die "unexpected top folder '$top' in $(basename "$ORIG")"
log "zfs $LAB_ZFS_VERSION source verified: $ORIG"
