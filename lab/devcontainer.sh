#!/usr/bin/env bash
# Builds a stand-in for Flatcar's developer container from Debian packages only, in Flatcar's published
# format, into $LAB_CACHE/devcontainer/<board>/<version>/:
#   flatcar_developer_container.bin.bz2          raw GPT disk, partition 9 "ROOT" = ext4 rootfs
#   flatcar_developer_container.bin.bz2.DIGESTS  Flatcar's (Gentoo's) format: # MD5/SHA1/SHA512 HASH
#   flatcar_developer_container.bin.bz2.sig      detached binary OpenPGP signature
# signed by a throwaway key whose public half is $LAB_CACHE/keys/test-signing-key.asc.
#
# Why a stand-in: no real Flatcar image can be downloaded here. What corezfs relies on is the shape:
# the compressed GPT, partition 9 by label, the kernel build tree at /usr/lib/modules/<KV>/build
# (+ source), the release files, and the signature + digests. All of those are real here.
#
# Steps, each skipped when its stamp is current: signing key, debootstrap, packages in the chroot,
# Flatcar layout, ext4 + GPT image, bzip2, digests + signature. The unpacked rootfs is deleted at the
# end; the downloaded .debs are kept in $LAB_CACHE/debs so a rebuild does not download again.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root
ensure_host
lab_lock devcontainer

OUT=$LAB_DEVCONTAINER_DIR
IMG=$OUT/$LAB_DEVCONTAINER_NAME
WORK=$LAB_CACHE/work/devcontainer-$LAB_FLATCAR_BOARD-$LAB_FLATCAR_VERSION
ROOTFS=$WORK/rootfs
DEBS=$LAB_CACHE/debs

# The developer container must build ZFS (kernel + userland, LAB.md) and kernel modules in general.
BUILD_DEPS=(build-essential autoconf automake libtool gawk uuid-dev libblkid-dev libudev-dev libssl-dev
            zlib1g-dev libaio-dev libattr1-dev libelf-dev libtirpc-dev python3 bc kmod cpio)
# Debian splits a kernel's headers: the arch/flavour tree (generated files, .config, Module.symvers)
# and the -common tree (the sources' headers and Makefiles), plus the kbuild host tools.
KERNEL_PKGS=("linux-headers-$LAB_KV" "linux-headers-$LAB_KERNEL_ABI-common" "$LAB_KBUILD_PACKAGE")
# The kernel's own modules, as Flatcar's developer container carries them: a module index made at build
# time must list the base modules too, or it would hide them once the overlay puts it over /usr.
MODULES_PKG="linux-image-$LAB_KV"

# Type GUIDs Flatcar uses: ROOT is "coreos-resize" (grown to the disk on first boot); partition 1 is
# an empty BIOS-boot partition that only pushes ROOT to the real image's offset.
GUID_COREOS_RESIZE=3884DD41-8582-4404-B9A8-E9B84F2DF50E
GUID_BIOS_BOOT=21686148-6449-6E6F-744E-656564454649

# The image's input key: everything that decides its content. Editing this script, a pinned version
# or the package lists rebuilds it; anything else (the signing key, lib.sh) does not. lib.sh's chroot
# helpers (debootstrap, apt, trim) shape the image too: a change there that must reach the image needs
# a change here as well.
IMAGE_KEY=$(input_key "$0" "$LAB_DEBIAN_SUITE" "$LAB_DEBIAN_MIRROR" "$LAB_DEBIAN_SECURITY_MIRROR" \
    "$LAB_KV" "$LAB_KBUILD_PACKAGE" "suite $LAB_KERNEL_SUITE" "$LAB_FLATCAR_VERSION" "$LAB_FLATCAR_BOARD" "$LAB_FLATCAR_CHANNEL" \
    "$LAB_FLATCAR_APPID" "$LAB_ROOT_START_SECTOR" "${BUILD_DEPS[*]}" "${KERNEL_PKGS[*]}" "$MODULES_PKG")
IMAGE_STAMP=$OUT/.image.stamp
SIGN_STAMP=$OUT/.signed.stamp

# ---------------------------------------------------------------------------------------------------
# Signing key: generated once, kept in a private GNUPGHOME under the cache, so every image the lab
# makes is signed by the same key and tests can pin its exported public half.
ensure_signing_key() {
    if [[ -s $LAB_PUBKEY ]] && lab_gpg --list-secret-keys 2>/dev/null | grep -q .; then
        return
    fi
    log "generating the throwaway signing key in $LAB_GNUPGHOME"
    rm -rf "$LAB_GNUPGHOME"
    mkdir -p "$(dirname "$LAB_GNUPGHOME")" "$(dirname "$LAB_PUBKEY")"
    mkdir -m 700 "$LAB_GNUPGHOME"
    # RSA like Flatcar's own image signing key; no passphrase, it protects nothing real.
    heavy gpg --homedir "$LAB_GNUPGHOME" --batch --no-tty --quiet --pinentry-mode loopback --passphrase '' \
        --quick-generate-key 'corezfs lab test signing key (throwaway, NOT Flatcar) <lab@corezfs.invalid>' \
        rsa3072 sign never
    lab_gpg --armor --export >"$LAB_PUBKEY.tmp"
    mv -f "$LAB_PUBKEY.tmp" "$LAB_PUBKEY"
    # gpg started an agent for this home; stop it so nothing of ours keeps running.
    gpgconf --homedir "$LAB_GNUPGHOME" --kill gpg-agent
}

# ---------------------------------------------------------------------------------------------------
# The chroot's mounts and its guards are lib.sh's (mount_in_root, umount_stale, remove_rootfs); this
# trap unmounts whatever is still mounted, on any exit.
cleanup() {
    umount_all
    # A stopped gpg leaves an agent; only ours, by its private home.
    if [[ -d $LAB_GNUPGHOME ]]; then gpgconf --homedir "$LAB_GNUPGHOME" --kill gpg-agent 2>/dev/null || true; fi
    rm -f "$WORK/root.ext4" "$WORK/disk.bin"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP    # so that cleanup runs on Ctrl-C or kill too

# ---------------------------------------------------------------------------------------------------
# 1. debootstrap: minbase bookworm, its .debs cached so a rebuild works from the cache (lib.sh's
#    bootstrap_rootfs).

# 2. Packages: build deps + one ABI's headers (lib.sh's chroot_apt_install), then the kernel's modules.
install_packages() {
    local key; key=$(input_key "$(head -n1 "$WORK/.debootstrap.stamp")" "$LAB_DEBIAN_SECURITY_MIRROR" \
        "${BUILD_DEPS[*]}" "${KERNEL_PKGS[*]}" "suite $LAB_KERNEL_SUITE")
    stamp_ok "$WORK/.packages.stamp" "$key" && return
    log "installing build deps and ${KERNEL_PKGS[*]} in the chroot"
    chroot_apt_install "${BUILD_DEPS[@]}" "${KERNEL_PKGS[@]}"
    # Unpacked rather than installed: its maintainer scripts would build an initramfs nobody boots.
    in_root sh -c "cd /var/cache/apt/archives && apt-get -qq download $MODULES_PKG" >>"$WORK/apt.log" 2>&1 ||
        { tail -n 30 "$WORK/apt.log" >&2; die "apt-get download $MODULES_PKG failed"; }
    local deb; deb=$(ls "$DEBS/apt/${MODULES_PKG}_"*.deb | head -n1)
    # Unpacked beside the rootfs, then copied: dpkg-deb -x onto it would turn the merged-/usr links
    # (/lib -> usr/lib) into real directories and break the chroot's loader.
    local kimage=$WORK/kimage
    rm -rf "$kimage"
    heavy dpkg-deb -x "$deb" "$kimage"
    local kmods; kmods=$(find "$kimage" -maxdepth 3 -type d -path "*/modules/$LAB_KV" | head -n1)
    [[ -n $kmods && -d $kmods/kernel ]] || die "$deb has no modules for $LAB_KV"
    mkdir -p "$ROOTFS/usr/lib/modules/$LAB_KV" "$ROOTFS/boot"
    cp -a "$kmods"/. "$ROOTFS/usr/lib/modules/$LAB_KV/"
    cp -a "$kimage/boot/System.map-$LAB_KV" "$ROOTFS/boot/"
    rm -rf "$kimage"
    in_root depmod "$LAB_KV"
    umount_all
    stamp_write "$WORK/.packages.stamp" "$key"
}

# 3. The Flatcar layout. Flatcar ships the kernel build tree at /usr/lib/modules/<KV>/build with a
#    source link beside it. Debian's headers package already has both under /lib/modules/<KV> (= /usr/lib
#    here, merged /usr), but as absolute links: build -> /usr/src/linux-headers-<KV> (the arch/object
#    tree) and source -> /usr/src/linux-headers-<ABI>-common. That split is the right one (pointing both
#    at the arch tree fails ZFS's configure: LAB.md); the links are made relative so they still resolve
#    when the image is loop-mounted or unpacked elsewhere, not only inside the container.
flatcar_layout() {
    local moddir=$ROOTFS/usr/lib/modules/$LAB_KV
    [[ -f $ROOTFS/usr/src/linux-headers-$LAB_KV/Makefile ]] || die "arch headers missing in the chroot"
    [[ -f $ROOTFS/usr/src/linux-headers-$LAB_KERNEL_ABI-common/Makefile ]] || die "common headers missing"
    mkdir -p "$moddir"
    ln -sfn "../../../src/linux-headers-$LAB_KV" "$moddir/build"
    ln -sfn "../../../src/linux-headers-$LAB_KERNEL_ABI-common" "$moddir/source"
    write_flatcar_release "$ROOTFS"
}

# 4. Prove the tree builds an out-of-tree module for KV before publishing it (a few seconds): this
#    catches a wrong link or a missing kbuild/compiler package here rather than in corezfs's build.
check_module_build() {
    local d=$ROOTFS/tmp/lab-hello
    rm -rf "$d" && mkdir -p "$d"
    printf '%s\n' '#include <linux/module.h>' 'MODULE_LICENSE("GPL");' \
        'static int __init h_init(void) { return 0; }' 'static void __exit h_exit(void) { }' \
        'module_init(h_init);' 'module_exit(h_exit);' >"$d/hello.c"
    echo 'obj-m := hello.o' >"$d/Kbuild"
    mount_in_root "$ROOTFS/proc" -t proc proc
    in_root make -s -C "/usr/lib/modules/$LAB_KV/build" M=/tmp/lab-hello modules >"$WORK/hello.log" 2>&1 ||
        { cat "$WORK/hello.log" >&2; die "test module does not build against /usr/lib/modules/$LAB_KV/build"; }
    local vermagic; vermagic=$(in_root modinfo -F vermagic /tmp/lab-hello/hello.ko)
    umount_all
    [[ $vermagic == "$LAB_KV "* ]] || die "test module has vermagic '$vermagic', expected $LAB_KV"
    rm -rf "$d"
    log "test module built against $LAB_KV (vermagic: $vermagic)"
}

# 5. Leave nothing of this machine or of the build in the image: lib.sh's trim_rootfs.

# 6. The disk image: an ext4 filesystem made straight from the directory (mkfs.ext4 -d, no mount),
#    placed as partition 9 "ROOT" of a GPT disk at LAB_ROOT_START_SECTOR, then bzip2'd.
make_image() {
    local part=$WORK/root.ext4 disk=$WORK/disk.bin
    local used_kib files fs_mib inodes start size total
    used_kib=$(du -sk --one-file-system "$ROOTFS" | cut -f1)
    files=$(find "$ROOTFS" -xdev | wc -l)
    # Room for ext4's metadata and journal plus a little free space; inodes counted, not guessed,
    # since kernel headers are tens of thousands of small files.
    fs_mib=$(( (used_kib * 6 / 5 / 1024 + 128 + 3) / 4 * 4 ))
    inodes=$(( files + files / 4 + 8192 ))
    log "mkfs.ext4 -d: ${fs_mib} MiB filesystem for $((used_kib / 1024)) MiB in $files files"
    rm -f "$part"
    truncate -s "${fs_mib}M" "$part"
    heavy mkfs.ext4 -q -F -L ROOT -N "$inodes" -E nodiscard -d "$ROOTFS" "$part"
    check_fs "$part"

    start=$LAB_ROOT_START_SECTOR
    ((start >= 4096 && start % 2048 == 0)) || die "LAB_ROOT_START_SECTOR must be a MiB multiple >= 4096"
    size=$(( fs_mib * 2048 ))
    total=$(( start + size + 2048 ))   # 1 MiB at the end holds the backup GPT
    rm -f "$disk"
    truncate -s $(( total * 512 )) "$disk"
    sfdisk -q --no-reread --no-tell-kernel "$disk" <<EOF
label: gpt
unit: sectors
first-lba: 2048
${disk}1 : start=2048, size=$(( start - 2048 )), type=$GUID_BIOS_BOOT, name="BIOS-BOOT"
${disk}9 : start=$start, size=$size, type=$GUID_COREOS_RESIZE, name="ROOT"
EOF
    [[ $(partition_offset "$disk" 9) -eq $(( start * 512 )) ]] || die "partition 9 is not where it was put"
    heavy dd if="$part" of="$disk" bs=1M seek=$(( start * 512 / 1048576 )) conv=notrunc,sparse status=none
    rm -f "$part"

    log "compressing with lbzip2"
    mkdir -p "$OUT"
    rm -f "$OUT/.image.stamp" "$SIGN_STAMP"
    heavy lbzip2 -c "$disk" >"$IMG.tmp"
    mv -f "$IMG.tmp" "$IMG"
    rm -f "$disk"
    stamp_write "$IMAGE_STAMP" "$IMAGE_KEY" "$(basename "$IMG")"
}

# 7. DIGESTS and signature, redone whenever the image or the key changed. The DIGESTS layout is the
#    one Flatcar's build_library writes: for each hash, a "# <TYPE> HASH" line then "<hex>  <name>".
sign_image() {
    local name key; name=$(basename "$IMG")
    key=$(input_key "$(sed -n 2p "$IMAGE_STAMP")" "$LAB_PUBKEY")
    stamp_ok "$SIGN_STAMP" "$key" && return
    log "writing $name.DIGESTS and $name.sig"
    (
        cd "$OUT"
        for h in md5 sha1 sha512; do
            echo "# ${h^^} HASH"
            "${h}sum" "$name"
        done
    ) >"$IMG.DIGESTS.tmp"
    mv -f "$IMG.DIGESTS.tmp" "$IMG.DIGESTS"
    rm -f "$IMG.sig.tmp"
    heavy gpg --homedir "$LAB_GNUPGHOME" --batch --no-tty --quiet --detach-sign --output "$IMG.sig.tmp" "$IMG"
    mv -f "$IMG.sig.tmp" "$IMG.sig"
    stamp_write "$SIGN_STAMP" "$key" "$name.DIGESTS" "$name.sig"
}

# ---------------------------------------------------------------------------------------------------
ensure_signing_key
if stamp_ok "$IMAGE_STAMP" "$IMAGE_KEY"; then
    log "image up to date: $IMG"
else
    t0=$SECONDS
    umount_stale
    bootstrap_rootfs
    install_packages
    flatcar_layout
    check_module_build
    trim_rootfs
    make_image
    # The rootfs is only an intermediate; the image and the cached .debs are what make re-runs fast.
    remove_rootfs
    rm -f "$WORK"/.*.stamp
    log "image built in $((SECONDS - t0)) s: $IMG ($(du -h "$IMG" | cut -f1))"
fi
sign_image
log "developer container ready in $OUT"
