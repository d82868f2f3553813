#!/bin/bash
# An OS update for which no usable archive exists (UpdateIT; issue 13's VM scenario 2 and issue 14's VM case), over
# two boots of the same disks. The node trusts one key (trusted-keys on the inject disk: the builder's). Its mirror
# was rewritten by someone holding another key: it serves the next version's archive tampered with, signed by that
# key, under an index signed by that key.
# Boot 1  kernel CURRENT_KERNEL: the builder's signed CURRENT archive installs under SIGNATURES=require, a pool with
#         data. An update to NEXT_VERSION is staged; `prepare --check` says the archive is missing (exit 3).
# Boot 2  kernel NEXT_KERNEL, Flatcar NEXT_VERSION: corezfs-boot.service refuses the mirror (exit 5, naming the
#         untrusted key), the node boots without ZFS, the pool is untouched, nothing under /opt/corezfs changed, and
#         status and the journal say what is missing. `install` of the tampered archive is refused the same way and
#         changes nothing, and so is the tampered archive beside the builder's real signature of the genuine one (a
#         stale .sig). `install` of the builder's signed archive activates without a reboot: ZFS comes up, the pool
#         imports and mounts by itself, with the same bytes.
source ./vmlib.sh
source ./update-lib.sh
wait_booted
MIRROR_URL="file://${MIRROR_DIR:?}/"
: "${EVIL_FINGERPRINT:?}" "${NEXT_ARCHIVE:?}"
# What an install or a refusal could have changed: the installed tree and the units.
installed_listing() {
    find /opt/corezfs /etc/systemd/system /etc/corezfs -xdev -printf '%p %y %s %m %T@ %l\n' 2>/dev/null |
        LC_ALL=C sort | sha256sum | cut -d' ' -f1
}
case $LAB_BOOT in
1)
    check_eq boot1-kernel "$CURRENT_KERNEL" "$(uname -r)"
    setup_tool
    cp -a /root/inject/evil /root/inject/stale /var/lib/corezfs-lab/
    install_update_engine_stand_in
    write_config "$MIRROR_URL"
    install -D -m 644 /root/inject/trusted-keys /etc/corezfs/trusted-keys
    run_cli install install --mode "$MODE" --archive "$(good_archive)"
    check_eq install-rc 0 "$RC"
    if [[ $ERR$OUT == *"signature"* ]]; then ok install-checked-signature; else fail install-checked-signature "$ERR$OUT"; fi
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
    check_boot_unit boot2 off-refused
    check_eq boot2-boot-unit-exit 5 "$(systemctl show -p ExecMainStatus --value corezfs-boot.service)"
    check booted-to-multi-user systemctl is-active multi-user.target
    log=$(journalctl -b --no-pager -o cat -u corezfs-boot.service 2>&1)
    if [[ $log == *"$EVIL_FINGERPRINT"* ]]; then ok boot2-journal-names-key; else fail boot2-journal-names-key "$log"; fi
    if [[ $log == *"no usable archive"*"$NEXT_VERSION"* ]]; then ok boot2-journal-says-missing; else fail boot2-journal-says-missing "$log"; fi
    check_not boot2-no-module test -d /sys/module/zfs
    check_not boot2-pool-untouched test -e "/$POOL/data/blob"
    check_eq boot2-installed-unchanged "$CURRENT_KERNEL" "$(cat /opt/corezfs/kernel-release 2>&1)"
    status_json boot2-off
    before=$(installed_listing)
    # The same tampered archive beside the builder's real signature of the genuine one (a stale .sig).
    run_cli install-stale-sig install --mode "$MODE" --archive "/var/lib/corezfs-lab/stale/$NEXT_ARCHIVE"
    check_eq install-stale-sig-rc 5 "$RC"
    check_eq install-stale-sig-changed-nothing "$before" "$(installed_listing)"
    run_cli install-tampered install --mode "$MODE" --archive "/var/lib/corezfs-lab/evil/$NEXT_ARCHIVE"
    check_eq install-tampered-rc 5 "$RC"
    if [[ $ERR == *"$EVIL_FINGERPRINT"* ]]; then ok install-tampered-names-key; else fail install-tampered-names-key "$ERR"; fi
    check_eq install-tampered-changed-nothing "$before" "$(installed_listing)"
    check_not install-tampered-no-module test -d /sys/module/zfs
    zfs_units_state before-install
    run_cli install-signed install --mode "$MODE" --archive "$ARCHIVES/$NEXT_ARCHIVE"
    check_eq install-signed-rc 0 "$RC"
    check_zfs_live boot2
    check_zfs_is boot2 "$NEXT_ZFS"
    wait_mounted 180
    check_pool_after_reboot
    zfs_units_state after
    info "journal: $(journalctl -b --no-pager -o short-monotonic -u zfs-import-cache.service -u zfs-import-scan.service -u zfs-mount.service -u zfs-import.target -u zfs.target 2>&1 | tail -n 60 | tr '\n' '|')"
    info "wants: $(systemctl show -p Wants zfs.target zfs-import.target 2>&1 | tr '\n' '|')"
    info "zfs get: $(zfs get -r -H -o name,property,value mounted,canmount,mountpoint $POOL 2>&1 | tr '\n' '|')"
    info "mounts: $(grep -E 'zfs|labpool' /proc/self/mountinfo | tr '\n' '|')"
    status_json boot2
    ;;
esac
finish
