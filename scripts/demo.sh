#!/bin/bash
# The main job, end to end, on a fresh Debian machine (as root): build the lab, package corezfs, build the ZFS
# archive for the lab's Flatcar-like node (a real OpenZFS compile in the developer container, 5-10 min the first
# time, cached after), then boot a throwaway node under qemu (no network, no Java on it) where an operator's steps
# run: unpack the self-contained corezfs bundle, `corezfs install`, create a pool on the node's second disk and show
# `zpool status`. Everything is cached under $LAB_CACHE (default /var/cache/corezfs-lab); the node's disks are deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
bash lab/all.sh            # Debian packages, developer container, ZFS source, release-server mirror, host root
bash lab/docker.sh         # the Docker engine, without bridge or iptables
bash lab/vm-image.sh       # the node: the lab kernel, systemd, Flatcar's release files, a second disk for the pool
version=$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' pom.xml | head -n1)
bundle=target/corezfs-$version-linux-x86_64.tar.gz
[ -x target/corezfs/bin/corezfs ] && [ -f "$bundle" ] || mvn -B -ntp -q -DskipTests package
archive=$(bash lab/vm-archive.sh)

demo=target/demo-vm
rm -rf "$demo"
mkdir -p "$demo/inject"
ln "$bundle" "$demo/inject/corezfs.tar.gz" 2>/dev/null || cp "$bundle" "$demo/inject/corezfs.tar.gz"
ln "$archive" "$demo/inject/" 2>/dev/null || cp "$archive" "$demo/inject/"
# What an operator types on the node, with the commands echoed (runs as root in the VM).
cp lab/demo-guest.sh "$demo/inject/run.sh"
chmod 755 "$demo/inject/run.sh"

name=corezfs-demo
trap 'bash lab/vm-run.sh rm "$name" >/dev/null 2>&1 || true' EXIT
# Under TCG the node's JVM is slow (a corezfs call takes 10-40 s there); the timeout leaves room for a busy host.
rc=0
bash lab/vm-run.sh start "$name" --inject "$demo/inject" --timeout 1800 | tee "$demo/guest.out" || rc=${PIPESTATUS[0]}
if ((rc != 0)); then
    # Say what happened in the node, not only its exit code: the failed step, the guest's last lines, and any JVM
    # crash report, copied out of the guest's output to the host.
    {
        echo
        echo "demo: FAILED in the node (rc=$rc)."
        grep -m1 '^DEMO-FAILED' "$demo/guest.out" | sed 's/^DEMO-FAILED /demo: failed step: /' || true
        echo "demo: the node's last lines:"
        sed '/^HS-ERR-BEGIN /,/^HS-ERR-END$/d' "$demo/guest.out" | grep -v '^DEMO-FAILED' | tail -n 15 | sed 's/^/  | /'
        bash lab/guest-report.sh "$demo/guest.out" "$demo" | while read -r _ sig path; do
            echo "demo: the JVM crashed ($sig); its report: $path"
        done
        echo "demo: the node's whole output: $demo/guest.out"
    } >&2
    exit "$rc"
fi
