#!/bin/bash
# Issue 15: a node provisioned by an Ignition config from `corezfs provision`, applied by the real Ignition in the
# initrd of its first boot (lab/vm-ignition-initrd.sh). Nobody runs corezfs here: the units the config brought do it, and this
# script only looks.
# SCENARIO A (archive delivered by Ignition) and B (mirror only): boot 1 waits for the first install that
#   corezfs-boot.service handed to corezfs-boot-late.service, checks ZFS is live and makes a pool; boot 2 (A) checks
#   the pool imported by itself with the same bytes.
# SCENARIO C (Ignition refused a tampered download): nothing of corezfs is on the node.
source ./vmlib.sh
wait_booted
mkdir -p /var/lib/corezfs-lab

# The late unit is started without waiting by corezfs-boot.service; wait for it to end (at most 10 minutes).
wait_late() {
    local i st
    for ((i = 0; i < 600; i++)); do
        st=$(systemctl show -p ActiveState --value corezfs-boot-late.service)
        [[ $st == activating ]] || break
        sleep 1
    done
    info "corezfs-boot-late.service: $st ($(systemctl show -p Result --value corezfs-boot-late.service))"
}
journal() { journalctl -b -u "$1" -o cat --no-pager 2>&1 | tail -n 25 | sed "s/^/  [$1] /"; }

case ${SCENARIO:?}-$LAB_BOOT in
A-1 | B-1)
    check tool-unpacked test -x /opt/corezfs-tool/bin/corezfs
    check unpack-unit-ran systemctl is-active corezfs-unpack.service
    journal corezfs-unpack.service
    journal corezfs-boot.service
    wait_late
    journal corezfs-boot-late.service
    check_eq late-unit-succeeded success "$(systemctl show -p Result --value corezfs-boot-late.service)"
    status_json boot1
    check_zfs_live boot1
    check zfs-version-matches sh -c "zfs version | grep -q 'zfs-kmod-${ZFS_VERSION:?}'"
    check boot-unit-enabled systemctl is-enabled corezfs-boot.service
    make_pool
    ;;
A-2 | B-2)
    journal corezfs-boot.service
    check_zfs_live boot2
    check_pool_after_reboot
    status_json boot2
    ;;
C-1)
    check_not no-tool test -e /opt/corezfs-tool
    check_not no-zfs test -e /opt/corezfs
    check_not no-boot-unit test -e /etc/systemd/system/corezfs-boot.service
    check_not no-module test -d /sys/module/zfs
    ;;
esac
finish
