#!/usr/bin/env bash
# Prepares the Debian 12 host for the lab: apt sources with contrib + deb-src, and the Debian packages
# the other lab scripts call. Idempotent: sources are edited only when they lack something, and
# `apt-get update` / `apt-get install` run only when a package or an index is missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root
# Every lab script that builds runs this first, and CI's two lanes may start two at once (k8s.sh beside sshd-image.sh,
# say): the second waits for the first, which takes a second when nothing is missing, instead of failing as lab_lock
# does. Only an install that hangs for 15 minutes makes the waiter give up.
mkdir -p "$LAB_CACHE/locks"
exec {LAB_LOCK_FD}>"$LAB_CACHE/locks/setup-host.lock"
flock -w 900 "$LAB_LOCK_FD" || die "another setup-host run has held $LAB_CACHE/locks/setup-host.lock for 15 minutes"

# Why each package:
#   debootstrap              the developer container's Debian rootfs
#   fdisk                    sfdisk writes and reads the GPT
#   e2fsprogs                mkfs.ext4 -d builds the ROOT filesystem from a directory; e2fsck checks it
#   bzip2 lbzip2             the image is published as .bz2 (lbzip2 is Flatcar's own compressor, parallel)
#   gnupg                    throwaway signing key, detached .sig, gpg --verify
#   util-linux               mount -o loop,offset=..., flock, findmnt
#   docker.io                the engine the build stage of corezfs imports the container into
#   qemu-system-x86          VMs for the install/activate tests (TCG only, see LAB.md)
#   python3                  the loopback HTTP server (Debian's /usr/bin/python3, not a pyenv shim)
#   curl                     checks the served tree
#   dpkg-dev                 apt-get source unpacks/inspects .dsc files with it
#   ignition (contrib)       ignition-validate, the real validator every generated Ignition config must pass
PACKAGES=(debootstrap fdisk e2fsprogs bzip2 lbzip2 gnupg util-linux docker.io qemu-system-x86
          python3 curl dpkg-dev ignition)

SOURCES=/etc/apt/sources.list.d/debian.sources
changed=0

# 1. Sources. Debian ships only `main` and binary indexes; zfs-dkms/ignition need contrib and
#    `apt-get source` needs deb-src (LAB.md). Edit each stanza in place, keep a backup once.
if [[ -f $SOURCES ]]; then
    if grep -Eq '^Types:' "$SOURCES" && { grep -E '^Types:' "$SOURCES" | grep -vq 'deb-src' ||
                                           grep -E '^Components:' "$SOURCES" | grep -vq 'contrib'; }; then
        [[ -f /etc/apt/debian.sources.lab-orig ]] || cp -p "$SOURCES" /etc/apt/debian.sources.lab-orig
        sed -i -E -e '/^Types:/{/deb-src/!s/$/ deb-src/}' \
                  -e '/^Components:/{/contrib/!s/$/ contrib/}' "$SOURCES"
        log "enabled contrib and deb-src in $SOURCES (original kept as /etc/apt/debian.sources.lab-orig)"
        changed=1
    fi
else
    # A host without the deb822 file (e.g. an old-style sources.list): write the one LAB.md describes.
    cat >"$SOURCES" <<EOF
Types: deb deb-src
URIs: $LAB_DEBIAN_MIRROR
Suites: $LAB_DEBIAN_SUITE $LAB_DEBIAN_SUITE-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: $LAB_DEBIAN_SECURITY_MIRROR
Suites: $LAB_DEBIAN_SUITE-security
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    log "wrote $SOURCES"
    changed=1
fi

installed() { [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]; }
missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done

# The indexes must exist for contrib and for sources, or apt-cache / apt-get source find nothing.
have_indexes() {
    compgen -G "/var/lib/apt/lists/*_dists_${LAB_DEBIAN_SUITE}_main_source_Sources*" >/dev/null &&
    compgen -G "/var/lib/apt/lists/*_dists_${LAB_DEBIAN_SUITE}_contrib_binary-amd64_Packages*" >/dev/null
}

# 2. apt-get update: only when the sources changed, an index is missing, or something must be installed.
if ((changed)) || ! have_indexes || ((${#missing[@]})); then
    log "apt-get update"
    heavy apt-get update -qq
    have_indexes || die "apt indexes for contrib / deb-src are still missing after apt-get update"
fi

# 3. Install what is missing. docker.io's maintainer scripts would start dockerd with its default
#    bridge and iptables rules, which this machine forbids; a policy-rc.d that answers 101 ("action
#    forbidden") stops that. It is removed again only if this script created it.
if ((${#missing[@]})); then
    log "installing: ${missing[*]}"
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    DEBIAN_FRONTEND=noninteractive heavy apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

log "host ready (packages: ${#PACKAGES[@]} present, apt: contrib + deb-src)"
