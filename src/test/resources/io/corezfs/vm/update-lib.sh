# shellcheck shell=bash
# Helpers of the OS-update scenarios (UpdateIT), sourced after vmlib.sh. The lab image carries two kernels (both
# module trees in /usr, as a Flatcar node has the running and the updated OS on its two /usr partitions) and the
# release files of CURRENT_VERSION; vm-run.sh --kernel picks which kernel boots. What update_engine and the /usr
# swap would do is staged by stand-ins here:
#   - /usr/local/bin/update_engine_client prints update_engine's status lines from a state file under /var, so a
#     later boot can change what it says without writing /usr;
#   - set_release rewrites the release files the way booting the other /usr partition would change them.
# scenario.env (written by UpdateIT) sets CURRENT_VERSION, CURRENT_KERNEL, CURRENT_ZFS, NEXT_VERSION, NEXT_KERNEL,
# NEXT_ZFS, MODE, MIRROR_DIR and ARCHIVE (the current target's archive, in archives/ on the inject disk).
: "${CURRENT_VERSION:?}" "${CURRENT_KERNEL:?}" "${CURRENT_ZFS:?}" "${NEXT_VERSION:?}" "${NEXT_KERNEL:?}" "${NEXT_ZFS:?}"
MODE=${MODE:-sysext}
# corezfs's node store (CONTRACT: io.corezfs.archive.store.NodeStore) and configuration file.
STORE=/var/lib/corezfs/archives
CONF=/etc/corezfs/corezfs.conf
UE_STATE=/var/lib/corezfs-lab/update_engine.status

# The stand-in for Flatcar's update_engine_client. Only `-status` is served; it prints the KEY=value lines the real
# client prints on stdout (its log line goes to stderr, as the real one's does). Written on the first boot, before
# anything is mounted over /usr.
install_update_engine_stand_in() {
    mkdir -p /usr/local/bin /var/lib/corezfs-lab
    cat >/usr/local/bin/update_engine_client <<'EOF'
#!/bin/sh
# corezfs lab stand-in for Flatcar's update_engine_client (update-lib.sh): `-status` prints the status lines of
# /var/lib/corezfs-lab/update_engine.status, which the scenario sets to what update_engine would say.
for a in "$@"; do
    case $a in
        -status|--status) echo "[0000/000000:INFO:update_engine_client.cc(500)] Querying Update Engine status..." >&2
                          exec cat /var/lib/corezfs-lab/update_engine.status ;;
    esac
done
echo "update_engine_client (corezfs lab stand-in): only -status is supported" >&2
exit 1
EOF
    chmod 755 /usr/local/bin/update_engine_client
    update_engine_idle
}
# update_engine after a check that found nothing, or after the reboot into the new version.
update_engine_idle() {
    printf '%s\n' "LAST_CHECKED_TIME=$(date +%s)" PROGRESS=0.000000 CURRENT_OP=UPDATE_STATUS_IDLE \
        NEW_VERSION=0.0.0 NEW_SIZE=0 >"$UE_STATE"
    sync
}
# update_engine has written VERSION to the other /usr partition and waits for the reboot.
update_engine_need_reboot() {
    printf '%s\n' "LAST_CHECKED_TIME=$(date +%s)" PROGRESS=1.000000 \
        CURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT "NEW_VERSION=$1" NEW_SIZE=312345678 >"$UE_STATE"
    sync
}

# set_release VERSION: the release files the next boot shows, as if it booted the /usr partition holding VERSION.
# Written on the root filesystem under whatever corezfs mounted over /usr (an overlay has no upper layer, so /usr
# itself is read-only while ZFS is active): a bind mount of / does not carry the mounts below it.
set_release() {
    local v=$1 base=/run/lab-base
    mkdir -p $base
    mount --bind / $base || { fail "release-$v" "cannot bind-mount /"; return 1; }
    sed -i "s/^FLATCAR_RELEASE_VERSION=.*/FLATCAR_RELEASE_VERSION=$v/" $base/usr/share/flatcar/release
    sed -i -e "s/^VERSION=.*/VERSION=$v/" -e "s/^VERSION_ID=.*/VERSION_ID=$v/" \
        -e "s/^PRETTY_NAME=.*/PRETTY_NAME=\"Flatcar Container Linux by Kinvolk $v (corezfs lab stand-in)\"/" \
        $base/usr/lib/os-release
    sync
    # Read back below the overlay: sed -i replaced the files, and an overlay mounted now may keep showing the old
    # ones until it is mounted again (the next boot reads the new ones).
    check_eq "release-files-$v" "$v $v" \
        "$(release_version $base) $(sed -n 's/^VERSION_ID=//p' $base/usr/lib/os-release)"
    umount $base
}
# release_version [ROOT]: FLATCAR_RELEASE_VERSION of the release file under ROOT (default /).
release_version() { sed -n 's/^FLATCAR_RELEASE_VERSION=//p' "${1:-}/usr/share/flatcar/release"; }

# write_config MIRRORS: the node's configuration file. No build on the node (a VM has no Docker), a short wait for
# mirrors at boot (there is no network; a file:// mirror answers at once or not at all).
write_config() {
    mkdir -p "$(dirname $CONF)"
    printf '%s\n' "# corezfs lab node (update-lib.sh)" "MIRRORS=$1" "MODE=$MODE" BUILD=never KEEP=2 \
        BOOT_FETCH_TIMEOUT=10 >$CONF
    info "corezfs.conf: $(tr '\n' '|' <$CONF)"
    sync
}

# The running module's and tools' OpenZFS version (`zfs version` prints zfs-X-N and zfs-kmod-X-N).
zfs_tools_version() { zfs version 2>/dev/null | sed -n 's/^zfs-\([0-9][0-9.]*\).*/\1/p' | head -n1; }
zfs_kmod_version() { zfs version 2>/dev/null | sed -n 's/^zfs-kmod-\([0-9][0-9.]*\).*/\1/p' | head -n1; }
module_version() { sed 's/-.*//' /sys/module/zfs/version 2>/dev/null; }
check_zfs_is() {
    local p=$1 v=$2
    check_eq "$p-tools-version" "$v" "$(zfs_tools_version)"
    check_eq "$p-kmod-version" "$v" "$(zfs_kmod_version)"
    check_eq "$p-module-version" "$v" "$(module_version)"
}

# The store holds an archive for flatcar VERSION (archive names carry _<version>_: ArchiveName).
store_has() { find "$STORE" -maxdepth 1 -name "corezfs_*_${1}_*.tar.gz" 2>/dev/null | grep -q .; }
store_listing() { ls -l "$STORE" 2>&1 | tr '\n' '|'; }

# A stock module of the running kernel (a real .ko, not built in) still loads beside ZFS: the module index of the
# activated tree did not hide the kernel's own modules.
check_stock_module() {
    local p=$1 m f
    for m in loop dummy vfat isofs nbd; do
        f=$(modinfo -F filename "$m" 2>/dev/null) || continue
        [[ $f == /* ]] || continue
        [[ -d /sys/module/$m ]] && { check "$p-stock-module-$m" test -d /sys/module/$m; return; }
        check "$p-stock-module-$m" modprobe "$m"
        return
    done
    fail "$p-stock-module" "no loadable stock module among loop dummy vfat isofs nbd for $(uname -r)"
}

# check_boot_unit PREFIX [ok|off|off-refused]: corezfs-boot.service ran this boot and either succeeded (ok) or left ZFS
# off with exit 3 (off) or with a refusal whose code the caller checks (off-refused); either shows it as failed in
# `systemctl --failed` on purpose. Its journal is printed for the record.
check_boot_unit() {
    local p=$1 want=${2:-ok}
    check "$p-boot-unit-ran" test "$(systemctl show -p ExecMainStartTimestampMonotonic --value corezfs-boot.service)" -gt 0
    if [[ $want == off ]]; then
        check_eq "$p-boot-unit-exit" 3 "$(systemctl show -p ExecMainStatus --value corezfs-boot.service)"
    elif [[ $want == off-refused ]]; then
        : # the caller checks the exit code of a refusal
    else
        check_not "$p-boot-unit-not-failed" systemctl is-failed --quiet corezfs-boot.service
    fi
    boot_unit_time "$p-boot-unit"
    info "corezfs-boot.service: $(journalctl -b --no-pager -o short-monotonic -u corezfs-boot.service 2>&1 | tail -n 20 | tr '\n' '|')"
}
# boot_unit_time NAME: "TIME NAME <seconds>" for corezfs-boot.service's last run, from systemd's own timestamps.
boot_unit_time() {
    local start end
    start=$(systemctl show -p ExecMainStartTimestampMonotonic --value corezfs-boot.service)
    end=$(systemctl show -p ExecMainExitTimestampMonotonic --value corezfs-boot.service)
    if ((start > 0 && end >= start)); then
        echo "TIME $1 $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')"
    fi
}
# ZFS was active (corezfs-boot done, the activation unit up) before zfs-import-cache.service started.
check_active_before_import() {
    local p=$1 unit boot_done act imp
    case $MODE in overlay) unit=zfs-overlay.service ;; *) unit=corezfs-sysext.service ;; esac
    boot_done=$(systemctl show -p ExecMainExitTimestampMonotonic --value corezfs-boot.service)
    act=$(systemctl show -p ActiveEnterTimestampMonotonic --value $unit)
    imp=$(systemctl show -p ExecMainStartTimestampMonotonic --value zfs-import-cache.service)
    info "monotonic us: corezfs-boot done $boot_done, $unit active $act, zfs-import-cache started $imp"
    if ((boot_done > 0 && act > 0 && imp > 0 && boot_done <= imp && act <= imp)); then
        ok "$p-active-before-import"
    else
        fail "$p-active-before-import" "corezfs-boot done $boot_done, $unit active $act, import started $imp"
    fi
}

# zfs_units_state LABEL: one line with the state of ZFS's import and mount units (diagnostics).
zfs_units_state() {
    local u s=''
    for u in zfs-import-cache.service zfs-import-scan.service zfs-import.target zfs-mount.service zfs.target; do
        s+="$u=$(systemctl show -p ActiveState,SubState,Result,ExecMainStartTimestampMonotonic,ConditionResult --value "$u" 2>&1 | tr '\n' ','); "
    done
    info "units $1: $s jobs: $(systemctl list-jobs --no-legend 2>&1 | tr '\n' '|')"
}
# wait_mounted SECONDS: a live install queues the import and mount; wait until the dataset is mounted, or time out.
wait_mounted() {
    local i
    for ((i = 0; i < $1; i++)); do
        [[ $(zfs get -H -o value mounted $POOL/data 2>/dev/null) == yes ]] && { echo "TIME wait-mounted $i"; return 0; }
        ((i % 15 == 0)) && zfs_units_state "wait-$i"
        sleep 1
    done
    info "not mounted after $1 s"
}
