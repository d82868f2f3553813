#!/bin/bash
# An OS update for which no archive exists (UpdateIT; issue 13's VM scenario 2), over two boots of the same disks:
# Boot 1  kernel CURRENT_KERNEL, Flatcar CURRENT_VERSION: ZFS CURRENT_ZFS installed, a pool with data. An update to
#         NEXT_VERSION is staged, the mirror has nothing for it: `prepare --check` says what is missing (exit 3).
# Boot 2  kernel NEXT_KERNEL, Flatcar NEXT_VERSION: corezfs-boot.service leaves ZFS off and says which archive is
#         missing, the node is up, the pool is not imported. Then the operator installs NEXT_ARCHIVE live: ZFS comes
#         up, the pool imports and mounts by itself, with the same bytes.
source ./vmlib.sh
source ./update-lib.sh
wait_booted
MIRROR_URL="file://${MIRROR_DIR:?}/"
case $LAB_BOOT in
1)
    check_eq boot1-kernel "$CURRENT_KERNEL" "$(uname -r)"
    setup_tool
    install_update_engine_stand_in
    write_config "$MIRROR_URL"
    run_cli install install --mode "$MODE" --archive "$(good_archive)"
    check_eq install-rc 0 "$RC"
    check_zfs_live boot1
    check_zfs_is boot1 "$CURRENT_ZFS"
    make_pool
    update_engine_need_reboot "$NEXT_VERSION"
    run_cli check-missing prepare --check
    check_eq check-missing-rc 3 "$RC"
    if [[ $ERR == *"$NEXT_VERSION"* ]]; then ok check-missing-names-version; else fail check-missing-names-version "$ERR"; fi
    update_engine_idle
    set_release "$NEXT_VERSION"
    ;;
2)
    check_eq boot2-kernel "$NEXT_KERNEL" "$(uname -r)"
    check_eq boot2-os-version "$NEXT_VERSION" "$(release_version)"
    check_boot_unit boot2 off
    check booted-to-multi-user systemctl is-active multi-user.target
    check_not boot2-no-module test -d /sys/module/zfs
    check_not boot2-pool-untouched test -e "/$POOL/data/blob"
    log=$(journalctl -b --no-pager -o cat -u corezfs-boot.service 2>&1)
    if [[ $log == *"no usable archive"*"$NEXT_VERSION"* ]]; then ok boot2-journal-says-missing; else fail boot2-journal-says-missing "$log"; fi
    status_json boot2-off
    zfs_units_state before-install
    run_cli install-next install --mode "$MODE" --archive "$ARCHIVES/${NEXT_ARCHIVE:?}"
    check_eq install-next-rc 0 "$RC"
    check_zfs_live boot2
    check_zfs_is boot2 "$NEXT_ZFS"
    wait_mounted 180
    check_pool_after_reboot
    zfs_units_state after
    info "journal: $(journalctl -b --no-pager -o short-monotonic -u zfs-import-cache.service -u zfs-import-scan.service -u zfs-mount.service -u zfs-import.target -u zfs.target 2>&1 | tail -n 60 | tr '\n' '|')"
    info "zfs-mount unit: $(systemctl cat zfs-mount.service 2>&1 | tr '\n' '|')"
    info "wants: $(systemctl show -p Wants zfs.target zfs-import.target 2>&1 | tr '\n' '|')"
    info "zfs get: $(zfs get -r -H -o name,property,value mounted,canmount,mountpoint $POOL 2>&1 | tr '\n' '|')"
    info "mounts: $(grep -E 'zfs|labpool' /proc/self/mountinfo | tr '\n' '|')"
    info "ls /labpool: $(ls -la /$POOL 2>&1 | tr '\n' '|')"
    status_json boot2
    ;;
esac
finish
