#!/bin/bash
# What corezfs does today, end to end on this machine without a Flatcar node: detect a Flatcar host root, pack an
# install tree into a versioned archive, verify it, install it offline into the root, and show the result.
# The live install in a throwaway VM replaces this once `corezfs install` activates ZFS on a running host.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
[ -x target/corezfs/bin/corezfs ] || mvn -B -ntp -q -DskipTests package
corezfs=target/corezfs/bin/corezfs

demo=target/demo
rm -rf "$demo"
mkdir -p "$demo/root/usr/share/flatcar" "$demo/root/usr/lib" "$demo/root/etc" "$demo/root/proc/sys/kernel"
printf 'FLATCAR_RELEASE_VERSION=3975.2.0\nFLATCAR_RELEASE_BOARD=amd64-usr\n' >"$demo/root/usr/share/flatcar/release"
printf 'GROUP=stable\n' >"$demo/root/usr/share/flatcar/update.conf"
printf 'ID=flatcar\nVERSION_ID=3975.2.0\n' >"$demo/root/usr/lib/os-release"
ln -s ../usr/lib/os-release "$demo/root/etc/os-release"
echo 6.1.0-55-cloud-amd64 >"$demo/root/proc/sys/kernel/osrelease"

# A small tree in the archive layout; a real one comes from `corezfs build`.
tree="$demo/tree"
mkdir -p "$tree/etc/systemd/system" "$tree/etc/systemd/system-preset" "$tree/opt/corezfs/usr/sbin"
cp units/zfs-overlay.service "$tree/etc/systemd/system/"
printf 'enable zfs-overlay.service\n' >"$tree/etc/systemd/system-preset/40-corezfs.preset"
printf '#!/bin/sh\necho "zfs (demo)"\n' >"$tree/opt/corezfs/usr/sbin/zfs"
chmod 755 "$tree/opt/corezfs/usr/sbin/zfs"

set -x
$corezfs status --root "$demo/root"
archive=$(SOURCE_DATE_EPOCH=1700000000 $corezfs archive pack "$tree" --root "$demo/root" --zfs-version 2.1.11 --archive-dir "$demo/archives")
$corezfs archive verify "$archive"
$corezfs archive list --archive-dir "$demo/archives" --root "$demo/root"
$corezfs install --archive "$archive" --root "$demo/root"
$corezfs install --archive "$archive" --root "$demo/root"
$corezfs status --root "$demo/root" --json
find "$demo/root/etc/systemd" "$demo/root/opt/corezfs" | sort
