#!/usr/bin/env bash
# Creates $LAB_HOSTROOT ($LAB_CACHE/hostroot/; hostroot-<version>/ for the next target), a directory that looks like the root of a Flatcar host of the made-up
# release to corezfs's host detection (`--root DIR` style tests), running the lab's Debian kernel:
#   usr/share/flatcar/release      FLATCAR_RELEASE_VERSION / _BOARD / _APPID
#   usr/share/flatcar/update.conf  GROUP=<channel>
#   usr/share/coreos -> flatcar    as on Flatcar >= 2317
#   usr/lib/os-release             ID=flatcar, VERSION_ID, ...
#   etc/os-release -> ../usr/lib/os-release   (relative, as Flatcar ships it)
#   proc/sys/kernel/osrelease      the kernel release (uname -r) the developer container has headers for
# Same release values as the developer container (lib.sh's write_flatcar_release writes both).
# Idempotent: rewriting the same small files is the no-op; a stale tree is replaced whole.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
lab_lock hostroot

KEY=$(input_key "$0" "$LAB_DIR/lib.sh" "$LAB_FLATCAR_VERSION" "$LAB_FLATCAR_BOARD" "$LAB_FLATCAR_CHANNEL" \
    "$LAB_FLATCAR_APPID" "$LAB_KV")
# Beside the tree: .hostroot.stamp for the default target, .hostroot-<version>.stamp for the next one.
STAMP=$(dirname "$LAB_HOSTROOT")/.$(basename "$LAB_HOSTROOT").stamp
FILES=(usr/share/flatcar/release usr/share/flatcar/update.conf usr/lib/os-release proc/sys/kernel/osrelease)

# The stamp holds the files' sha256 (paths relative to $LAB_CACHE); the two links are checked here.
if stamp_ok "$STAMP" "$KEY" && [[ $(readlink "$LAB_HOSTROOT/etc/os-release") == ../usr/lib/os-release &&
                                  $(readlink "$LAB_HOSTROOT/usr/share/coreos") == flatcar ]]; then
    log "host root up to date: $LAB_HOSTROOT"
    exit 0
fi

# Built beside the old one and swapped in, so a reader never sees half a tree.
tmp=$LAB_HOSTROOT.tmp
rm -rf "$tmp"
mkdir -p "$tmp/proc/sys/kernel"
write_flatcar_release "$tmp"
# No trailing text beyond the newline the kernel prints itself.
printf '%s\n' "$LAB_KV" >"$tmp/proc/sys/kernel/osrelease"
rm -rf "$LAB_HOSTROOT"
mv "$tmp" "$LAB_HOSTROOT"

stamp_write "$STAMP" "$KEY" "${FILES[@]/#/$(basename "$LAB_HOSTROOT")/}"
log "host root ready: $LAB_HOSTROOT (Flatcar $LAB_FLATCAR_VERSION $LAB_FLATCAR_BOARD $LAB_FLATCAR_CHANNEL, kernel $LAB_KV)"
