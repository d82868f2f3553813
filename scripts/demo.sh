#!/bin/bash
# The main job, end to end, on a fresh Debian machine (as root): build the lab, package corezfs, build the ZFS
# archive for the lab's Flatcar-like node (a real OpenZFS compile in the developer container, 5-10 min the first
# time, cached after), then boot a throwaway node under qemu (no network, no Java on it) where an operator's steps
# run: unpack the self-contained corezfs bundle, `corezfs install`, create a pool on the node's second disk and show
# `zpool status`. Everything is cached under target/lab; the node's disks are deleted at the end.
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
cat >"$demo/inject/run.sh" <<SCRIPT
#!/bin/bash
# Runs as root on the node. What an operator types, with the commands echoed.
set -eu
export PATH=/opt/corezfs-tool/bin:\$PATH
systemctl is-system-running --wait >/dev/null || true
set -x
mkdir -p /opt/corezfs-tool && tar -xzf corezfs.tar.gz -C /opt/corezfs-tool --strip-components=1
command -v java || echo "no Java on this node: the bundle brings its own runtime"
corezfs status
# As on a real node: the archive sits in the current directory, where install looks after its store.
cd /root/inject
corezfs install
zpool create -f demo /dev/vdb
zfs create demo/data
echo "hello from corezfs" >/demo/data/hello.txt
zfs list -r demo
corezfs status
zpool status demo
SCRIPT
chmod 755 "$demo/inject/run.sh"

name=corezfs-demo
trap 'bash lab/vm-run.sh rm "$name" >/dev/null 2>&1 || true' EXIT
# Under TCG the node's JVM is slow (a corezfs call takes 10-40 s there); the timeout leaves room for a busy host.
bash lab/vm-run.sh start "$name" --inject "$demo/inject" --timeout 1800
