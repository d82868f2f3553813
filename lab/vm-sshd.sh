#!/usr/bin/env bash
# The lab VM as a fleet node (issue 16): a copy of the VM image with OpenSSH's server, sudo, and a `core` user who may
# sudo without a password, as on Flatcar. Still no Java: the fleet pushes the tool's own bundle.
#
#   lab/vm-sshd.sh              build (cached) and print the directory
#   lab/vm-sshd.sh --run NAME   also make NAME's base image this one (a run made by `vm-run.sh prepare`)
#
# Output, $LAB_CACHE/vm/sshd/: root.img; id_ed25519(.pub), the lab's key authorized for core; ssh_host_ed25519_key.pub,
# the node's host key (every run of the image has the same one: each test names it per forwarded port in its own
# known_hosts). Boot it with `vm-run.sh continue NAME --hostfwd PORT`: sshd is reached on 127.0.0.1:PORT only, the
# guest's NIC on qemu's user network with restrict=on.
#
# Why a variant and not the image itself: Debian's sshd links libgssapi-krb5-2 and libkrb5-3, and through libwrap0
# pulls libtirpc3, exactly the libraries vm-image.sh forbids so that a boot of the base image proves the archive
# carries them. This image has them, so it proves nothing about libraries; the base image keeps that job (every other
# VM test and the demo boot it), and this script refuses to start from a base image that is not minimal.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

RUN_NAME=''
if (($#)); then [[ $1 == --run && -n ${2:-} ]] || { sed -n '5,6p' "$0" >&2; exit 2; }; RUN_NAME=$2; fi
need_root
VM_IMAGE_DIR=$LAB_CACHE/vm/image/$LAB_FLATCAR_VERSION-$LAB_KV
OUT=$LAB_CACHE/vm/sshd
STAMP=$OUT/.sshd.stamp
"$LAB_DIR/vm-image.sh" >&2
KEY=$(input_key "$0" "$LAB_KV" "image $(head -n1 "$VM_IMAGE_DIR/.image.stamp" 2>/dev/null)")

build() {
    lab_lock vm-sshd
    mkdir -p "$OUT"
    local work=$OUT/work
    ROOTFS=$work/root
    # shellcheck disable=SC2034  # lib.sh's mount_in_root and umount_all keep the mounts here
    MOUNTS=()
    # shellcheck disable=SC2317  # run by the trap
    cleanup() { umount_all; }
    trap cleanup EXIT
    umount_stale 2>/dev/null || true
    rm -rf --one-file-system "$work"
    mkdir -p "$work"
    heavy cp --sparse=always "$VM_IMAGE_DIR/root.img" "$work/root.img"
    mount_in_root "$ROOTFS" -o loop "$work/root.img"
    # The base must still be the minimal one, or the other tests' library proof is gone without anyone noticing.
    if compgen -G "$ROOTFS/usr/lib/x86_64-linux-gnu/libkrb5.so*" >/dev/null ||
        compgen -G "$ROOTFS/usr/lib/x86_64-linux-gnu/libtirpc.so*" >/dev/null; then
        die "the base VM image has Kerberos or libtirpc: it is not minimal any more (see lab/vm-image.sh)"
    fi
    mount_in_root "$ROOTFS/dev" --bind /dev
    mount_in_root "$ROOTFS/proc" -t proc proc
    mount_in_root "$ROOTFS/sys" -t sysfs sys
    cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
    log "installing openssh-server and sudo in a copy of the VM image"
    # policy-rc.d: the packages' scripts must not start sshd in the chroot.
    printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
    chmod 0755 "$ROOTFS/usr/sbin/policy-rc.d"
    in_root sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends openssh-server sudo' >&2
    rm -f "$ROOTFS/usr/sbin/policy-rc.d" "$ROOTFS/etc/resolv.conf"
    in_root useradd --create-home --shell /bin/bash core
    printf 'core ALL=(ALL) NOPASSWD: ALL\n' >"$ROOTFS/etc/sudoers.d/core"
    chmod 0440 "$ROOTFS/etc/sudoers.d/core"
    in_root visudo -c >&2
    rm -f "$work/id_ed25519" "$work/id_ed25519.pub"
    ssh-keygen -q -t ed25519 -N '' -C corezfs-lab-fleet -f "$work/id_ed25519"
    install -d -m 0700 "$ROOTFS/home/core/.ssh"
    install -m 0600 "$work/id_ed25519.pub" "$ROOTFS/home/core/.ssh/authorized_keys"
    in_root chown -R core:core /home/core/.ssh
    # Keys only; no reverse lookups (there is no resolver behind restrict=on, and each would wait for its timeout).
    printf 'PasswordAuthentication no\nKbdInteractiveAuthentication no\nUseDNS no\nGSSAPIAuthentication no\n' \
        >"$ROOTFS/etc/ssh/sshd_config.d/10-corezfs-lab.conf"
    # One host key, made here (the package made its own in the chroot); a test's known_hosts names it.
    rm -f "$ROOTFS"/etc/ssh/ssh_host_*
    ssh-keygen -q -t ed25519 -N '' -C corezfs-lab-node -f "$ROOTFS/etc/ssh/ssh_host_ed25519_key"
    printf 'HostKey /etc/ssh/ssh_host_ed25519_key\n' >"$ROOTFS/etc/ssh/sshd_config.d/05-hostkey.conf"
    cp "$ROOTFS/etc/ssh/ssh_host_ed25519_key.pub" "$work/ssh_host_ed25519_key.pub"
    # The NIC of vm-run.sh --hostfwd: DHCP from qemu's user network.
    mkdir -p "$ROOTFS/etc/systemd/network"
    printf '[Match]\nName=e*\n[Network]\nDHCP=ipv4\n' >"$ROOTFS/etc/systemd/network/50-lab.network"
    in_root systemctl enable systemd-networkd.service ssh.service >&2
    in_root sh -c 'mkdir -p /run/sshd && sshd -t && rmdir /run/sshd'
    umount_all
    trap - EXIT
    mv -f "$work/root.img" "$OUT/root.img"
    mv -f "$work/id_ed25519" "$work/id_ed25519.pub" "$work/ssh_host_ed25519_key.pub" "$OUT/"
    rm -rf --one-file-system "$work"
    # The image itself is not hashed by the stamp: hashing 1.5 GB at every call would cost more than it guards.
    stamp_write "$STAMP" "$KEY" id_ed25519 id_ed25519.pub ssh_host_ed25519_key.pub
    log "sshd image ready in $OUT"
}
[[ -f $OUT/root.img ]] && stamp_ok "$STAMP" "$KEY" || build

if [[ -n $RUN_NAME ]]; then
    RUN=$LAB_CACHE/vm/runs/$RUN_NAME
    [[ -f $RUN/disk.qcow2 ]] || die "no run $RUN_NAME (make it with vm-run.sh prepare)"
    compgen -G "$RUN/boot-*.console.log" >/dev/null && die "run $RUN_NAME was booted already"
    # The run's overlay is empty, so its base can still be swapped. A link pins it, as vm-run.sh does for the base
    # image (qemu only reads a backing file); a copy where a link is refused.
    rm -f "$RUN/base.raw"
    ln "$OUT/root.img" "$RUN/base.raw" 2>/dev/null || heavy cp --sparse=always "$OUT/root.img" "$RUN/base.raw"
fi
printf '%s\n' "$OUT"
