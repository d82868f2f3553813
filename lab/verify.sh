#!/usr/bin/env bash
# Checks what the lab produced, the way a consumer of real Flatcar artifacts would see it:
#   - the GPT has partition 9 named ROOT at the pinned offset (sfdisk -d);
#   - that partition loop-mounts read-only at its offset and carries /usr/lib/modules/<KV>/build/Makefile
#     (and source/Makefile) through relative links, plus the release files;
#   - the .sig verifies with gpg against the exported public key alone (fresh keyring, not the signer's);
#   - every hash in .DIGESTS matches;
#   - the served tree answers over http://127.0.0.1:$LAB_PORT/ with the same bytes (the server is started
#     for the check and stopped again if it was not already running);
#   - the host root says Flatcar, with the kernel the headers are for.
# Read-only towards the artifacts; its scratch space ($LAB_CACHE/work/verify) is removed at the end.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root
ensure_host
lab_lock verify

NAME=$LAB_DEVCONTAINER_NAME
IMG=$LAB_DEVCONTAINER_DIR/$NAME
SCRATCH=$LAB_CACHE/work/verify
MNT=$SCRATCH/mnt
started_server=0

cleanup() {
    if mountpoint -q "$MNT" 2>/dev/null; then umount "$MNT"; fi
    if [[ -d $SCRATCH/gnupg ]]; then gpgconf --homedir "$SCRATCH/gnupg" --kill all 2>/dev/null || true; fi
    if ((started_server)); then "$LAB_DIR/stop.sh" || true; fi
    if [[ -d $SCRATCH ]] && ! mountpoint -q "$MNT" 2>/dev/null; then rm -rf --one-file-system "$SCRATCH"; fi
}
trap cleanup EXIT
ok() { log "ok: $*"; }

[[ -f $IMG ]] || die "no $IMG (run lab/devcontainer.sh)"
rm -rf "$SCRATCH"
mkdir -p "$MNT"

# --- image ---------------------------------------------------------------------------------------
disk=$SCRATCH/disk.bin
heavy lbzip2 -dc "$IMG" | heavy dd of="$disk" bs=1M iflag=fullblock conv=sparse status=none
sfdisk -d "$disk" >"$SCRATCH/sfdisk.txt"
sed 's/^/    /' "$SCRATCH/sfdisk.txt" >&2
grep -Eq '^[^ ]*9 : .*name="ROOT"' "$SCRATCH/sfdisk.txt" || die "partition 9 is not named ROOT"
offset=$(partition_offset "$disk" 9)
[[ $offset -eq $((LAB_ROOT_START_SECTOR * 512)) ]] || die "partition 9 at byte $offset, expected $((LAB_ROOT_START_SECTOR * 512))"
ok "partition 9 ROOT at byte $offset"

mount -o loop,ro,offset="$offset" "$disk" "$MNT"
mod=$MNT/usr/lib/modules/$LAB_KV
[[ -f $mod/build/Makefile ]] || die "no /usr/lib/modules/$LAB_KV/build/Makefile in the image"
[[ -f $mod/source/Makefile ]] || die "no /usr/lib/modules/$LAB_KV/source/Makefile in the image"
[[ $(readlink "$mod/build") == ../../../src/linux-headers-$LAB_KV ]] || die "build link: $(readlink "$mod/build")"
[[ $(readlink "$mod/source") == ../../../src/linux-headers-$LAB_KERNEL_ABI-common ]] || die "source link: $(readlink "$mod/source")"
ok "/usr/lib/modules/$LAB_KV/build/Makefile and source/Makefile (relative links to the arch and -common trees)"
grep -qx "FLATCAR_RELEASE_VERSION=$LAB_FLATCAR_VERSION" "$MNT/usr/share/flatcar/release" || die "image release file"
[[ $(readlink "$MNT/etc/os-release") == ../usr/lib/os-release ]] || die "image /etc/os-release is not ../usr/lib/os-release"
grep -qx 'ID=flatcar' "$MNT/usr/lib/os-release" || die "image os-release does not say ID=flatcar"
[[ $(ls "$MNT/usr/lib/modules") == "$LAB_KV" ]] || die "the image must carry exactly one kernel: $(ls "$MNT/usr/lib/modules")"
ok "image release files say Flatcar $LAB_FLATCAR_VERSION $LAB_FLATCAR_BOARD"
umount "$MNT"
rm -f "$disk"

# --- signature and digests -------------------------------------------------------------------------
mkdir -m 700 "$SCRATCH/gnupg"
gpg --homedir "$SCRATCH/gnupg" --batch --quiet --import "$LAB_PUBKEY" 2>/dev/null
gpg --homedir "$SCRATCH/gnupg" --batch --status-fd 1 --verify "$IMG.sig" "$IMG" 2>/dev/null | grep -q '^\[GNUPG:\] GOODSIG' ||
    die "gpg --verify of $NAME.sig with $LAB_PUBKEY failed"
ok "gpg --verify $NAME.sig with $(basename "$LAB_PUBKEY")"

checked=0
while IFS= read -r line; do
    if [[ $line =~ ^#\ ([A-Z0-9]+)\ HASH$ ]]; then algo=${BASH_REMATCH[1],,}; continue; fi
    [[ $line =~ ^([0-9a-f]+)\ \ (.+)$ ]] || die "malformed DIGESTS line: $line"
    [[ ${BASH_REMATCH[2]} == "$NAME" ]] || die "DIGESTS names ${BASH_REMATCH[2]}"
    [[ $("${algo}sum" <"$IMG" | cut -d' ' -f1) == "${BASH_REMATCH[1]}" ]] || die "$algo mismatch in DIGESTS"
    checked=$((checked + 1))
done <"$IMG.DIGESTS"
((checked == 3)) || die "DIGESTS has $checked hashes, expected MD5, SHA1 and SHA512"
ok "DIGESTS: md5, sha1, sha512 match"

# --- served tree -----------------------------------------------------------------------------------
if [[ ! -f $LAB_RUN/http.pid ]]; then
    "$LAB_DIR/serve.sh"
    started_server=1
fi
base=http://127.0.0.1:$LAB_PORT
for rel in "$LAB_FLATCAR_BOARD/$LAB_FLATCAR_VERSION/$NAME" "$LAB_FLATCAR_BOARD/$LAB_FLATCAR_VERSION/$NAME.sig" \
           "$LAB_FLATCAR_BOARD/$LAB_FLATCAR_VERSION/$NAME.DIGESTS" \
           "openzfs/zfs/releases/download/zfs-$LAB_ZFS_VERSION/zfs-$LAB_ZFS_VERSION.tar.gz"; do
    got=$(curl -fsS "$base/$rel" | sha256sum | cut -d' ' -f1)
    [[ $got == $(sha256sum <"$LAB_MIRROR/$rel" | cut -d' ' -f1) ]] || die "served $rel differs from the mirror"
    ok "curl -fsS $base/$rel"
done
[[ $(curl -fsS "$base/openzfs/zfs/releases/download/zfs-$LAB_ZFS_VERSION/zfs-$LAB_ZFS_VERSION.tar.gz" |
     sha256sum | cut -d' ' -f1) == "$LAB_ZFS_SHA256" ]] || die "served ZFS tarball is not the pinned one"
ok "served zfs-$LAB_ZFS_VERSION.tar.gz has the pinned sha256"

# --- host root -------------------------------------------------------------------------------------
[[ $(cat "$LAB_HOSTROOT/proc/sys/kernel/osrelease") == "$LAB_KV" ]] || die "hostroot osrelease"
[[ $(readlink "$LAB_HOSTROOT/etc/os-release") == ../usr/lib/os-release ]] || die "hostroot os-release link"
grep -qx "GROUP=$LAB_FLATCAR_CHANNEL" "$LAB_HOSTROOT/usr/share/flatcar/update.conf" || die "hostroot update.conf"
ok "host root: Flatcar $LAB_FLATCAR_VERSION, kernel $LAB_KV"

log "all checks passed"
