#!/bin/bash
# An OS update with NO archive for the next version (UpdateIT; issue 13's VM scenario 2), over two boots:
# Boot 1  kernel CURRENT_KERNEL, Flatcar CURRENT_VERSION: ZFS CURRENT_ZFS installed, a pool with data. An update to
#         NEXT_VERSION is staged; the node's mirror (file://, published but without NEXT_VERSION) cannot serve it and
#         the node may not build, so `prepare --from-update-engine` fails and `prepare --check` exits 3 and says why.
#         The reboot happens anyway (release files of NEXT_VERSION).
# Boot 2  kernel NEXT_KERNEL: the node boots, no ZFS module is loaded, the pool is untouched, and corezfs-boot's
#         journal and `status` say what is missing. Then `corezfs install --archive` with NEXT_VERSION's archive
#         activates ZFS NEXT_ZFS without a reboot and the pool is imported with the same bytes.
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
    run_cli prepare-missing prepare --from-update-engine
    if ((RC != 0)); then ok prepare-missing-fails; else fail prepare-missing-fails "exit 0 without an archive for $NEXT_VERSION"; fi
    if store_has "$NEXT_VERSION"; then fail store-without-next "store: $(store_listing)"; else ok store-without-next; fi
    run_cli check-missing prepare --check
    check_eq check-missing-rc 3 "$RC"
    # One line that names the version it lacks.
    if grep -q -- "$NEXT_VERSION" <<<"$OUT$ERR"; then ok check-missing-says-why
    else fail check-missing-says-why "prepare --check does not name $NEXT_VERSION"; fi
    # The zpool.cache the import unit reads, for the record: boot 2 must not touch the pool.
    zpool get -H -o value guid $POOL >/var/lib/corezfs-lab/pool.guid 2>/dev/null
    update_engine_idle
    set_release "$NEXT_VERSION"
    ;;
2)
    check_eq boot2-kernel "$NEXT_KERNEL" "$(uname -r)"
    check booted-to-multi-user systemctl is-active multi-user.target
    check_boot_unit boot2 off
    check_not missing-no-module test -d /sys/module/zfs
    check_not missing-no-zfs-binary sh -c 'command -v zpool'
    check_eq missing-pool-disk-untouched "zfs_member $POOL" \
        "$(blkid -p -o value -s TYPE /dev/vdb1 2>&1) $(blkid -p -o value -s LABEL /dev/vdb1 2>&1)"
    log=$(journalctl -b --no-pager -o cat -u corezfs-boot.service 2>&1)
    if grep -q -e "$NEXT_VERSION" -e "$NEXT_KERNEL" <<<"$log"; then ok missing-journal-says-what
    else fail missing-journal-says-what "corezfs-boot's journal names neither $NEXT_VERSION nor $NEXT_KERNEL"; fi
    run_cli status-missing status
    check_eq status-missing-rc 0 "$RC"
    if grep -q -e "$NEXT_VERSION" -e "$NEXT_KERNEL" <<<"$OUT$ERR"; then ok missing-status-says-what
    else fail missing-status-says-what "status names neither $NEXT_VERSION nor $NEXT_KERNEL"; fi
    status_json missing

    run_cli install-next install --mode "$MODE" --archive "$ARCHIVES/${NEXT_ARCHIVE:?}"
    check_eq install-next-rc 0 "$RC"
    check_zfs_live after-install
    check_active after-install "$MODE"
    check_zfs_is after-install "$NEXT_ZFS"
    # The install brings the pool back without a reboot: it queues the import units.
    wait_pool_back after-install
    check_eq after-install-same-pool "$(cat /var/lib/corezfs-lab/pool.guid 2>/dev/null)" \
        "$(zpool get -H -o value guid $POOL 2>&1)"
    check_eq after-install-dataset-mounted yes "$(zfs get -H -o value mounted $POOL/data 2>&1)"
    udevadm settle
    for ((i = 0; i < 50; i++)); do [[ -e /dev/zvol/$POOL/volclone ]] && break; sleep 0.2; done
    check_eq after-install-checksum-identical "$(cat /var/lib/corezfs-lab/pool.fingerprint 2>/dev/null)" \
        "$(pool_fingerprint 2>&1)"
    check_stock_module after-install
    status_json after-install
    ;;
esac
finish
