#!/usr/bin/env bash
# Builds the lab's SSH node image for the fleet tests: Debian minbase with openssh-server, sudo and openssl (Flatcar
# has openssl, and a push hashes with it where it is there; the VM nodes of vm-sshd.sh lack it, so both ways run),
# imported into Docker (there is no registry) as corezfs-lab/sshd:<key>. Printed on stdout as the last line.
#   users   core   passwordless sudo (as on Flatcar)
#           pwuser sudo that wants a password (the "sudo asks" case)
#   start   /usr/local/sbin/lab-sshd PORT: makes fresh host keys, installs /lab/authorized_keys (if the test
#           copied one in) for both users, then runs sshd in the foreground on 127.0.0.1:PORT only, public
#           keys only. Each container has its own host keys.
# Nothing else from the lab goes in: the tests give each container its Flatcar-like root and authorized_keys.
# Cached: $LAB_CACHE/sshd/.image.stamp holds the input key; the image is rebuilt only when this script, lib.sh
# or the suite change, or the image is gone from the engine.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

KEY=$(input_key "$0" "$LAB_DIR/lib.sh" "$LAB_DEBIAN_SUITE" "$LAB_DEBIAN_MIRROR" openssh-server sudo openssl)
IMAGE=corezfs-lab/sshd:${KEY:0:12}
OUT=$LAB_CACHE/sshd
STAMP=$OUT/.image.stamp

if stamp_ok "$STAMP" "$KEY" && docker image inspect "$IMAGE" >/dev/null 2>&1; then
    log "sshd image up to date: $IMAGE"
    echo "$IMAGE"
    exit 0
fi
need_root
ensure_host
lab_lock sshd-image
"$LAB_DIR/docker.sh"

WORK=$LAB_CACHE/work/sshd
ROOTFS=$WORK/rootfs
DEBS=$LAB_CACHE/debs
mkdir -p "$OUT" "$WORK"
umount_stale

cleanup() { umount_all; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

start=$(date +%s)
# Always from a fresh debootstrap: the users and files below are added to a clean tree only.
remove_rootfs
rm -f "$WORK"/.*.stamp
bootstrap_rootfs
chroot_apt_install openssh-server sudo openssl
umount_all

# Host keys are made at each container's start, never baked into the image.
rm -f "$ROOTFS"/etc/ssh/ssh_host_*
mkdir -p "$ROOTFS/run/sshd"
in_root useradd -m -s /bin/bash core
in_root useradd -m -s /bin/bash pwuser
# Locked passwords would make sshd refuse even key logins for some PAM set-ups: '*' = no password, login allowed.
in_root usermod -p '*' core
in_root usermod -p '*' pwuser
printf '%s\n' 'core ALL=(ALL) NOPASSWD: ALL' >"$ROOTFS/etc/sudoers.d/core"
printf '%s\n' 'pwuser ALL=(ALL) ALL' >"$ROOTFS/etc/sudoers.d/pwuser"
chmod 0440 "$ROOTFS/etc/sudoers.d/core" "$ROOTFS/etc/sudoers.d/pwuser"
cat >"$ROOTFS/usr/local/sbin/lab-sshd" <<'SCRIPT'
#!/bin/sh
# lab-sshd PORT: fresh host keys, then sshd on 127.0.0.1:PORT in the foreground, public keys only.
set -e
ssh-keygen -A >/dev/null
if [ -f /lab/authorized_keys ]; then
    for u in core pwuser; do
        install -d -m 0700 -o "$u" -g "$u" "/home/$u/.ssh"
        install -m 0600 -o "$u" -g "$u" /lab/authorized_keys "/home/$u/.ssh/authorized_keys"
    done
fi
exec /usr/sbin/sshd -D -e -p "$1" -o ListenAddress=127.0.0.1 -o PasswordAuthentication=no \
    -o KbdInteractiveAuthentication=no -o UsePAM=no -o MaxStartups=64 -o MaxSessions=64
SCRIPT
chmod 0755 "$ROOTFS/usr/local/sbin/lab-sshd"
trim_rootfs

log "importing $IMAGE"
tar -C "$ROOTFS" -c . | docker import -c 'CMD ["/usr/local/sbin/lab-sshd", "22"]' - "$IMAGE" >/dev/null
stamp_write "$STAMP" "$KEY"
log "sshd image built in $(($(date +%s) - start)) s: $IMAGE"
echo "$IMAGE"
