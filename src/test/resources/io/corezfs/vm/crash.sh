#!/bin/bash
# S6: an install killed with SIGKILL part-way; the next install converges, and the node boots with ZFS.
source ./vmlib.sh
wait_booted
case $LAB_BOOT in
1)
    setup_tool
    readonly_usr
    snap() { ls -A / /opt /etc /etc/systemd/system /var/lib 2>/dev/null; }
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
    # Let it get some way into its work (TCG is slow), then pull the plug.
    [[ -n $seen ]] && sleep "${CRASH_DELAY:-2}"
    if kill -0 $pid 2>/dev/null; then
        kill -9 $pid
        wait $pid 2>/dev/null
        ok killed-mid-install
        info "killed after $(elapsed "$t") s (first change on disk after ${seen:-never} s)"
    else
        wait $pid; rc=$?
        fail killed-mid-install "install ended (rc $rc) before it could be killed; first change after ${seen:-never} s"
    fi
    sed 's/^/  [crashed] /' /tmp/crashed.out
    info "after the kill: $(diff <(printf '%s\n' "$before") <(snap) | grep '^[<>]' | tr '\n' ' ')"
    run_cli status-after-crash status --json
    check_eq status-after-crash-rc 0 "$RC"
    run_cli rerun install --mode overlay --archive "$(good_archive)"
    check_eq rerun-rc 0 "$RC"
    check_zfs_live boot1
    check_active boot1 overlay
    check_eq no-leftovers "" "$(leftovers)"
    run_cli third install --mode overlay --archive "$(good_archive)"
    check_eq third-rc 0 "$RC"
    status_json boot1
    ;;
2)
    check_zfs_live boot2
    check_active boot2 overlay
    check_eq boot2-no-leftovers "" "$(leftovers)"
    status_json boot2
    ;;
esac
finish
