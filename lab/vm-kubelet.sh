#!/usr/bin/env bash
# The lab VM as a Kubernetes node (issue 17): a copy of the VM image with Debian's containerd 1.6, runc and CNI
# plugins, the kubelet and kubectl of lab/k8s.sh's build, and two container images made here (no registry answers):
# a pause image (a static C program of our own) and a busybox image (Debian's busybox-static).
#
#   lab/vm-kubelet.sh              build (cached) and print the directory
#   lab/vm-kubelet.sh --run NAME   also make NAME's base image this one (a run made by `vm-run.sh prepare`)
#
# Output, $LAB_CACHE/vm/kubelet/: root.img. In the image:
#   /usr/local/bin/kubelet, /usr/local/bin/kubectl          from lab/k8s.sh (static, CGO_ENABLED=0)
#   /etc/containerd/config.toml                             CRI: the local pause image, restrict_oom_score_adj
#   /etc/cni/net.d/10-lab.conflist                          a bridge on 10.22.0.0/24, inside the VM only
#   /etc/kubernetes/kubelet.yaml, kubelet.service           not enabled: the test writes the kubeconfig, then starts it
#   /var/lib/corezfs-lab/images/{pause,busybox}.tar         docker-save archives for `ctr -n k8s.io images import`
# The kubelet reaches the apiserver only through vm-run.sh --guestfwd (https://10.0.2.100:8080, a name in the lab
# apiserver's serving certificate). It rewrites some kernel sysctls: inside the VM that is the VM's own kernel, which
# is why it runs there and never on the lab host.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

RUN_NAME=''
if (($#)); then [[ $1 == --run && -n ${2:-} ]] || { sed -n '6,7p' "$0" >&2; exit 2; }; RUN_NAME=$2; fi
need_root
VM_IMAGE_DIR=$LAB_CACHE/vm/image/$LAB_FLATCAR_VERSION-$LAB_KV
OUT=$LAB_CACHE/vm/kubelet
STAMP=$OUT/.kubelet.stamp
"$LAB_DIR/vm-image.sh" >&2
K8S_DIR=$("$LAB_DIR/k8s.sh")
PACKAGES=(containerd runc containernetworking-plugins)
KEY=$(input_key "$0" "$LAB_KV" "image $(head -n1 "$VM_IMAGE_DIR/.image.stamp" 2>/dev/null)" \
    "k8s $(head -n1 "$K8S_DIR/.build.stamp")" "packages ${PACKAGES[*]} busybox-static")
# The image grows by this much: containerd, the kubelet and kubectl take about 300 MB of the base's free GiB, and the
# node still needs room for corezfs's bundle and archive.
GROW_MIB=1024

# make_image DIR NAME CMD...: a docker-save archive DIR/NAME.tar of the tree in DIR/NAME, with CMD as its command,
# made through the lab's dockerd (docker import, save, then the tag is removed again).
make_image() {
    local dir=$1 name=$2 cmd tag; shift 2
    cmd=$("$LAB_PYTHON" -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@")
    tag=corezfs-lab/$name:1
    tar --numeric-owner --owner=0 --group=0 -C "$dir/$name" -c . |
        docker import --change "CMD $cmd" - "$tag" >/dev/null
    docker save -o "$dir/$name.tar" "$tag"
    docker rmi "$tag" >/dev/null
}

build() {
    lab_lock vm-kubelet
    if ! command -v docker >/dev/null || [[ ! -S /var/run/docker.sock ]]; then die "dockerd is not running (lab/docker.sh)"; fi
    # gcc and libc6-dev (its static libc.a) build the pause program; a fresh host may lack them.
    local p missing=()
    for p in gcc libc6-dev; do
        [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive heavy apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    fi
    mkdir -p "$OUT"
    local work=$OUT/work
    ROOTFS=$work/root
    # shellcheck disable=SC2034  # lib.sh's mount_in_root and umount_all keep the mounts here
    MOUNTS=()
    # shellcheck disable=SC2317  # run by the trap
    cleanup() { umount_all; }
    trap cleanup EXIT
    umount_stale 2>/dev/null || true
    rm -rf --one-file-system "$work"
    mkdir -p "$work/images/pause" "$work/images/busybox/bin" "$work/debs"

    log "container images: pause (gcc -static) and busybox (busybox-static)"
    cat >"$work/pause.c" <<'EOF'
/* The sandbox's process: it only waits, and exits on SIGTERM or SIGINT. */
#include <signal.h>
#include <unistd.h>
static void stop(int sig) { (void)sig; _exit(0); }
int main(void) {
    signal(SIGTERM, stop);
    signal(SIGINT, stop);
    for (;;) pause();
}
EOF
    gcc -static -O2 -s -o "$work/images/pause/pause" "$work/pause.c"
    (cd "$work/debs" && apt-get download busybox-static >&2)
    dpkg-deb -x "$work"/debs/busybox-static_*.deb "$work/busybox-deb"
    cp "$work/busybox-deb/bin/busybox" "$work/images/busybox/bin/busybox"
    local applet
    for applet in $("$work/images/busybox/bin/busybox" --list); do
        [[ $applet == busybox ]] || ln -s busybox "$work/images/busybox/bin/$applet"
    done
    make_image "$work/images" pause /pause
    make_image "$work/images" busybox /bin/sh

    heavy cp --sparse=always "$VM_IMAGE_DIR/root.img" "$work/root.img"
    chmod 0644 "$work/root.img"
    truncate -s "+${GROW_MIB}M" "$work/root.img"
    heavy e2fsck -fy "$work/root.img" >&2 || (($? < 4)) || die "e2fsck of the copy failed"
    heavy resize2fs "$work/root.img" >&2
    mount_in_root "$ROOTFS" -o loop "$work/root.img"
    mount_in_root "$ROOTFS/dev" --bind /dev
    mount_in_root "$ROOTFS/proc" -t proc proc
    mount_in_root "$ROOTFS/sys" -t sysfs sys
    cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
    log "installing ${PACKAGES[*]} in a copy of the VM image"
    # policy-rc.d: the packages' scripts must not start containerd in the chroot.
    printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
    chmod 0755 "$ROOTFS/usr/sbin/policy-rc.d"
    in_root sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends ${PACKAGES[*]}" >&2
    rm -f "$ROOTFS/usr/sbin/policy-rc.d" "$ROOTFS/etc/resolv.conf"
    # A node has one, and the kubelet and containerd give it to every pod (a sandbox fails without it). It is empty:
    # behind restrict=on there is no resolver to name.
    printf '# no resolver: the lab VM reaches only the forwarded apiserver\n' >"$ROOTFS/etc/resolv.conf"
    in_root apt-get clean
    rm -rf "$ROOTFS"/var/lib/apt/lists/*

    install -m 0755 "$K8S_DIR/bin/kubelet" "$K8S_DIR/bin/kubectl" "$ROOTFS/usr/local/bin/"
    install -d "$ROOTFS/var/lib/corezfs-lab/images"
    install -m 0644 "$work/images/pause.tar" "$work/images/busybox.tar" "$ROOTFS/var/lib/corezfs-lab/images/"

    # containerd's CRI: the sandbox image is the local pause image (nothing can be pulled); restrict_oom_score_adj as
    # the issue found it needed where root lacks CAP_SYS_RESOURCE (harmless in the VM, where root has it).
    mkdir -p "$ROOTFS/etc/containerd"
    cat >"$ROOTFS/etc/containerd/config.toml" <<'EOF'
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/corezfs-lab/pause:1"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
EOF
    # A CNI network, so the runtime reports its network ready and the node becomes Ready. The test's pods use the
    # host network; this bridge and its addresses exist only inside the VM.
    mkdir -p "$ROOTFS/etc/cni/net.d"
    cat >"$ROOTFS/etc/cni/net.d/10-lab.conflist" <<'EOF'
{
  "cniVersion": "0.4.0",
  "name": "lab",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": false, "ipMasq": false,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.22.0.0/24"}]]}}
  ]
}
EOF
    mkdir -p "$ROOTFS/etc/kubernetes/pki" "$ROOTFS/var/lib/kubelet"
    # Nothing dials the kubelet: it listens on the VM's loopback only, and needs no serving certificate from the CA.
    # The plugin directory is Flatcar's (its /usr is read-only), where `corezfs flexvolume install` puts the driver.
    cat >"$ROOTFS/etc/kubernetes/kubelet.yaml" <<'EOF'
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
cgroupDriver: cgroupfs
failSwapOn: false
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: false
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: AlwaysAllow
volumePluginDir: /opt/libexec/kubernetes/kubelet-plugins/volume/exec
evictionHard:
  memory.available: 50Mi
  nodefs.available: 2%
  imagefs.available: 2%
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
runtimeRequestTimeout: 10m
EOF
    cat >"$ROOTFS/etc/systemd/system/kubelet.service" <<'EOF'
[Unit]
Description=kubelet (corezfs lab node)
After=containerd.service
Requires=containerd.service
[Service]
EnvironmentFile=-/etc/kubernetes/kubelet.env
ExecStart=/usr/local/bin/kubelet --config=/etc/kubernetes/kubelet.yaml \
    --kubeconfig=/etc/kubernetes/kubelet.kubeconfig --hostname-override=lab-node --node-ip=10.0.2.15 \
    --container-runtime=remote --container-runtime-endpoint=unix:///run/containerd/containerd.sock \
    --v=2
Restart=no
[Install]
WantedBy=multi-user.target
EOF
    # The test starts containerd itself (and times it).
    in_root systemctl disable containerd.service >&2 2>/dev/null || true
    # The NIC of vm-run.sh --guestfwd: DHCP from qemu's user network (10.0.2.15).
    mkdir -p "$ROOTFS/etc/systemd/network"
    printf '[Match]\nName=e*\n[Network]\nDHCP=ipv4\n' >"$ROOTFS/etc/systemd/network/50-lab.network"
    in_root systemctl enable systemd-networkd.service >&2
    dpkg-query --admindir="$ROOTFS/var/lib/dpkg" -W "${PACKAGES[@]}" >"$work/packages.txt"
    umount_all
    trap - EXIT
    chmod 0444 "$work/root.img"     # the backing file of every run, as vm-image.sh's
    mv -f "$work/root.img" "$OUT/root.img"
    mv -f "$work/packages.txt" "$OUT/packages.txt"
    rm -rf --one-file-system "$work"
    # The image itself is not hashed by the stamp (as vm-sshd.sh): hashing 2.5 GB at every call costs more than it
    # guards.
    stamp_write "$STAMP" "$KEY" packages.txt
    log "kubelet image ready in $OUT ($(tr '\n' ' ' <"$OUT/packages.txt"))"
}
[[ -f $OUT/root.img ]] && stamp_ok "$STAMP" "$KEY" || build

if [[ -n $RUN_NAME ]]; then
    RUN=$LAB_CACHE/vm/runs/$RUN_NAME
    [[ -f $RUN/disk.qcow2 ]] || die "no run $RUN_NAME (make it with vm-run.sh prepare)"
    compgen -G "$RUN/boot-*.console.log" >/dev/null && die "run $RUN_NAME was booted already"
    # The run's overlay is empty, so its base can still be swapped (as vm-sshd.sh does). The overlay records the
    # base's size, so it is made again for the larger image.
    rm -f "$RUN/base.raw" "$RUN/disk.qcow2"
    ln "$OUT/root.img" "$RUN/base.raw" 2>/dev/null || heavy cp --sparse=always "$OUT/root.img" "$RUN/base.raw"
    (cd "$RUN" && qemu-img create -q -f qcow2 -b base.raw -F raw disk.qcow2)
fi
printf '%s\n' "$OUT"
