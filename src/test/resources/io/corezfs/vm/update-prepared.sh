#!/bin/bash
# An OS update with the next version's archive prepared before the reboot, then a rollback (UpdateIT; issue 13's VM
# scenarios 1 and 3), over three boots of the same disks:
# Boot 1  kernel CURRENT_KERNEL, Flatcar CURRENT_VERSION: ZFS CURRENT_ZFS installed, a pool with data (fingerprint
#         kept). An update to NEXT_VERSION is staged (update_engine_client says UPDATED_NEED_REBOOT);
#         corezfs-prepare.service fetches NEXT_VERSION's archive from the file:// mirror into the store, and
#         `prepare --check` passes. Last, the release files a /usr swap would bring.
# Boot 2  kernel NEXT_KERNEL, Flatcar NEXT_VERSION: corezfs-boot.service made ZFS NEXT_ZFS active before the pool
#         import, the pool imported by itself with the same bytes, a stock module loads, status is right. Then the
#         release files go back to CURRENT_VERSION (the rollback: booting the other /usr partition again).
# Boot 3  kernel CURRENT_KERNEL, Flatcar CURRENT_VERSION: ZFS CURRENT_ZFS is back, from the store (the mirror never had
#         CURRENT_VERSION's archive), the pool imported, same bytes.
source ./vmlib.sh
source ./update-lib.sh
wait_booted
MIRROR_URL="file://${MIRROR_DIR:?}/"
case $LAB_BOOT in
1)
    check_eq boot1-kernel "$CURRENT_KERNEL" "$(uname -r)"
    check_eq boot1-os-version "$CURRENT_VERSION" "$(release_version)"
    setup_tool
    install_update_engine_stand_in
    write_config "$MIRROR_URL"
    run_cli install install --mode "$MODE" --archive "$(good_archive)"
    check_eq install-rc 0 "$RC"
    check_zfs_live boot1
    check_active boot1 "$MODE"
    check_zfs_is boot1 "$CURRENT_ZFS"
    make_pool
    # What the boot unit costs when nothing changed (the installed archive matches), to set against the swap at boot 2
    # (BENCHMARKS.md, "The boot with a swap").
    check boot1-boot-unit-matched systemctl restart corezfs-boot.service
    boot_unit_time boot1-boot-unit-matched
    # Nothing pending: the gate asks for the running version's archive, which the install left in the store.
    run_cli check-running prepare --check
    check_eq check-running-rc 0 "$RC"

    update_engine_need_reboot "$NEXT_VERSION"
    run_cli check-before prepare --check
    check_eq check-before-rc 3 "$RC"
    check_eq prepare-timer-enabled enabled "$(systemctl is-enabled corezfs-prepare.timer 2>&1)"
    t=$(now)
    check prepare-unit systemctl start corezfs-prepare.service
    echo "TIME prepare-unit $(elapsed "$t")"
    info "corezfs-prepare.service: $(journalctl -b --no-pager -o cat -u corezfs-prepare.service 2>&1 | tail -n 20 | tr '\n' '|')"
    jvm_check prepare-unit
    if store_has "$NEXT_VERSION"; then ok store-has-next; else fail store-has-next "store: $(store_listing)"; fi
    run_cli prepare-again prepare --from-update-engine
    check_eq prepare-again-rc 0 "$RC"
    run_cli check-pending prepare --check
    check_eq check-pending-rc 0 "$RC"
    # Preparing touched nothing live.
    check_zfs_is boot1-after-prepare "$CURRENT_ZFS"
    status_json boot1
    # The reboot into the new version: update_engine is idle again afterwards, and the other /usr partition's
    # release files are what the node reads.
    update_engine_idle
    set_release "$NEXT_VERSION"
    ;;
2)
    check_eq boot2-kernel "$NEXT_KERNEL" "$(uname -r)"
    check_eq boot2-os-version "$NEXT_VERSION" "$(release_version)"
    check_boot_unit boot2
    check_zfs_live boot2
    check_active boot2 "$MODE"
    check_zfs_is boot2 "$NEXT_ZFS"
    check_active_before_import boot2
    check_pool_after_reboot
    check_stock_module boot2
    run_cli check-after-update prepare --check
    check_eq check-after-update-rc 0 "$RC"
    # KEEP=2: the previous version's archive stays for a rollback.
    if store_has "$CURRENT_VERSION"; then ok store-keeps-previous; else fail store-keeps-previous "store: $(store_listing)"; fi
    status_json boot2
    set_release "$CURRENT_VERSION"
    ;;
3)
    check_eq boot3-kernel "$CURRENT_KERNEL" "$(uname -r)"
    check_eq boot3-os-version "$CURRENT_VERSION" "$(release_version)"
    check_boot_unit boot3
    check_zfs_live boot3
    check_active boot3 "$MODE"
    check_zfs_is boot3 "$CURRENT_ZFS"
    check_active_before_import boot3
    check_pool_after_reboot
    check_stock_module boot3
    status_json boot3
    ;;
esac
finish
