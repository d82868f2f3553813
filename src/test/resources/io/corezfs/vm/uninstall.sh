#!/bin/bash
# S5: uninstall refuses while a pool is imported, then with --export removes everything; after a reboot no
# trace of ZFS is active and /usr is exactly what it was before the install; the pool's disk is untouched.
source ./vmlib.sh
wait_booted
STATE=/var/lib/corezfs-lab
case $LAB_BOOT in
1)
    setup_tool
    readonly_usr
    usr_listing >$STATE/usr.before
    find /etc/systemd -printf '%p %y %l\n' | LC_ALL=C sort >$STATE/etc-systemd.before
    run_cli install install --archive "$(good_archive)"
    check_eq install-rc 0 "$RC"
    check_zfs_live boot1
    make_pool
    status_json installed
    run_cli uninstall-busy uninstall
    check_eq uninstall-busy-rc 3 "$RC"
    check_eq busy-pool-still-imported "$POOL ONLINE" "$(zpool list -H -o name,health $POOL 2>&1 | tr "\t" " ")"
    check busy-still-installed test -d /opt/corezfs
    run_cli uninstall uninstall --export
    check_eq uninstall-rc 0 "$RC"
    check_gone boot1
    status_json uninstalled
    ;;
2)
    check_not boot2-no-module test -d /sys/module/zfs
    check_gone boot2
    check_eq boot2-no-zfs-unit-files "" "$(systemctl list-unit-files --no-legend 'zfs*' 'corezfs*' 2>&1 | tr '\n' ' ')"
    d=$(diff <(cat $STATE/usr.before) <(usr_listing) | grep '^[<>]' | head -n 20 | tr '\n' '|')
    check_eq usr-identical-to-base "" "$d"
    d=$(diff $STATE/etc-systemd.before <(find /etc/systemd -printf '%p %y %l\n' | LC_ALL=C sort) | grep '^[<>]' |
        grep -v lab-usr-ro | head -n 20 | tr '\n' '|')
    check_eq etc-systemd-as-before "" "$d"
    check_eq pool-disk-untouched "zfs_member $POOL" \
        "$(blkid -p -o value -s TYPE /dev/vdb1 2>&1) $(blkid -p -o value -s LABEL /dev/vdb1 2>&1)"
    status_json boot2
    ;;
esac
finish
