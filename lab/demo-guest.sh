#!/bin/bash
# The demo node's script: runs as root in the lab VM (as /root/inject/run.sh, in /root/inject), doing what an
# operator types on a fresh node, with the commands echoed. scripts/demo.sh and lab/soak.sh inject it.
#
# When a step fails, the host must see why, not a bare exit code: the EXIT trap prints the failed step, and every
# JVM crash report between "HS-ERR-BEGIN <path>" and "HS-ERR-END" lines, which lab/guest-report.sh turns back
# into files on the host.
set -eu
export PATH=/opt/corezfs-tool/bin:$PATH
# Crash reports in one known place (HotSpot's default is the working directory, here the inject disk's copy).
export COREZFS_JAVA_OPTS="-XX:ErrorFile=/var/log/corezfs-lab/hs_err_pid%p.log"
mkdir -p /var/log/corezfs-lab

step=''
report() {
    local rc=$?
    set +x
    ((rc == 0)) || echo "DEMO-FAILED rc=$rc in: $step"
    # Every crash report, also of a JVM whose failure the script tolerated (lab/soak.sh's extra starts).
    local f
    for f in /var/log/corezfs-lab/hs_err_pid*.log; do
        [[ -f $f ]] || continue
        echo "HS-ERR-BEGIN $f"
        cat "$f"
        echo "HS-ERR-END"
    done
    sync
    exit "$rc"
}
trap report EXIT
# Runs a step, echoed, and remembers it for the report.
run() { step="$*"; echo "+ $*"; "$@"; }
# Like run, and prints "TIME <name> <seconds>" (lab/soak.sh reads them).
timed() {
    local name=$1 t0=$EPOCHREALTIME
    shift
    run "$@"
    echo "TIME $name $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')"
}

systemctl is-system-running --wait >/dev/null || true
run mkdir -p /opt/corezfs-tool
run tar -xzf corezfs.tar.gz -C /opt/corezfs-tool --strip-components=1
command -v java || echo "no Java on this node: the bundle brings its own runtime"
timed status corezfs status
# As on a real node: the archive sits in the current directory, where install looks after its store.
cd /root/inject
timed install corezfs install
run zpool create -f demo /dev/vdb
run zfs create demo/data
echo "hello from corezfs" >/demo/data/hello.txt
run zfs list -r demo
timed status-after corezfs status
run zpool status demo

# lab/soak.sh only (its soak.env): more JVM starts per boot, each hashing the whole archive in a fresh JVM, as
# install does. A failed start is counted by the soak from its crash report, and the boot goes on.
if [[ -f soak.env ]]; then
    source ./soak.env
    for ((i = 1; i <= ${SOAK_VERIFY:-0}; i++)); do
        timed "verify-$i" corezfs archive verify corezfs_*.tar.gz >/dev/null || echo "SOAK-VERIFY-FAILED $i"
    done
fi
