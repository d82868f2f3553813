#!/bin/bash
# S4: an archive for another kernel is refused and changes nothing; and an installed archive that no longer
# matches the running kernel (as after an OS update swapped it) is not activated at boot, while the node boots.
source ./vmlib.sh
wait_booted
case $LAB_BOOT in
1)
    setup_tool
    readonly_usr
    before=$(find /etc /opt /var/lib -xdev 2>/dev/null | grep -v -e '^/opt/corezfs-tool' -e '^/var/lib/corezfs-lab' \
             -e '^/var/lib/systemd' -e '^/etc/ld.so.cache' | sort)
    run_cli wrong install --archive "$ARCHIVES/${WRONG_ARCHIVE:?}"
    check_eq wrong-rc 5 "$RC"
    after=$(find /etc /opt /var/lib -xdev 2>/dev/null | grep -v -e '^/opt/corezfs-tool' -e '^/var/lib/corezfs-lab' \
             -e '^/var/lib/systemd' -e '^/etc/ld.so.cache' | sort)
    check_eq wrong-changed-nothing "" "$(diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | grep '^[<>]' | tr '\n' ' ')"
    check_not wrong-no-module test -d /sys/module/zfs
    check_eq wrong-no-leftovers "" "$(leftovers)"

    run_cli install install --mode overlay --archive "$(good_archive)"
    check_eq install-rc 0 "$RC"
    check_zfs_live boot1
    # The OS "updated its kernel": the installed archive now names a release that is not the one that boots.
    echo 6.1.0-99-cloud-amd64 >/opt/corezfs/kernel-release
    sync
    ;;
2)
    check booted-to-multi-user systemctl is-active multi-user.target
    check_not swapped-no-module test -d /sys/module/zfs
    check_not swapped-unit-inactive systemctl is-active zfs-overlay.service
    check_not swapped-no-usr-overlay sh -c 'findmnt -n -t overlay /usr'
    log=$(journalctl -b --no-pager -o cat 2>&1 | grep -i 'built for kernel' | head -n 3)
    info "journal: $log"
    if [[ -n $log ]]; then ok swapped-journal-says-why; else fail swapped-journal-says-why "no 'built for kernel' in this boot's journal"; fi
    info "zfs-overlay: $(systemctl show -p ActiveState -p SubState -p Result -p ConditionResult zfs-overlay.service | tr '\n' ' ')"
    status_json boot2
    ;;
esac
finish
