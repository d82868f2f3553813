#!/bin/bash
# A node with SIGNATURES=require whose mirror serves a tampered archive under a stale signature (UpdateIT; issue 14's
# VM scenario), over two boots:
# Boot 1  kernel CURRENT_KERNEL: ZFS CURRENT_ZFS installed, a pool with data; then the node trusts one signing key
#         (/etc/corezfs/trusted-keys, so SIGNATURES defaults to require) and its mirror is BAD_MIRROR_DIR, where
#         NEXT_VERSION's archive has had bytes changed after it was signed. Release files of NEXT_VERSION.
# Boot 2  kernel NEXT_KERNEL: corezfs-boot refuses the archive (exit 5), nothing of it is applied, no module loads, the
#         pool is untouched, status says refused. Then `corezfs install --mirror` of the correctly signed mirror
#         proceeds: ZFS NEXT_ZFS active, the pool imported with the same bytes.
source ./vmlib.sh
source ./update-lib.sh
wait_booted
case $LAB_BOOT in
1)
    check_eq boot1-kernel "$CURRENT_KERNEL" "$(uname -r)"
    setup_tool
    install_update_engine_stand_in
    write_config "file://${BAD_MIRROR_DIR:?}/"
    run_cli install install --mode "$MODE" --archive "$(good_archive)" --allow-unsigned
    check_eq install-rc 0 "$RC"
    check_zfs_is boot1 "$CURRENT_ZFS"
    make_pool
    install -m 0644 -D /root/inject/trusted-keys /etc/corezfs/trusted-keys
    run_cli status-trust status --json
    if grep -q '"SIGNATURES"' <<<"$OUT"; then ok trust-configured; else fail trust-configured "no SIGNATURES in status"; fi
    set_release "$NEXT_VERSION"
    ;;
2)
    check_eq boot2-kernel "$NEXT_KERNEL" "$(uname -r)"
    check booted-to-multi-user systemctl is-active multi-user.target
    check "trust-boot-unit-ran" test "$(systemctl show -p ExecMainStartTimestampMonotonic --value corezfs-boot.service)" -gt 0
    check_eq trust-boot-unit-exit 5 "$(systemctl show -p ExecMainStatus --value corezfs-boot.service)"
    info "corezfs-boot.service: $(journalctl -b --no-pager -o cat -u corezfs-boot.service 2>&1 | tail -n 20 | tr '\n' '|')"
    check_not trust-no-module test -d /sys/module/zfs
    if store_has "$NEXT_VERSION"; then fail trust-store-untouched "store: $(store_listing)"; else ok trust-store-untouched; fi
    check_eq trust-pool-disk-untouched "zfs_member $POOL" \
        "$(blkid -p -o value -s TYPE /dev/vdb1 2>&1) $(blkid -p -o value -s LABEL /dev/vdb1 2>&1)"
    status_json refused

    run_cli install-signed install --mode "$MODE" --mirror "file://${GOOD_MIRROR_DIR:?}/"
    check_eq install-signed-rc 0 "$RC"
    if grep -q "signed by" <<<"$ERR"; then ok install-signed-says-signer; else fail install-signed-says-signer "$ERR"; fi
    check_zfs_live signed
    check_zfs_is signed "$NEXT_ZFS"
    # The install brings the pool back without a reboot: it queues the import units.
    wait_pool_back signed
    udevadm settle
    for ((i = 0; i < 50; i++)); do [[ -e /dev/zvol/$POOL/volclone ]] && break; sleep 0.2; done
    check_eq signed-checksum-identical "$(cat /var/lib/corezfs-lab/pool.fingerprint 2>/dev/null)" \
        "$(pool_fingerprint 2>&1)"
    status_json signed
    ;;
esac
finish
