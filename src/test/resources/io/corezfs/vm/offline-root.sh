#!/bin/bash
# The archive on the node, through what the tool can do today: `install --root /` (the offline install, no
# systemctl) puts it in place, and the archive's own units activate ZFS at the next boot. Checks the archive
# itself (libraries, module index, units, presets) independently of the live installer.
# Boot 1: install. Boot 2: active at boot; make a pool. Boot 3: the pool was imported and mounted by the units.
source ./vmlib.sh
wait_booted
case $LAB_BOOT in
1)
    setup_tool
    readonly_usr
    run_cli install install --root / --archive "$(good_archive)"
    check_eq install-rc 0 "$RC"
    check usr-untouched-by-install test ! -e /usr/sbin/zfs
    check overlay-unit-enabled systemctl is-enabled zfs-overlay.service
    ;;
2)
    check_zfs_live boot2
    check_active boot2 overlay
    check stock-module-loads modprobe loop
    make_pool
    status_json boot2
    ;;
3)
    check_zfs_live boot3
    check_pool_after_reboot
    status_json boot3
    ;;
esac
finish
