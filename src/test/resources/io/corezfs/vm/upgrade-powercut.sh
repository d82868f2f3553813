#!/bin/bash
# An upgrade while a pool is imported, then a power cut in the middle of an install (see LiveInstallIT).
# ARCHIVE is the VM's archive; UPGRADE is the same ZFS repacked with one more file, usr/share/corezfs-lab/release,
# so which tree /usr presents can be read off the node.
# Boot 1: install ARCHIVE in MODE, make the pool, install UPGRADE: it is staged for the next boot, nothing live moves.
# Boot 2: the staged upgrade was applied before ZFS came up, the pool is back, the stage is gone. Then export the
#         pool, start installing ARCHIVE (a downgrade, so it applies now) and cut the power (sysrq b: no sync, no
#         unmount) right after its commit rename, while it activates.
# Boot 3: the node came up with one whole ZFS, old or new, or none; never a mix. A rerun converges. Then the
#         installed tree is made to name another kernel, as after an OS update.
# Boot 4: the sysext unit refuses it: no extension merged (the link is taken away), no module, the journal says why.
source ./vmlib.sh
wait_booted
upgrade() { printf '%s\n' "$ARCHIVES/${UPGRADE:?scenario.env sets UPGRADE}"; }
marker() { cat /usr/share/corezfs-lab/release 2>/dev/null || echo none; }
# The sha256 of every file under /opt/corezfs against the manifest in the install state.
tree_matches_state() {
    awk -F'"' '$2 == "path" { p = $4 } $2 == "sha256" { print $4 "  /" p }' /opt/corezfs/.corezfs/state.json \
        | grep '  /opt/corezfs/' >/tmp/state.sums
    [[ -s /tmp/state.sums ]] && sha256sum --quiet -c /tmp/state.sums
}
installed_archive() { sed -n 's/^ *"archive" *: *"\([^"]*\)".*/\1/p' /opt/corezfs/.corezfs/state.json 2>/dev/null | head -n1; }
case $LAB_BOOT in
1)
    setup_tool
    readonly_usr
    run_cli install install --mode "$MODE" --archive "$(good_archive)"
    check_eq install-rc 0 "$RC"
    check_active boot1 "$MODE"
    make_pool
    run_cli upgrade install --archive "$(upgrade)"
    check_eq upgrade-rc 0 "$RC"
    check_eq pending-unit-enabled enabled "$(systemctl is-enabled corezfs-pending.service 2>&1)"
    check_eq old-tree-still-live none "$(marker)"
    check_eq state-still-old "$ARCHIVE" "$(installed_archive)"
    check_zfs_live boot1
    status_json boot1
    ;;
2)
    check_eq upgrade-applied-at-boot upgraded "$(marker)"
    check_eq state-is-upgrade "$UPGRADE" "$(installed_archive)"
    info "corezfs-pending.service: $(journalctl -b -u corezfs-pending.service --no-pager -o cat 2>&1 | tail -n 5 | tr '\n' '|')"
    check_not pending-archive-gone sh -c 'ls /var/lib/corezfs/pending/*.tar.gz'
    check_zfs_live boot2
    check_active boot2 "$MODE"
    check_pool_after_reboot
    status_json boot2
    run_cli uninstall-busy uninstall
    check_eq uninstall-busy-rc 3 "$RC"
    check pool-exported zpool export $POOL
    # What must survive the power cut: the boot counter, the pool export, the tool.
    sync
    # Cut just after the commit rename, while activation still runs: the renamed tree is then what the next boot
    # presents, and its files must be on the disk although nobody synced (the kernel writes dirty pages back only
    # after about 30 s).
    corezfs -q install --archive "$(good_archive)" >/var/tmp/cut-install.out 2>&1 &
    pid=$!
    for ((i = 0; i < 3000; i++)); do
        [[ $(installed_archive) == "$ARCHIVE" ]] && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.1
    done
    # An install that ended before its commit (it crashed, or failed) is no power-cut test: say why and stop here.
    if [[ $(installed_archive) != "$ARCHIVE" ]]; then
        wait $pid && rc=0 || rc=$?
        fail power-cut-mid-install "the install ended (rc $rc) before its commit: $(tail -n 5 /var/tmp/cut-install.out | tr '\n' '|')"
        jvm_check cut-install
        finish
    fi
    info "power cut with: state=$(installed_archive) /opt: $(ls -a /opt | tr '\n' ' ')"
    ok power-cut-mid-install
    sleep 0.5    # the serial line drains; the reset would drop what is still in the UART's buffer
    echo b >/proc/sysrq-trigger
    sleep 60
    fail power-cut "the node did not reset"
    ;;
3)
    m=$(marker) s=$(installed_archive)
    info "after the power cut: marker=$m state=${s:-none} module=$([[ -d /sys/module/zfs ]] && echo loaded || echo absent)"
    info "/opt: $(ls -a /opt | tr '\n' ' ')"
    info "/usr mounts: $(findmnt -n -o FSTYPE,OPTIONS /usr | tr '\n' '|')"
    info "activation units: $(journalctl -b -o cat -u corezfs-sysext.service -u zfs-overlay.service 2>&1 | tail -n 8 | tr '\n' '|')"
    f0=$FAILED
    if [[ -d /sys/module/zfs ]]; then
        info "cut-outcome whole"
        # Whole: the tools and module of one archive, /usr shows that archive's files, and every file of the tree
        # is as its manifest says (nothing empty or cut short).
        check_zfs_live cut
        case $s in
            "$UPGRADE") check_eq cut-tree-matches-state upgraded "$m" ;;
            "$ARCHIVE") check_eq cut-tree-matches-state none "$m" ;;
            *) fail cut-tree-matches-state "state names '$s'" ;;
        esac
        check cut-files-match-manifest tree_matches_state
        check_active cut "$MODE"
    else
        info "cut-outcome none"
        check_not cut-no-usr-overlay sh -c 'findmnt -n -t overlay /usr'
        check_not cut-no-extension-merged sh -c 'systemd-sysext status 2>/dev/null | grep -qw corezfs'
    fi
    if ((FAILED == f0)); then ok cut-consistent; else fail cut-consistent "see the checks above"; fi
    run_cli rerun install --archive "$(good_archive)"
    check_eq rerun-rc 0 "$RC"
    check_eq rerun-tree none "$(marker)"
    check_zfs_live rerun
    check_active rerun "$MODE"
    check_eq rerun-no-leftovers "" "$(leftovers)"
    check pool-reimported zpool import $POOL
    check_eq checksum-identical "$(cat /var/lib/corezfs-lab/pool.fingerprint 2>/dev/null)" "$(pool_fingerprint 2>&1)"
    status_json boot3
    check pool-exported-again zpool export $POOL
    swap_kernel
    ;;
4)
    check_swapped_boot corezfs-sysext.service
    check_not swapped-no-extension-merged sh -c 'systemd-sysext status 2>/dev/null | grep -qw corezfs'
    check_not swapped-extension-link-removed test -L /var/lib/extensions/corezfs
    check_not swapped-no-zfs-in-usr test -e /usr/sbin/zfs
    status_json boot4
    ;;
esac
finish
