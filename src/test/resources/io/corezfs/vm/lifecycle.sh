#!/bin/bash
# One node's whole life in overlay mode, over four boots of the same disks (one VM run instead of four keeps the
# suite inside its time budget under TCG, where every JVM start costs seconds):
# Boot 1  S4a an archive for another kernel is refused and changes nothing;
#         S6  an install killed with SIGKILL part-way, then rerun: converges; a third run is a no-op;
#         S1  a pool with a dataset, a zvol, a snapshot and a clone.
# Boot 2  S1  the units imported and mounted the pool, same bytes;
#         S5  uninstall refuses while the pool is imported; --export goes through and removes everything.
# Boot 3  S5  after the reboot: no ZFS, /usr identical to the base, /etc/systemd as before, the pool disk intact;
#         S4b install again, then the "OS update": the installed archive no longer names the booting kernel.
# Boot 4  S4b the activation unit stays inactive, the journal says why, the node boots.
source ./vmlib.sh
wait_booted
STATE=/var/lib/corezfs-lab
case $LAB_BOOT in
1)
    setup_tool
    readonly_usr
    usr_listing >$STATE/usr.before
    find /etc/systemd -printf '%p %y %l\n' | LC_ALL=C sort >$STATE/etc-systemd.before
    tree() { find /etc /opt /var/lib -xdev 2>/dev/null | grep -v -e '^/opt/corezfs-tool' -e '^/var/lib/corezfs-lab' \
             -e '^/var/lib/systemd' -e '^/etc/ld.so.cache' -e '^/etc/systemd/system/lab-usr-ro' \
             -e '^/etc/systemd/system/local-fs-pre.target.wants' | sort; }
    before=$(tree)
    run_cli wrong install --archive "$ARCHIVES/${WRONG_ARCHIVE:?}"
    check_eq wrong-rc 5 "$RC"
    check_eq wrong-changed-nothing "" "$(diff <(printf '%s\n' "$before") <(tree) | grep '^[<>]' | tr '\n' ' ')"
    check_not wrong-no-module test -d /sys/module/zfs

    snap() { ls -A / /opt /etc /etc/systemd/system /var/lib 2>/dev/null; }
    killed='' rc=''
    before=$(snap)
    # The launcher execs java, so $! is the JVM itself.
    corezfs install --mode overlay --archive "$(good_archive)" >/tmp/crashed.out 2>&1 &
    pid=$!
    t=$(now) seen=''
    for ((i = 0; i < 3000; i++)); do
        kill -0 $pid 2>/dev/null || break
        if [[ $(snap) != "$before" ]]; then seen=$(elapsed "$t"); break; fi
        sleep 0.1
    done
    # Let it get some way into its work, then pull the plug.
    [[ -n $seen ]] && sleep "${CRASH_DELAY:-2}"
    if kill -0 $pid 2>/dev/null; then
        kill -9 $pid
        wait $pid 2>/dev/null
        killed=yes
        info "killed after $(elapsed "$t") s (first change on disk after ${seen:-never} s)"
    else
        wait $pid && rc=0 || rc=$?
    fi
    jvm_check killed-mid-install
    if [[ -n $killed ]]; then
        ok killed-mid-install
    else
        fail killed-mid-install "install ended (rc $rc) before it could be killed; first change after ${seen:-never} s"
    fi
    sed 's/^/  [crashed] /' /tmp/crashed.out
    info "after the kill: $(diff <(printf '%s\n' "$before") <(snap) | grep '^[<>]' | tr '\n' ' ')"
    run_cli status-after-crash status --json
    check_eq status-after-crash-rc 0 "$RC"
    run_cli version --version
    run_cli rerun install --mode overlay --archive "$(good_archive)"
    check_eq rerun-rc 0 "$RC"
    check_zfs_live boot1
    check_active boot1 overlay
    check_eq no-leftovers "" "$(leftovers)"
    run_cli reinstall install --mode overlay --archive "$(good_archive)"
    check_eq reinstall-rc 0 "$RC"
    make_pool
    status_json boot1
    ;;
2)
    check_zfs_live boot2
    check_active boot2 overlay
    check_pool_after_reboot
    status_json boot2
    run_cli uninstall-busy uninstall
    check_eq uninstall-busy-rc 3 "$RC"
    check_eq busy-pool-still-imported "$POOL ONLINE" "$(zpool list -H -o name,health $POOL 2>&1 | tr "\t" " ")"
    check busy-still-installed test -d /opt/corezfs
    run_cli uninstall uninstall --export
    check_eq uninstall-rc 0 "$RC"
    check_gone uninstalled
    ;;
3)
    check_not boot3-no-module test -d /sys/module/zfs
    check_gone boot3
    check_eq boot3-no-zfs-unit-files "" "$(systemctl list-unit-files --no-legend 'zfs*' 'corezfs*' 2>&1 | tr '\n' ' ')"
    d=$(diff <(cat $STATE/usr.before) <(usr_listing) | grep '^[<>]' | head -n 20 | tr '\n' '|')
    check_eq usr-identical-to-base "" "$d"
    d=$(diff $STATE/etc-systemd.before <(find /etc/systemd -printf '%p %y %l\n' | LC_ALL=C sort) | grep '^[<>]' |
        grep -v lab-usr-ro | head -n 20 | tr '\n' '|')
    check_eq etc-systemd-as-before "" "$d"
    check_eq pool-disk-untouched "zfs_member $POOL" \
        "$(blkid -p -o value -s TYPE /dev/vdb1 2>&1) $(blkid -p -o value -s LABEL /dev/vdb1 2>&1)"
    status_json boot3

    run_cli again install --mode overlay --archive "$(good_archive)"
    check_eq again-rc 0 "$RC"
    check_zfs_live again
    swap_kernel
    ;;
4)
    check_swapped_boot zfs-overlay.service
    check_not swapped-no-usr-overlay sh -c 'findmnt -n -t overlay /usr'
    status_json boot4
    ;;
esac
finish
