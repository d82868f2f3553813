#!/usr/bin/env bash
# The lab VM as a node Ignition provisions at its first boot (issue 15): a copy of the VM image with Debian's dracut
# and its Ignition module, and a dracut initrd for the image's kernel that runs the real Ignition 2.14.
#
#   lab/vm-ignition-initrd.sh              build (cached) and print the directory
#   lab/vm-ignition-initrd.sh --run NAME   also make NAME's base image this one (a run made by `vm-run.sh prepare`)
#
# Output, $LAB_CACHE/vm/ignition-initrd/: root.img (the VM image plus dracut, dracut-network, ignition and what their
# modules need: dbus, curl, iproute2, procps) and initrd-ignition.img. Boot it with
#   vm-run.sh continue NAME --initrd DIR/initrd-ignition.img --fw-cfg CONFIG --guestfwd PORT \
#       --append "ignition.firstboot ignition.platform.id=qemu rd.neednet=1 ip=dhcp rd.shell=0 rd.emergency=poweroff"
# Ignition reads CONFIG from qemu's fw_cfg (opt/com.coreos/config), fetches over the guestfwd, writes the files and
# its preset file; the image's /etc/machine-id says "uninitialized", as a Flatcar image's first boot has none, so
# systemd applies the presets at that boot. Later boots use the image's own initrd (no Ignition).
# Debian builds Ignition to relabel for SELinux after its files stage; the image gets an /etc/selinux/config with
# SELinux disabled and a setfiles that does nothing, which dracut's module copies into the initrd.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

RUN_NAME=''
if (($#)); then [[ $1 == --run && -n ${2:-} ]] || { sed -n '5,6p' "$0" >&2; exit 2; }; RUN_NAME=$2; fi
need_root
VM_IMAGE_DIR=$LAB_CACHE/vm/image/$LAB_FLATCAR_VERSION-$LAB_KV
OUT=$LAB_CACHE/vm/ignition-initrd
STAMP=$OUT/.ignition-initrd.stamp
"$LAB_DIR/vm-image.sh" >&2
KEY=$(input_key "$0" "$LAB_KV" "image $(head -n1 "$VM_IMAGE_DIR/.image.stamp" 2>/dev/null)")

build() {
    lab_lock vm-ignition-initrd
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
    mount_in_root "$ROOTFS/dev" --bind /dev
    mount_in_root "$ROOTFS/proc" -t proc proc
    mount_in_root "$ROOTFS/sys" -t sysfs sys
    cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
    sed -i 's/^Components: main$/Components: main contrib/' "$ROOTFS/etc/apt/sources.list.d/debian.sources"
    printf '#!/bin/sh\n# corezfs lab: Ignition relabels after its files stage; there is no SELinux here.\ncat >/dev/null\n' \
        >"$ROOTFS/usr/sbin/setfiles"
    chmod 0755 "$ROOTFS/usr/sbin/setfiles"
    mkdir -p "$ROOTFS/etc/selinux"
    printf 'SELINUX=disabled\nSELINUXTYPE=targeted\n' >"$ROOTFS/etc/selinux/config"
    log "installing dracut, dracut-network, ignition in a copy of the VM image"
    in_root sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends dbus curl iproute2 procps dracut dracut-network ignition' >&2
    log "building the dracut initrd with the ignition module for $LAB_KV"
    in_root dracut -f --kver "$LAB_KV" --add ignition --add-drivers "qemu_fw_cfg virtio_net virtio_blk virtio_pci" \
        /boot/initrd-ignition.img >&2
    cp "$ROOTFS/boot/initrd-ignition.img" "$work/initrd-ignition.img"
    rm -f "$ROOTFS/boot/initrd-ignition.img" "$ROOTFS/etc/resolv.conf"
    printf 'uninitialized\n' >"$ROOTFS/etc/machine-id"
    umount_all
    trap - EXIT
    mv -f "$work/root.img" "$OUT/root.img"
    mv -f "$work/initrd-ignition.img" "$OUT/initrd-ignition.img"
    chmod 0644 "$OUT/initrd-ignition.img"
    rm -rf --one-file-system "$work"
    # Only the initrd is hashed by the stamp: hashing the 1.5 GB image at every call would cost more than it guards.
    stamp_write "$STAMP" "$KEY" initrd-ignition.img
    log "Ignition image and initrd ready in $OUT"
}
[[ -f $OUT/root.img ]] && stamp_ok "$STAMP" "$KEY" || build

if [[ -n $RUN_NAME ]]; then
    RUN=$LAB_CACHE/vm/runs/$RUN_NAME
    [[ -f $RUN/disk.qcow2 ]] || die "no run $RUN_NAME (make it with vm-run.sh prepare)"
    compgen -G "$RUN/boot-*.console.log" >/dev/null && die "run $RUN_NAME was booted already"
    # The run's overlay is empty, so its base can still be swapped; a copy, so the cached image stays pristine.
    rm -f "$RUN/base.raw"
    heavy cp --sparse=always "$OUT/root.img" "$RUN/base.raw"
fi
printf '%s\n' "$OUT"
