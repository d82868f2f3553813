#!/usr/bin/env bash
# Builds the disk set of a throwaway VM that looks like a Flatcar node of the lab's made-up release,
# from Debian parts only, into $LAB_CACHE/vm/image/<flatcar-version>-<KV>/:
#   vmlinuz-<KV>, initrd.img-<KV>
#                for each of the two kernels the node carries: the lab ABI (LAB_KV, what the developer container of
#                LAB_FLATCAR_VERSION has headers for) and the next target's (LAB_NEXT_KERNEL_ABI, from
#                LAB_NEXT_KERNEL_SUITE). A Flatcar node keeps the running and the updated OS on its two /usr partitions;
#                here both module trees sit in the one /usr/lib/modules, and vm-run.sh --kernel KV picks which boots.
#                initrd made by initramfs-tools inside the chroot (one per kernel, by each kernel's postinst)
#   root.img     raw ext4 (no partition table: root=/dev/vda), the minimal system + LAB_VM_FREE_MIB free
#   pool.img     an empty sparse raw disk of LAB_VM_POOL_MIB, the template of each run's pool disk
#   packages.txt what is installed, for the record
# lab/vm-run.sh boots copies of these; they are never written by a run (root.img is read-only, and a
# run only ever writes a qcow2 overlay on top of it).
#
# Why "minimal" is checked, not just hoped for: corezfs must ship what its ZFS binaries need beyond the
# base image of a Flatcar host (LAB.md: libtirpc, libaio and, through libtirpc, the Kerberos libraries).
# A test VM that happened to have them would hide exactly that bug, so the build fails if any of them,
# or any Java, is in the image. That is also why openssh-server is NOT installed: Debian's sshd depends
# on libgssapi-krb5-2 and libkrb5-3. The serial console is the VM's channel (vm-run.sh).
#
# Usage: lab/vm-image.sh            build, or a fast no-op when the stamp and the files' fingerprints match
#        lab/vm-image.sh --verify   also re-hash every output (sha256; a few seconds for the 1.5 GB image)
# Builds need root (debootstrap, chroot, apt); the up-to-date check does not, so vm-run.sh can call this
# script as any user.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

VERIFY=0
case ${1:-} in
    '') ;;
    --verify) VERIFY=1 ;;
    *) die "usage: $0 [--verify]" ;;
esac

# Same names in vm-run.sh. One image per (Flatcar version, kernel), so a second release/kernel can sit
# beside the first: LAB_KERNEL_ABI=6.1.0-55 LAB_FLATCAR_VERSION=9998.0.0 lab/vm-image.sh
VM_IMAGE_DIR=$LAB_CACHE/vm/image/$LAB_FLATCAR_VERSION-$LAB_KV
WORK=$LAB_CACHE/work/vm-$LAB_FLATCAR_VERSION-$LAB_KV
ROOTFS=$WORK/rootfs
DEBS=$LAB_CACHE/debs
LAB_NEXT_KV="$LAB_NEXT_KERNEL_ABI-$LAB_KERNEL_FLAVOUR"
KERNELS=("$LAB_KV" "$LAB_NEXT_KV")
OUTPUTS=(root.img pool.img packages.txt)
for kv in "${KERNELS[@]}"; do OUTPUTS+=("vmlinuz-$kv" "initrd.img-$kv"); done
# The next kernel's suite is added to the chroot's sources (lib.sh's chroot_apt_install), never the host's.
export CHROOT_EXTRA_SUITES=$LAB_NEXT_KERNEL_SUITE
STAMP=$VM_IMAGE_DIR/.image.stamp
FINGERPRINT=$VM_IMAGE_DIR/.image.fingerprint

# What a Flatcar node has that matters to corezfs: systemd as init, udev, kmod (modprobe/depmod),
# util-linux (mount, blkid, losetup), plus the kernel of the lab ABI and initramfs-tools to boot it.
# Nothing else: no network stack tools, no ssh (see above), no compiler, no Java.
VM_PACKAGES=(systemd systemd-sysv udev kmod util-linux initramfs-tools "${KERNELS[@]/#/linux-image-}")
# Must NOT be in the image (LAB.md, "Shared libraries"): packages and the sonames they ship.
FORBIDDEN_PKGS=(libtirpc3 libtirpc-common libaio1 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0
                libkeyutils1)
FORBIDDEN_LIBS=(libtirpc.so libaio.so libgssapi_krb5.so libkrb5.so libk5crypto.so libkrb5support.so
                libkeyutils.so)
# Maintenance timers of a Debian install that would fire during a test on a slow TCG guest and compete
# with it (apt has no network in the VM anyway). Masked.
# getty-static.service starts gettys on tty2-6 when dbus is missing; the VM has no screen.
MASKED_UNITS=(apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer
              e2scrub_reap.service fstrim.timer getty-static.service)

IMAGE_KEY=$(input_key "$0" "$LAB_DIR/lib.sh" "$LAB_DEBIAN_SUITE" "$LAB_DEBIAN_MIRROR" \
    "$LAB_DEBIAN_SECURITY_MIRROR" "$LAB_KV" "$LAB_FLATCAR_VERSION" "$LAB_FLATCAR_BOARD" \
    "$LAB_FLATCAR_CHANNEL" "$LAB_FLATCAR_APPID" "$LAB_VM_FREE_MIB" "$LAB_VM_POOL_MIB" "kernels ${KERNELS[*]}" \
    "extra suite $CHROOT_EXTRA_SUITES")

# ---------------------------------------------------------------------------------------------------
# Up-to-date check. sha256 of a 1.5 GB image costs 5-15 s, too much for every vm-run, so the fast check
# is the stamp's key plus each output's (size, mtime, inode) recorded when it was made. When those differ
# (a file replaced, deleted, or written or touched by hand) the sha256s of the stamp decide: same
# content, the fingerprint is renewed; else the image is rebuilt. --verify always re-hashes.
fingerprint() { (cd "$VM_IMAGE_DIR" && stat -c '%n %s %Y %i' -- "${OUTPUTS[@]}"); }
host_tools_ok() { command -v qemu-img && command -v qemu-system-x86_64 && command -v mkfs.ext4; } >/dev/null
image_current() {
    [[ -f $STAMP && $(head -n1 "$STAMP") == "key $IMAGE_KEY" ]] || return 1
    host_tools_ok || return 1
    if ((VERIFY == 0)) && [[ -f $FINGERPRINT && $(fingerprint 2>/dev/null) == "$(cat "$FINGERPRINT")" ]]; then
        return 0
    fi
    log "checking the sha256 of the VM image files"
    lowest_priority stamp_ok "$STAMP" "$IMAGE_KEY" || return 1
    if fingerprint >"$FINGERPRINT.tmp" 2>/dev/null; then mv -f "$FINGERPRINT.tmp" "$FINGERPRINT"; fi
}
# lib.sh's `heavy` for shell functions (stamp_ok/stamp_write hash 1.5 GB): a subshell reniced alone.
lowest_priority() (
    renice -n 19 -p "$BASHPID" >/dev/null
    ionice -c3 -p "$BASHPID"
    "$@"
)
if image_current; then
    log "VM image up to date: $VM_IMAGE_DIR"
    exit 0
fi

need_root
ensure_host
lab_lock vm-image

# qemu-img (qcow2 overlays, vm-run.sh) is in qemu-utils, which setup-host.sh does not install.
if ! command -v qemu-img >/dev/null; then
    log "installing qemu-utils (qemu-img)"
    DEBIAN_FRONTEND=noninteractive heavy apt-get install -y -qq --no-install-recommends qemu-utils
fi

# ---------------------------------------------------------------------------------------------------
# The chroot's mounts and its guards are lib.sh's (mount_in_root, umount_stale, remove_rootfs); this
# trap unmounts whatever is still mounted, on any exit.
cleanup() {
    umount_all
    rm -f "$VM_IMAGE_DIR"/*.tmp
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP    # so that cleanup runs on Ctrl-C or kill too

# ---------------------------------------------------------------------------------------------------
# 1. debootstrap minbase (lib.sh's bootstrap_rootfs). Its .debs are shared with devcontainer.sh's cache
#    (same suite, same files).

# 2. systemd, udev, kmod, initramfs-tools and the kernel, from bookworm + -updates + -security (the
#    newest kernel ABIs are only in -security). Installing linux-image runs its postinst in the chroot:
#    depmod, and update-initramfs builds /boot/initrd.img-<KV>. lib.sh's chroot_apt_install uses
#    --no-install-recommends, which keeps the base minimal (the kernel would recommend firmware and
#    apparmor, systemd would recommend dbus etc.).
install_packages() {
    local key; key=$(input_key "$(head -n1 "$WORK/.debootstrap.stamp")" "$LAB_DEBIAN_SECURITY_MIRROR" \
        "${VM_PACKAGES[*]}" "$0" "$CHROOT_EXTRA_SUITES")
    stamp_ok "$WORK/.packages.stamp" "$key" && return
    log "installing ${VM_PACKAGES[*]} in the chroot"
    # The initrd only has to find /dev/vda (ext4 is built into the kernel): MODULES=list and the two virtio
    # modules instead of Debian's MODULES=most, a much smaller initrd that TCG unpacks faster. Written
    # before the kernel's postinst builds the initrd; conf.d and hooks/ are not conffiles, so dpkg does
    # not ask about them.
    mkdir -p "$ROOTFS/etc/initramfs-tools/conf.d" "$ROOTFS/etc/initramfs-tools/hooks"
    echo MODULES=list >"$ROOTFS/etc/initramfs-tools/conf.d/lab-vm.conf"
    cat >"$ROOTFS/etc/initramfs-tools/hooks/lab-vm" <<'EOF2'
#!/bin/sh
# corezfs lab VM (lab/vm-image.sh): the root disk is virtio (root=/dev/vda).
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
manual_add_modules virtio_pci virtio_blk
EOF2
    chmod 755 "$ROOTFS/etc/initramfs-tools/hooks/lab-vm"
    chroot_apt_install "${VM_PACKAGES[@]}"
    umount_all
    local kv
    for kv in "${KERNELS[@]}"; do
        [[ -f $ROOTFS/boot/vmlinuz-$kv && -f $ROOTFS/boot/initrd.img-$kv && -d $ROOTFS/usr/lib/modules/$kv/kernel ]] ||
            die "the chroot has no /boot/vmlinuz-$kv + initrd.img-$kv + modules after installing the kernels"
    done
    stamp_write "$WORK/.packages.stamp" "$key"
}

# 3. Make it a node: Flatcar's release files, and the lab's boot-time test hook. Cheap, so always redone.
configure_node() {
    write_flatcar_release "$ROOTFS"
    echo corezfs-lab >"$ROOTFS/etc/hostname"
    printf '127.0.0.1\tlocalhost\n127.0.1.1\tcorezfs-lab\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
        >"$ROOTFS/etc/hosts"
    # Root is mounted rw by the kernel (root=/dev/vda rw). fsck pass 0: a clean ext4 needs none, and
    # after a killed qemu the journal replays at mount.
    printf '/dev/vda\t/\text4\trw,errors=remount-ro\t0\t0\n' >"$ROOTFS/etc/fstab"
    # A set machine-id: an empty one would make systemd treat every boot of a fresh copy as a first
    # boot (systemd-firstboot may then prompt on the console). One id per image build is enough for
    # throwaway VMs.
    tr -d - </proc/sys/kernel/random/uuid >"$ROOTFS/etc/machine-id"
    # Root without password, and autologin on the serial console for `vm-run.sh shell`. There is no
    # network in the VM (vm-run.sh gives it no NIC), so this opens nothing.
    in_root passwd -q -d root
    mkdir -p "$ROOTFS/etc/systemd/system/serial-getty@ttyS0.service.d"
    cat >"$ROOTFS/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=-/sbin/agetty -o '-p -f -- \\u' --keep-baud --autologin root 115200,57600,38400,9600 - $TERM
EOF
    local u
    for u in "${MASKED_UNITS[@]}"; do ln -sfn /dev/null "$ROOTFS/etc/systemd/system/$u"; done

    # The guest half of vm-run.sh's protocol. The unit is not enabled: vm-run.sh asks for it on the
    # kernel command line (systemd.wants=lab-test.service), so `vm-run.sh shell` boots a plain node.
    # Type=simple, not oneshot, on purpose: a oneshot's start job stays in the boot transaction until
    # run.sh returns, so the boot would never finish and a `systemctl is-system-running --wait` in
    # run.sh would wait for itself forever. SuccessAction/FailureAction power the VM off either way.
    cat >"$ROOTFS/etc/systemd/system/lab-test.service" <<'EOF'
[Unit]
Description=corezfs lab: copy the inject disk to /root/inject, run run.sh, report on ttyS0, power off
After=multi-user.target
SuccessAction=poweroff
FailureAction=poweroff

[Service]
Type=simple
ExecStart=/usr/local/sbin/lab-test
Environment=HOME=/root
StandardInput=null
EOF
    mkdir -p "$ROOTFS/usr/local/sbin"
    cat >"$ROOTFS/usr/local/sbin/lab-test" <<'EOF'
#!/bin/bash
# Run by lab-test.service (see lab/vm-run.sh on the host for the whole protocol):
#  1. count this boot in /var/lib/lab/boot-count;
#  2. if a disk labelled LABINJECT is attached (vm-run.sh --inject DIR), replace /root/inject with its
#     content; it lives on the root disk, so a later boot of the same run still has it;
#  3. print "LAB-BEGIN: boot=N", run /root/inject/run.sh (cwd /root/inject, env LAB_BOOT=N), sync,
#     print "LAB-RESULT: rc=<its exit code>". All of it goes to the serial console /dev/ttyS0.
# The unit powers the VM off when this returns.
set -u
exec >/dev/ttyS0 2>&1 </dev/null
state=/var/lib/lab inject=/root/inject mnt=/run/lab-inject
mkdir -p "$state"
boot=$(( $(cat "$state/boot-count" 2>/dev/null || echo 0) + 1 ))
echo "$boot" >"$state/boot-count"
if dev=$(blkid -L LABINJECT); then
    mkdir -p "$mnt"
    if mount -o ro "$dev" "$mnt"; then
        rm -rf "$inject" && mkdir -p "$inject" && cp -a "$mnt/." "$inject/" && rm -rf "$inject/lost+found"
        umount "$mnt"
    else
        echo "lab-test: cannot mount the inject disk $dev"
    fi
fi
sync
# On a line of its own: the console may hold a partial line (firmware escape sequences) before it.
echo
echo "LAB-BEGIN: boot=$boot"
if [[ -f $inject/run.sh ]]; then
    cd "$inject"
    if [[ -x run.sh ]]; then LAB_BOOT=$boot ./run.sh; else LAB_BOOT=$boot bash run.sh; fi
    rc=$?
    cd /
else
    echo "lab-test: no $inject/run.sh"
    rc=127
fi
sync
echo "LAB-RESULT: rc=$rc"
EOF
    chmod 755 "$ROOTFS/usr/local/sbin/lab-test"
}

# 4. Fail if the base is not minimal: the sonames corezfs must bring itself, and Java.
check_minimal() {
    local bad=() p status
    for p in "${FORBIDDEN_PKGS[@]}"; do
        status=$(in_root dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
        [[ $status == installed ]] && bad+=("package $p")
    done
    local lib f
    for lib in "${FORBIDDEN_LIBS[@]}"; do
        while IFS= read -r f; do bad+=("file ${f#"$ROOTFS"}"); done \
            < <(find "$ROOTFS" -xdev -name "$lib*" 2>/dev/null)
    done
    while IFS= read -r p; do bad+=("java package $p"); done \
        < <(in_root dpkg-query -W -f='${Package} ${db:Status-Status}\n' |
            awk '$2 == "installed" && $1 ~ /(openjdk|java|jre|jdk)/ {print $1}')
    while IFS= read -r f; do bad+=("java file ${f#"$ROOTFS"}"); done \
        < <(find "$ROOTFS" -xdev \( -name java -o -name 'libjvm.so' \) \( -type f -o -type l \) 2>/dev/null)
    ((${#bad[@]} == 0)) || die "the VM base is not minimal: ${bad[*]}"
    log "minimal base checked: no ${FORBIDDEN_PKGS[*]}, no Java"
}

# 5. Kernel + initrd out, trim, then the ext4 image straight from the directory (mkfs.ext4 -d, no
#    mount). Outputs are written as *.tmp and renamed, and the stamp is removed first and written last,
#    so a killed build never leaves a valid-looking set. A VM still running from the old image keeps
#    its files (vm-run.sh hard-links them into the run directory), since a rename does not touch them.
make_image() {
    mkdir -p "$VM_IMAGE_DIR"
    rm -f "$STAMP" "$FINGERPRINT"
    local kv
    for kv in "${KERNELS[@]}"; do
        cp "$ROOTFS/boot/vmlinuz-$kv" "$VM_IMAGE_DIR/vmlinuz-$kv.tmp"
        cp "$ROOTFS/boot/initrd.img-$kv" "$VM_IMAGE_DIR/initrd.img-$kv.tmp"
    done
    # Left over from an image of one kernel: vm-run.sh only links the per-kernel names now.
    rm -f "$VM_IMAGE_DIR/vmlinuz" "$VM_IMAGE_DIR/initrd.img"
    in_root dpkg-query -W -f='${Package} ${Version}\n' >"$VM_IMAGE_DIR/packages.txt.tmp"

    trim_rootfs

    local used_kib files fs_mib free_mib img=$VM_IMAGE_DIR/root.img.tmp
    used_kib=$(du -sk --one-file-system "$ROOTFS" | cut -f1)
    files=$(find "$ROOTFS" -xdev | wc -l)
    # Content + 10% (block rounding, directories) + 128 MiB (journal, inode tables) + the free space.
    fs_mib=$(( used_kib * 11 / 10 / 1024 + 128 + LAB_VM_FREE_MIB ))
    log "mkfs.ext4 -d: ${fs_mib} MiB filesystem for $((used_kib / 1024)) MiB in $files files"
    truncate -s "${fs_mib}M" "$img"
    # -m 0: no root reserve, so all free space is usable; nodiscard: the file is sparse already.
    heavy mkfs.ext4 -q -F -L ROOT -m 0 -E nodiscard -d "$ROOTFS" "$img"
    check_fs "$img"
    free_mib=$(dumpe2fs -h "$img" 2>/dev/null |
               awk -F: '/^Free blocks/ {f=$2} /^Block size/ {b=$2} END {printf "%d", f * b / 1048576}')
    ((free_mib >= LAB_VM_FREE_MIB)) || die "only $free_mib MiB free in the image, wanted $LAB_VM_FREE_MIB"
    log "root image: $fs_mib MiB, $free_mib MiB free inside"
    # Read-only: the cached image is the backing file of every run's overlay and must stay pristine.
    chmod 0444 "$img"

    rm -f "$VM_IMAGE_DIR/pool.img.tmp"
    truncate -s "${LAB_VM_POOL_MIB}M" "$VM_IMAGE_DIR/pool.img.tmp"
    chmod 0444 "$VM_IMAGE_DIR/pool.img.tmp"

    local o
    for o in "${OUTPUTS[@]}"; do mv -f "$VM_IMAGE_DIR/$o.tmp" "$VM_IMAGE_DIR/$o"; done
    lowest_priority stamp_write "$STAMP" "$IMAGE_KEY" "${OUTPUTS[@]}"
    fingerprint >"$FINGERPRINT"
}

# ---------------------------------------------------------------------------------------------------
t0=$SECONDS
umount_stale
bootstrap_rootfs
install_packages
configure_node
check_minimal
make_image
# The rootfs is an intermediate; the image and the cached .debs make re-runs fast.
remove_rootfs
rm -f "$WORK"/.*.stamp
log "VM image built in $((SECONDS - t0)) s: $VM_IMAGE_DIR ($(du -sh "$VM_IMAGE_DIR" | cut -f1) on disk)"
