# shellcheck shell=bash
# Helpers of the scenario scripts that run INSIDE the lab VM (sourced by run.sh; see LiveInstallIT).
# The host reads results from the serial console, as lines of their own:
#   CHECK <name> ok            an expectation held
#   CHECK <name> FAIL: <why>   it did not (the script goes on, so one run shows every broken thing)
#   INFO <text>                context for a human reading the log
#   TIME <name> <seconds>      a measured duration
#   JSON-BEGIN <name> / JSON-END <name>   the lines between them are one JSON document
# The script's exit code is the number of failed checks (capped at 100), so rc 0 means all held.
set -u
export PATH=/opt/corezfs-tool/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C.UTF-8
FAILED=0
# Scenario settings written by the test (MODE=..., file names of the payload).
[[ -f ./scenario.env ]] && source ./scenario.env

info() { echo "INFO $*"; }
ok() { echo "CHECK $1 ok"; }
fail() { echo "CHECK $1 FAIL: ${*:2}"; FAILED=$((FAILED + 1)); }
# check NAME COMMAND...: ok when COMMAND succeeds; its output is shown on failure.
check() {
    local name=$1 out; shift
    if out=$("$@" 2>&1); then ok "$name"; else fail "$name" "$* -> $(printf '%s' "$out" | tail -n 5 | tr '\n' '|')"; fi
}
# check_not NAME COMMAND...: ok when COMMAND fails.
check_not() {
    local name=$1 out; shift
    if out=$("$@" 2>&1); then fail "$name" "$* succeeded: $(printf '%s' "$out" | tail -n 5 | tr '\n' '|')"; else ok "$name"; fi
}
# check_eq NAME EXPECTED ACTUAL
check_eq() { if [[ $2 == "$3" ]]; then ok "$1"; else fail "$1" "expected '$2', got '$3'"; fi; }
# A JVM crash anywhere in the scenario (also in a call not made through run_cli) fails it.
finish() { jvm_check late; sync; exit $((FAILED > 100 ? 100 : FAILED)); }
json() { echo "JSON-BEGIN $1"; cat; echo; echo "JSON-END $1"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# The boot must be complete before ZFS units are judged. "degraded" is reported, not fatal here.
wait_booted() {
    local state
    state=$(timeout 300 systemctl is-system-running --wait 2>/dev/null) || true
    info "system state: ${state:-unknown}"
    local failed
    failed=$(systemctl list-units --failed --plain --no-legend 2>/dev/null | awk '{print $1}' | tr '\n' ' ')
    [[ -z ${failed// /} ]] || info "failed units: $failed"
}

# The tool as a node without Java gets it: the self-contained bundle, unpacked once to /opt/corezfs-tool
# (the scenario copies it off the inject disk on the first boot, so later boots find it there).
setup_tool() {
    [[ -x /opt/corezfs-tool/bin/corezfs ]] && return 0
    local bundle=/root/inject/${BUNDLE:-corezfs-bundle.tar.gz} t
    t=$(now)
    mkdir -p /opt/corezfs-tool.tmp
    tar -xzf "$bundle" -C /opt/corezfs-tool.tmp --strip-components=1 || { fail tool-unpacked "tar failed"; return 1; }
    mv /opt/corezfs-tool.tmp /opt/corezfs-tool
    echo "TIME unpack-tool $(elapsed "$t")"
    # Archives off the inject disk too: /root/inject is replaced whenever a boot injects something else.
    mkdir -p /var/lib/corezfs-lab
    cp -a /root/inject/archives /var/lib/corezfs-lab/ 2>/dev/null || true
    sync
}
ARCHIVES=/var/lib/corezfs-lab/archives
good_archive() { printf '%s\n' "$ARCHIVES/${ARCHIVE:?scenario.env sets ARCHIVE}"; }

# run_cli NAME ARGS...: runs corezfs, prints its output with a prefix and "RC <name> <code>" and
# "TIME <name> <seconds>"; the exit code is left in $RC, stdout in $OUT, stderr in $ERR. A JVM crash fails the check
# <name>-jvm.
RC=0 OUT='' ERR=''
run_cli() {
    local name=$1 t errf; shift
    errf=$(mktemp)
    t=$(now)
    OUT=$(corezfs "$@" 2>"$errf") && RC=0 || RC=$?
    echo "TIME $name $(elapsed "$t")"
    echo "RC $name $RC"
    sed "s/^/  [$name err] /" "$errf"
    printf '%s\n' "$OUT" | sed "s/^/  [$name out] /"
    # shellcheck disable=SC2034  # read by the scenario scripts that source this file
    ERR=$(cat "$errf")
    rm -f "$errf"
    jvm_check "$name"
}
# Crash reports of the guest's JVMs go to one place (HotSpot's default is the working directory), where jvm_check
# finds them. Lab-only: this is the environment the lab passes, not a default of the bundle.
JVM_ERRORS=/var/log/corezfs-lab
mkdir -p "$JVM_ERRORS"
export COREZFS_JAVA_OPTS="-XX:ErrorFile=$JVM_ERRORS/hs_err_pid%p.log"
# jvm_check NAME: a JVM crash report that appeared since the last check fails the check NAME-jvm, and its whole
# text goes to the console between HS-ERR-BEGIN/HS-ERR-END (the test attaches it to its failure). A crash is never
# retried: under the lab's emulator settings it must not happen (lab/soak.sh), so one is a defect to look at.
jvm_check() {
    local f frame
    for f in "$JVM_ERRORS"/hs_err_pid*.log; do
        [[ -f $f ]] || continue
        frame=$(grep -m1 -A1 '^# Problematic frame:' "$f" | tail -n1)
        fail "$1-jvm" "the JVM crashed: $(grep -m1 -o 'SIG[A-Z]* ([^)]*)' "$f") in ${frame#\# } (report: $f)"
        echo "HS-ERR-BEGIN $f"
        cat "$f"
        echo "HS-ERR-END"
        mv "$f" "$f.seen"
    done
}
# Prints `corezfs status --json` as JSON block NAME.
status_json() {
    local s rc=0
    s=$(corezfs status --json 2>/tmp/status.err) || rc=$?
    ((rc == 0)) || info "status --json rc=$rc: $(tr '\n' '|' </tmp/status.err)"
    jvm_check "status-$1"
    printf '%s\n' "$s" | json "$1"
}

# What a working ZFS looks like on this node right now.
check_zfs_live() {
    local p=$1
    check "$p-module-loaded" test -d /sys/module/zfs
    check "$p-zfs-version" zfs version
    check "$p-zpool-runs" zpool list
    info "zfs version: $(zfs version 2>&1 | tr '\n' ' ')"
    local missing
    missing=$(ldd /usr/sbin/zfs /usr/sbin/zpool 2>&1 | grep 'not found' || true)
    check_eq "$p-libraries-resolved" "" "$missing"
}

# The sha256 of the test file and the first MiB of the zvol, for comparing across boots.
POOL=labpool
pool_fingerprint() {
    { sha256sum /$POOL/data/blob | cut -d' ' -f1
      head -c 1048576 /dev/zvol/$POOL/vol | sha256sum | cut -d' ' -f1
      head -c 1048576 /dev/zvol/$POOL/volclone | sha256sum | cut -d' ' -f1; } | tr '\n' ' '
}
# A pool on the second disk with a dataset, a file, a zvol, a snapshot and a clone of it.
make_pool() {
    check pool-created zpool create -f $POOL /dev/vdb
    check dataset-created zfs create $POOL/data
    dd if=/dev/urandom of=/$POOL/data/blob bs=1M count=8 status=none
    check zvol-created zfs create -V 32M $POOL/vol
    udevadm settle
    local i
    for ((i = 0; i < 50; i++)); do [[ -e /dev/zvol/$POOL/vol ]] && break; sleep 0.2; done
    check zvol-device test -b /dev/zvol/$POOL/vol
    dd if=/dev/urandom of=/dev/zvol/$POOL/vol bs=1M count=1 status=none conv=fsync
    check snapshot-created zfs snapshot $POOL/vol@one
    check dataset-snapshot zfs snapshot $POOL/data@one
    check clone-created zfs clone $POOL/vol@one $POOL/volclone
    udevadm settle
    for ((i = 0; i < 50; i++)); do [[ -e /dev/zvol/$POOL/volclone ]] && break; sleep 0.2; done
    local a b
    a=$(head -c 1048576 /dev/zvol/$POOL/vol | sha256sum | cut -d' ' -f1)
    b=$(head -c 1048576 /dev/zvol/$POOL/volclone | sha256sum | cut -d' ' -f1)
    check_eq clone-matches-origin "$a" "$b"
    pool_fingerprint >/var/lib/corezfs-lab/pool.fingerprint
    info "pool fingerprint: $(cat /var/lib/corezfs-lab/pool.fingerprint)"
    sync
}
# After a reboot: imported by the units (not by us), mounted, same bytes.
check_pool_after_reboot() {
    check pool-import-unit-ran systemctl is-active zfs-import-cache.service
    check_eq pool-imported "$POOL ONLINE" "$(zpool list -H -o name,health $POOL 2>&1 | tr "\t" " ")"
    check_eq dataset-mounted yes "$(zfs get -H -o value mounted $POOL/data 2>&1)"
    check snapshot-kept zfs list -t snapshot $POOL/vol@one
    check clone-kept zfs list $POOL/volclone
    udevadm settle
    local i
    for ((i = 0; i < 50; i++)); do [[ -e /dev/zvol/$POOL/volclone ]] && break; sleep 0.2; done
    check_eq checksum-identical "$(cat /var/lib/corezfs-lab/pool.fingerprint 2>/dev/null)" "$(pool_fingerprint 2>&1)"
}

# What /usr is, cheaply: every path with its type, size, mode, mtime and link target.
usr_listing() { find /usr -xdev -printf '%p %y %s %m %T@ %l\n' | LC_ALL=C sort; }

# Flatcar's /usr is read-only; the lab image's is not, which would hide an installer that writes there. This
# makes /usr a read-only bind mount now and on every later boot of the run (a unit early in the boot, before
# anything corezfs activates on top of /usr).
readonly_usr() {
    cat >/etc/systemd/system/lab-usr-ro.service <<'UNIT'
[Unit]
Description=corezfs lab: read-only /usr, as on Flatcar
DefaultDependencies=no
After=systemd-remount-fs.service
Before=local-fs-pre.target zfs-overlay.service corezfs-sysext.service systemd-sysext.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'findmnt -n /usr >/dev/null || mount --bind /usr /usr; mount -o remount,bind,ro /usr'
[Install]
WantedBy=local-fs-pre.target
UNIT
    systemctl enable lab-usr-ro.service 2>/dev/null
    systemctl start lab-usr-ro.service
    check usr-read-only sh -c '! touch /usr/.lab-write-test 2>/dev/null'
}

# The activation of MODE holds right now.
check_active() {
    local p=$1 mode=$2
    case $mode in
        overlay)
            check "$p-overlay-unit-active" systemctl is-active zfs-overlay.service
            check "$p-usr-overlay-mounted" sh -c 'findmnt -n -t overlay /usr | grep -q /opt/corezfs/usr'
            ;;
        sysext)
            check "$p-sysext-unit-active" systemctl is-active corezfs-sysext.service
            check "$p-extension-link" test "$(readlink -f /var/lib/extensions/corezfs)" = /opt/corezfs
            local st; st=$(systemd-sysext status 2>&1)
            info "systemd-sysext status: $(printf '%s' "$st" | tr '\n' '|')"
            if printf '%s\n' "$st" | grep -qw corezfs; then ok "$p-sysext-lists-corezfs"; else fail "$p-sysext-lists-corezfs" "$st"; fi
            ;;
        *) fail "$p-mode" "unknown mode '$mode'" ;;
    esac
    local u
    for u in zfs-import-cache.service zfs-mount.service zfs.target; do
        check_eq "$p-enabled-$u" enabled "$(systemctl is-enabled "$u" 2>&1)"
    done
}

# Nothing of corezfs is active or installed on this node.
check_gone() {
    local p=$1
    check_not "$p-no-usr-overlay" sh -c 'findmnt -n -t overlay /usr'
    check_not "$p-no-extension-merged" sh -c 'systemd-sysext status 2>/dev/null | grep -qw corezfs'
    check_not "$p-no-extension-link" test -e /var/lib/extensions/corezfs -o -L /var/lib/extensions/corezfs
    check_not "$p-no-opt-corezfs" test -e /opt/corezfs
    check_eq "$p-no-zfs-units" "" "$(find /etc/systemd -name 'zfs*' -o -name 'corezfs*' | sort | tr '\n' ' ')"
    check_eq "$p-no-leftovers" "" "$(leftovers)"
}
# Staging or backup trees an install left behind.
leftovers() { find / /opt /etc -maxdepth 1 -name '.corezfs-*' 2>/dev/null | sort | tr '\n' ' '; }

# The OS "updated its kernel", as far as corezfs can tell: the installed tree now names a release that does not boot.
swap_kernel() {
    echo 6.1.0-99-cloud-amd64 >/opt/corezfs/kernel-release
    sync
}
# The boot after swap_kernel: the node is up, UNIT refused the tree and said why in the journal, no module loaded.
check_swapped_boot() {
    local unit=$1 log
    check booted-to-multi-user systemctl is-active multi-user.target
    check_not swapped-no-module test -d /sys/module/zfs
    check_not swapped-unit-inactive systemctl is-active "$unit"
    log=$(journalctl -b --no-pager -o cat 2>&1 | grep -i 'built for kernel' | head -n 3)
    info "journal: $log"
    if [[ -n $log ]]; then ok swapped-journal-says-why; else fail swapped-journal-says-why "no 'built for kernel' in this boot's journal"; fi
}
