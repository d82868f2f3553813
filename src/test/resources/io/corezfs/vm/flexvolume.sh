#!/bin/bash
# The FlexVolume driver on a node, called exactly as the kubelet calls it (see FlexVolumeIT): install corezfs and
# ZFS, make a pool and the parent dataset, `corezfs flexvolume install`, then run the installed driver file with the
# kubelet's argv and JSON. Each reply is printed as "REPLY <name> <rc> <base64 of stdout+stderr>": the kubelet reads
# both streams together as the reply, so the test parses exactly that.
source ./vmlib.sh
wait_booted
setup_tool
readonly_usr
run_cli install install --mode "${MODE:-sysext}" --archive "$(good_archive)"
check_eq install-rc 0 "$RC"
check_zfs_live boot1
check pool-created zpool create -f tank /dev/vdb
check parent-created zfs create tank/kube
run_cli flex-install flexvolume install --parent tank/kube
check_eq flex-install-rc 0 "$RC"
DRIVER=/opt/libexec/kubernetes/kubelet-plugins/volume/exec/corezfs~zfs/zfs
check driver-executable test -x "$DRIVER"
check_eq driver-config PARENT=tank/kube "$(grep '^PARENT=' /etc/corezfs/flexvolume.conf)"
info "driver: $(tr '\n' '|' <"$DRIVER")"

# driver NAME ARGS...: runs the installed driver as the kubelet does (its stdout and stderr as one output).
driver() {
    local name=$1 out rc t; shift
    t=$(now)
    out=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin COREZFS_JAVA_OPTS="$COREZFS_JAVA_OPTS" "$DRIVER" "$@" 2>&1) && rc=0 || rc=$?
    echo "TIME $name $(elapsed "$t")"
    echo "REPLY $name $rc $(printf '%s' "$out" | base64 -w0)"
    jvm_check "$name"
}
# The options JSON the kubelet 1.20 builds for a pod's flexVolume: its own kubernetes.io/ keys and the pod's
# options, one flat object, keys sorted (Go's json.Marshal of a map).
kubelet_json() { # POD_UID DATASET
    printf '{"compression":"lz4","dataset":"%s","kubernetes.io/fsType":"","kubernetes.io/pod.name":"writer",' "$2"
    printf '"kubernetes.io/pod.namespace":"default","kubernetes.io/pod.uid":"%s",' "$1"
    printf '"kubernetes.io/pvOrVolumeName":"data","kubernetes.io/readwrite":"rw",'
    printf '"kubernetes.io/serviceAccount.name":"default","quota":"64M"}'
}
POD1=5b0d7c1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e
POD2=9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b
DIR1=/var/lib/kubelet/pods/$POD1/volumes/corezfs~zfs/data
DIR2=/var/lib/kubelet/pods/$POD2/volumes/corezfs~zfs/data

driver init init
driver mount1 mount "$DIR1" "$(kubelet_json $POD1 data)"
check mounted1 mountpoint -q "$DIR1"
check_eq quota 67108864 "$(zfs get -H -p -o value quota tank/kube/data 2>&1)"
check_eq compression lz4 "$(zfs get -H -o value compression tank/kube/data 2>&1)"
echo "written by pod 1" >"$DIR1/hello.txt"
check_eq written-through-mount "written by pod 1" "$(cat /tank/kube/data/hello.txt 2>&1)"
# Incompressible data past the 64M quota: the write must fail with "Disk quota exceeded".
dd_out=$(dd if=/dev/urandom of="$DIR1/big" bs=1M count=100 conv=fsync 2>&1) && dd_rc=0 || dd_rc=$?
info "dd past the quota: rc=$dd_rc $(printf '%s' "$dd_out" | tr '\n' '|')"
if ((dd_rc != 0)) && grep -qi 'quota' <<<"$dd_out"; then ok quota-enforced; else fail quota-enforced "dd rc=$dd_rc: $dd_out"; fi
rm -f "$DIR1/big"
driver unmount1 unmount "$DIR1"
check_not unmounted1 mountpoint -q "$DIR1"
check dataset-kept zfs list tank/kube/data
check_eq data-kept "written by pod 1" "$(cat /tank/kube/data/hello.txt 2>&1)"

# Two pods at once on the same dataset: the second sees the first's data.
driver mount2 mount "$DIR2" "$(kubelet_json $POD2 data)"
driver mount1-again mount "$DIR1" "$(kubelet_json $POD1 data)"
check_eq pod2-sees-data "written by pod 1" "$(cat "$DIR2/hello.txt" 2>&1)"
check_eq pod1-sees-data-again "written by pod 1" "$(cat "$DIR1/hello.txt" 2>&1)"
driver unmount2 unmount "$DIR2"
driver unmount1-again unmount "$DIR1"
check_not unmounted-both sh -c "mountpoint -q '$DIR1' || mountpoint -q '$DIR2'"
check_eq data-kept-after-both "written by pod 1" "$(cat /tank/kube/data/hello.txt 2>&1)"

# Two pods starting at once on a dataset that does not exist yet: both mount it, one of them creates it.
DIR3=/var/lib/kubelet/pods/$POD1/volumes/corezfs~zfs/shared
DIR4=/var/lib/kubelet/pods/$POD2/volumes/corezfs~zfs/shared
driver concurrent-a mount "$DIR3" "$(kubelet_json $POD1 shared)" &
driver concurrent-b mount "$DIR4" "$(kubelet_json $POD2 shared)" &
wait
echo "from a" >"$DIR3/a.txt"
check_eq concurrent-same-dataset "from a" "$(cat "$DIR4/a.txt" 2>&1)"
driver concurrent-a-unmount unmount "$DIR3"
driver concurrent-b-unmount unmount "$DIR4"

# What the unit tests' fake zfs (FakeZfsHost) answers, held against the real one: the columns the driver reads and
# the messages it tells apart.
check_eq zfs-list-columns "$(printf 'tank/kube/data\tfilesystem\t/tank/kube/data\tyes')" \
    "$(zfs list -H -p -o name,type,mountpoint,mounted tank/kube/data 2>&1)"
zfs_says() { # NAME TEXT COMMAND...: COMMAND fails and its stderr contains TEXT
    local name=$1 text=$2 err; shift 2
    if err=$("$@" 2>&1 >/dev/null); then fail "$name" "$* succeeded"
    elif [[ $err == *"$text"* ]]; then ok "$name"
    else fail "$name" "$* said: $err"; fi
}
zfs_says zfs-says-no-dataset "dataset does not exist" zfs list -H -p -o name,type,mountpoint,mounted tank/kube/none
zfs_says zfs-says-exists "dataset already exists" zfs create -o quota=64M tank/kube/data
zfs_says zfs-says-no-parent "parent does not exist" zfs create tank/missing/data
check zfs-sets-several zfs set quota=64M compression=lz4 tank/kube/data

# Hostile names: a Failure reply, and nothing created anywhere.
before=$(zfs list -H -o name -t all -r tank | tr '\n' ' ')
for h in '../etc' 'a/b' 'data@snap'; do
    n=hostile-$(printf '%s' "$h" | tr -c '[:lower:]' '_')
    driver "$n" mount "/var/lib/kubelet/pods/$POD2/volumes/corezfs~zfs/evil" "$(kubelet_json $POD2 "$h")"
done
check_eq hostile-created-no-dataset "$before" "$(zfs list -H -o name -t all -r tank | tr '\n' ' ')"
check_not hostile-created-no-dir test -e "/var/lib/kubelet/pods/$POD2/volumes/corezfs~zfs/evil"
finish
