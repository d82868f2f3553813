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
LAB_HOSTROOT="$LAB_CACHE/hostroot"
LAB_RUN="$LAB_CACHE/run"                                         # pid and log files of lab/serve.sh

# Debian's own tools only: /root/.pyenv or /usr/local shims on a developer's PATH must not decide
# which python3 or docker the lab uses.
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
LAB_PYTHON=/usr/bin/python3

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
