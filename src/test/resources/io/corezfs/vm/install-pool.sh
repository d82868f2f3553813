#!/bin/bash
# S1/S2: live install in MODE (overlay or sysext), a real pool on /dev/vdb, reboot, everything comes back.
# Boot 1: install, check activation, reinstall is a no-op, create pool/dataset/zvol/snapshot/clone.
# Boot 2: the units imported and mounted the pool, the bytes are the same, status reports it.
source ./vmlib.sh
wait_booted
case $LAB_BOOT in
1)
    setup_tool
    readonly_usr
    run_cli version --version
    run_cli install install --mode "$MODE" --archive "$(good_archive)"
    check_eq install-rc 0 "$RC"
    check_zfs_live boot1
    check_active boot1 "$MODE"
    run_cli reinstall install --mode "$MODE" --archive "$(good_archive)"
    check_eq reinstall-rc 0 "$RC"
    make_pool
    status_json boot1
    ;;
2)
    check_zfs_live boot2
    check_active boot2 "$MODE"
    check_pool_after_reboot
    status_json boot2
    ;;
esac
finish
