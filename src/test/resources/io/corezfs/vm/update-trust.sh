#!/bin/bash
# Trust on a node that updates (UpdateIT; issue 14's VM case), over two boots of the same disks. The node trusts
# one key (trusted-keys on the inject disk, the builder's); its mirror was rewritten by someone holding another key:
# the next version's archive is tampered with and the mirror's index and signatures are that other key's.
# Boot 1  kernel CURRENT_KERNEL: the signed CURRENT archive installs under SIGNATURES=require, a pool with data. An
#         update to NEXT_VERSION is staged.
# Boot 2  kernel NEXT_KERNEL: corezfs-boot.service refuses the mirror (exit 5, the untrusted key's fingerprint in
#         its journal), ZFS stays off and nothing under /opt/corezfs changed. `install` of the tampered archive is
#         refused the same way and changes nothing. `install` of the builder's signed archive proceeds: ZFS comes
#         up and the pool imports and mounts by itself, with the same bytes.
source ./vmlib.sh
source ./update-lib.sh
wait_booted
MIRROR_URL="file://${MIRROR_DIR:?}/"
opt_listing() { find /opt/corezfs /etc/systemd/system -xdev -printf '%p %y %s %m %T@ %l\n' 2>/dev/null | LC_ALL=C sort | sha256sum | cut -d' ' -f1; }
case $LAB_BOOT in
1)
    check_eq boot1-kernel "$CURRENT_KERNEL" "$(uname -r)"
    setup_tool
    cp -a /root/inject/evil /var/lib/corezfs-lab/
    install_update_engine_stand_in
    write_config "$MIRROR_URL"
    install -D -m 644 /root/inject/trusted-keys /etc/corezfs/trusted-keys
    run_cli install install --mode "$MODE" --archive "$(good_archive)"
    check_eq install-rc 0 "$RC"
    check_zfs_is boot1 "$CURRENT_ZFS"
    make_pool
    update_engine_need_reboot "$NEXT_VERSION"
    update_engine_idle
    set_release "$NEXT_VERSION"
    ;;
2)
    check_eq boot2-kernel "$NEXT_KERNEL" "$(uname -r)"
    check_boot_unit boot2 off-refused
    check_eq boot2-boot-unit-exit 5 "$(systemctl show -p ExecMainStatus --value corezfs-boot.service)"
    log=$(journalctl -b --no-pager -o cat -u corezfs-boot.service 2>&1)
    if [[ $log == *"${EVIL_FINGERPRINT:?}"* ]]; then ok boot2-journal-names-key; else fail boot2-journal-names-key "$log"; fi
    check_not boot2-no-module test -d /sys/module/zfs
    check_eq boot2-installed-unchanged "$CURRENT_KERNEL" "$(cat /opt/corezfs/kernel-release 2>&1)"
    before=$(opt_listing)
    run_cli install-tampered install --mode "$MODE" --archive "/var/lib/corezfs-lab/evil/${NEXT_ARCHIVE:?}"
    check_eq install-tampered-rc 5 "$RC"
    if [[ $ERR == *"$EVIL_FINGERPRINT"* ]]; then ok install-tampered-names-key; else fail install-tampered-names-key "$ERR"; fi
    check_eq install-tampered-changed-nothing "$before" "$(opt_listing)"
    check_not install-tampered-no-module test -d /sys/module/zfs
    run_cli install-signed install --mode "$MODE" --archive "$ARCHIVES/$NEXT_ARCHIVE"
    check_eq install-signed-rc 0 "$RC"
    check_zfs_is boot2 "$NEXT_ZFS"
    wait_mounted 180
    check_pool_after_reboot
    ;;
esac
finish
