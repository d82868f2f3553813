#!/usr/bin/env bash
# Fetches the OpenZFS release tarball from Debian's source archive into $LAB_CACHE/zfs-source/.
# Debian's zfs-linux orig tarball *is* the upstream release tarball (top folder zfs-<ver>/, configure
# pre-generated), so it stands in for the GitHub release asset that corezfs downloads. Not the
# zfs-dkms tree: that one is kernel-only and its configure refuses to run (LAB.md).
# Idempotent: nothing is fetched when the tarball is there with the pinned sha256.
#
# LAB_ZFS_SUITE names the Debian suite whose deb-src serves the pinned version. The host's own (bookworm, set up by
# setup-host.sh) is used as is; any other suite (bookworm-backports for the next target: `env $(lab_next_env)
# lab/zfs-source.sh`) is read through a private apt configuration under $LAB_CACHE/apt/<suite>/: its own source list,
# lists and caches, so the host's apt never sees that suite.
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
if [[ $LAB_ZFS_SUITE == "$LAB_DEBIAN_SUITE" ]]; then
    heavy apt-get -qq source --download-only zfs-linux
else
    apt_dir=$LAB_CACHE/apt/$LAB_ZFS_SUITE
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    # zfs-linux is in contrib. apt-get update checks the suite's Release signature with the host's Debian keyring,
    # so the Sources index (and the hash in it that the download is checked against) is authentic.
    printf 'deb-src %s %s main contrib\n' "$LAB_DEBIAN_MIRROR" "$LAB_ZFS_SUITE" >"$apt_dir/sources.list"
    apt_private=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=/nonexistent
                 -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache")
    chown -R _apt "$apt_dir/lists/partial" 2>/dev/null || true
    heavy apt-get -qq "${apt_private[@]}" update
    # Only the orig tarball is served here for these suites (the .dsc and the Debian tarball answer 404), so
    # `apt-get source` would fail: take the orig's URL and sha256 from the signed index, fetch that file alone, and
    # require the index's hash to be the pinned one (the file is checked against both below).
    line=$(apt-get -qq "${apt_private[@]}" source --print-uris "zfs-linux/$LAB_ZFS_SUITE" |
           awk -v f="$(basename "$ORIG")" '$2 == f')
    [[ -n $line ]] || die "the $LAB_ZFS_SUITE Sources index has no $(basename "$ORIG")"
    url=$(awk '{print $1}' <<<"$line" | tr -d "'")
    index_sha=$(awk '{print $4}' <<<"$line")
    [[ $index_sha == "SHA256:$LAB_ZFS_SHA256" ]] ||
        die "the $LAB_ZFS_SUITE Sources index gives $index_sha for $(basename "$ORIG"), pinned is $LAB_ZFS_SHA256"
    heavy curl -fsS -o "$ORIG.tmp" "$url" || die "download of $url failed"
    mv -f "$ORIG.tmp" "$ORIG"
fi
chown root "$LAB_ZFS_DIR" 2>/dev/null || true

[[ -f $ORIG ]] || die "apt-get source did not produce $(basename "$ORIG"); is zfs-linux still at $LAB_ZFS_VERSION?"
if ! have_orig; then
    die "$(basename "$ORIG") has sha256 $(sha256sum "$ORIG" | cut -d' ' -f1), pinned is $LAB_ZFS_SHA256"
fi
# The upstream tarball's top folder, as corezfs expects it from GitHub.
top=$(tar -tzf "$ORIG" | awk 'NR == 1')   # awk reads all: head would SIGPIPE tar under pipefail
[[ ${top%%/*} == "zfs-$LAB_ZFS_VERSION" ]] || die "unexpected top folder '$top' in $(basename "$ORIG")"
log "zfs $LAB_ZFS_VERSION source verified: $ORIG"
