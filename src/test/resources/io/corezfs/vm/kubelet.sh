#!/bin/bash
# The FlexVolume driver under the real kubelet (see KubeletFlexVolumeIT): the node installs corezfs and ZFS, makes a
# pool and the parent dataset, `corezfs flexvolume install`, then runs containerd and the kubelet 1.20.2 of the lab's
# build (lab/vm-kubelet.sh's image), which registers with the lab apiserver on the host through the guestfwd
# (https://10.0.2.100:8080). A pod with a corezfs flexVolume writes into /data; the pod's spec goes to the apiserver
# and the kubelet does the rest: it calls the driver, starts the containers, and unmounts when the pod is deleted.
# kubectl here uses the admin certificate; it only talks to the apiserver. Nothing asks the apiserver to dial the
# kubelet (no `kubectl logs`): the pod's log is read from the node's /var/log/pods.
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
check driver-executable test -x /opt/libexec/kubernetes/kubelet-plugins/volume/exec/corezfs~zfs/zfs

API=https://10.0.2.100:8080
install -m 0644 k8s/ca.crt /etc/kubernetes/pki/ca.crt
install -m 0600 k8s/kubelet.crt k8s/kubelet.key k8s/admin.crt k8s/admin.key /etc/kubernetes/pki/
kubeconfig() { # NAME
    cat >"/etc/kubernetes/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: $API
    certificate-authority: /etc/kubernetes/pki/ca.crt
users:
- name: $1
  user:
    client-certificate: /etc/kubernetes/pki/$1.crt
    client-key: /etc/kubernetes/pki/$1.key
contexts:
- name: $1@lab
  context:
    cluster: lab
    user: $1
current-context: $1@lab
EOF
}
kubeconfig kubelet
kubeconfig admin
export KUBECONFIG=/etc/kubernetes/admin.kubeconfig
# The driver is a JVM started by the kubelet: the same crash-report location as every other call in the scenario.
printf 'COREZFS_JAVA_OPTS=%s\n' "$COREZFS_JAVA_OPTS" >/etc/kubernetes/kubelet.env

# wait_for NAME SECONDS COMMAND...: until COMMAND succeeds; prints TIME NAME, or fails NAME after SECONDS.
wait_for() {
    local name=$1 secs=$2 t; shift 2
    t=$(now)
    while ! "$@" >/dev/null 2>&1; do
        if (($(date +%s) - ${t%.*} >= secs)); then fail "$name" "not within $secs s: $*"; return 1; fi
        sleep 2
    done
    echo "TIME $name $(elapsed "$t")"
    ok "$name"
}
node_ready() { [[ $(kubectl get node lab-node -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') == True ]]; }
pod_phase() { kubectl get pod "$1" -o 'jsonpath={.status.phase}' 2>/dev/null; }
pod_done() { [[ $(pod_phase "$1") == Succeeded || $(pod_phase "$1") == Failed ]]; }
pod_gone() { ! kubectl get pod "$1" >/dev/null 2>&1; }
has_address() { grep -q ' 10\.0\.2\.15$' /proc/net/fib_trie; }
diagnose() { # what a human needs when the kubelet path fails
    info "containerd: $(systemctl is-active containerd) kubelet: $(systemctl is-active kubelet)"
    journalctl -u kubelet --no-pager -o cat 2>/dev/null | grep -E '^[EW][0-9]{4}' | tail -n 40 | sed 's/^/KUBELET /'
    journalctl -u containerd --no-pager -o cat 2>/dev/null | grep -iE 'level=(error|warn)' | tail -n 20 |
        sed 's/^/CONTAINERD /'
    kubectl get node lab-node -o wide 2>&1 | sed 's/^/NODE /'
    kubectl describe pods 2>&1 | tail -n 40 | sed 's/^/POD /'
}

# Flatcar boots the unified cgroup hierarchy (v2), and so does this node: kubelet 1.20 runs on it with cgroupfs.
check_eq cgroup-v2 cgroup2fs "$(stat -fc %T /sys/fs/cgroup)"
wait_for network-up 120 has_address
wait_for apiserver-reachable 120 kubectl get --raw /readyz
t=$(now)
systemctl start containerd
wait_for containerd-up 300 ctr version
echo "TIME containerd-start $(elapsed "$t")"
t=$(now)
# One archive per call: ctr takes one.
for image in pause busybox; do
    check "image-$image-imported" ctr -n k8s.io images import "/var/lib/corezfs-lab/images/$image.tar"
done
echo "TIME images-import $(elapsed "$t")"
info "images: $(ctr -n k8s.io images ls -q | tr '\n' ' ')"
t=$(now)
systemctl start kubelet
wait_for node-registered 600 kubectl get node lab-node
wait_for node-ready 600 node_ready || diagnose
echo "TIME kubelet-start-to-ready $(elapsed "$t")"
kubectl get node lab-node -o wide 2>&1 | sed 's/^/INFO /'

# The corezfs flexVolume of the FlexVolume pods.
FLEX_VOLUME='flexVolume:
  driver: corezfs/zfs
  options:
    dataset: data
    quota: 64M
    compression: lz4'
# pod_yaml NAME SCRIPT [VOLUME]: a pod on this node (no scheduler runs) on the host network, busybox running SCRIPT,
# with VOLUME (a volume source's YAML; default the corezfs flexVolume) at /data.
pod_yaml() {
    cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  namespace: default
spec:
  nodeName: lab-node
  hostNetwork: true
  restartPolicy: Never
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 5
  containers:
  - name: main
    image: docker.io/corezfs-lab/busybox:1
    imagePullPolicy: Never
    command:
    - /bin/sh
    - -c
    - |
$(printf '%s\n' "$2" | sed '/^$/d; s/^/      /')
    volumeMounts:
    - name: data
      mountPath: /data
  volumes:
  - name: data
$(printf '%s\n' "${3:-$FLEX_VOLUME}" | sed 's/^/    /')
EOF
}
pod_log() { # NAME UID: the container's log, as the node keeps it
    cat /var/log/pods/default_"$1"_"$2"/main/*.log 2>/dev/null
}

# The writer: a small file and 8 MiB of incompressible data, then a write past the 64M quota, which must fail with
# "Disk quota exceeded"; the exit code says which step broke.
# shellcheck disable=SC2016  # the pod's shell expands these
pod_yaml writer '
echo "written by pod writer" >/data/hello.txt || exit 10
dd if=/dev/urandom of=/data/small bs=1M count=8 || exit 11
sync
if out=$(dd if=/dev/urandom of=/data/big bs=1M count=100 conv=fsync 2>&1); then echo "$out"; exit 12; fi
echo "past the quota: $out"
case $out in *"quota exceeded"*) ;; *) exit 13 ;; esac
rm -f /data/big
echo "pod done"' >writer.yaml
t=$(now)
# The controller-manager makes the namespace's default ServiceAccount shortly after it starts; until then the
# apiserver's admission refuses pods.
wait_for pod-created 300 kubectl apply -f writer.yaml
wait_for pod-done 900 pod_done writer
echo "TIME pod-create-to-done $(elapsed "$t")"
check_eq pod-succeeded Succeeded "$(pod_phase writer)"
check_eq pod-exit-code 0 "$(kubectl get pod writer -o 'jsonpath={.status.containerStatuses[0].state.terminated.exitCode}')"
POD_UID=$(kubectl get pod writer -o 'jsonpath={.metadata.uid}')
info "pod uid $POD_UID"
pod_log writer "$POD_UID" | sed 's/^/PODLOG /'
pod_log writer "$POD_UID" | grep -q 'Disk quota exceeded' &&
    ok quota-enforced-in-pod || fail quota-enforced-in-pod "no 'Disk quota exceeded' in the pod's log"
MOUNT=/var/lib/kubelet/pods/$POD_UID/volumes/corezfs~zfs/data
check mounted-by-kubelet mountpoint -q "$MOUNT"
info "mount: $(findmnt -n -o SOURCE,FSTYPE "$MOUNT" 2>&1)"
check_eq dataset-mounted tank/kube/data "$(findmnt -n -o SOURCE "$MOUNT" 2>&1)"
check_eq quota 67108864 "$(zfs get -H -p -o value quota tank/kube/data 2>&1)"
check_eq compression lz4 "$(zfs get -H -o value compression tank/kube/data 2>&1)"
check_eq written-by-pod "written by pod writer" "$(cat /tank/kube/data/hello.txt 2>&1)"
check_eq big-file-removed-by-pod "" "$(ls /tank/kube/data/big 2>/dev/null)"
SUM=$(sha256sum </tank/kube/data/small)

t=$(now)
check pod-deleted kubectl delete pod writer --wait=true --timeout=600s
wait_for pod-gone 600 pod_gone writer
echo "TIME pod-delete $(elapsed "$t")"
wait_for unmounted-by-kubelet 300 sh -c "! mountpoint -q '$MOUNT'"
check dataset-kept zfs list tank/kube/data
check_eq data-kept "written by pod writer" "$(cat /tank/kube/data/hello.txt 2>&1)"
check_eq data-unchanged "$SUM" "$(sha256sum </tank/kube/data/small)"
check_eq quota-kept 67108864 "$(zfs get -H -p -o value quota tank/kube/data 2>&1)"

# A second pod names the same dataset: the kubelet mounts it again (the driver reuses it), and the pod reads what the
# first one wrote.
# shellcheck disable=SC2016  # the pod's shell expands these
pod_yaml reader '
[ "$(cat /data/hello.txt)" = "written by pod writer" ] || exit 20
sha256sum /data/small || exit 21' >reader.yaml
t=$(now)
check reader-created kubectl apply -f reader.yaml
wait_for reader-done 900 pod_done reader
echo "TIME reader-create-to-done $(elapsed "$t")"
check_eq reader-succeeded Succeeded "$(pod_phase reader)"
READER_UID=$(kubectl get pod reader -o 'jsonpath={.metadata.uid}')
pod_log reader "$READER_UID" | sed 's/^/PODLOG /'
check_eq reader-sees-data "${SUM%% *}" "$(pod_log reader "$READER_UID" | awk '/\/data\/small/ { print $4 }')"
check reader-deleted kubectl delete pod reader --wait=true --timeout=600s
wait_for reader-unmounted 300 sh -c "! mountpoint -q '/var/lib/kubelet/pods/$READER_UID/volumes/corezfs~zfs/data'"
check dataset-kept-after-reader zfs list tank/kube/data

# The dynamic provisioner on this node, with zfs run locally: the tree of its container image (runtime included), run
# as root, as `corezfs provisioner run` runs outside a cluster. A 100Mi claim becomes a hostPath PV on this node, and a
# pod the kubelet starts writes into it, and is refused past its refquota; deleting the claim destroys the dataset.
claim_phase() { kubectl get pvc claim -o 'jsonpath={.status.phase}' 2>/dev/null; }
claim_bound() { [[ $(claim_phase) == Bound ]]; }
mkdir -p /root/provisioner
check provisioner-unpacked tar -xf provisioner-rootfs.tar -C /root/provisioner --wildcards '*opt/corezfs-provisioner/*'
PROV=(/root/provisioner/*opt/corezfs-provisioner/bin/corezfs)
"${PROV[0]}" provisioner run --parent tank/kube --node lab-node --kubeconfig /etc/kubernetes/admin.kubeconfig \
    --id lab-node --resync 5s --metrics-address 127.0.0.1:9808 -v >/var/log/corezfs-provisioner.log 2>&1 &
PROV_PID=$!
cat >claim.yaml <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: corezfs
provisioner: corezfs.io/zfs
reclaimPolicy: Delete
volumeBindingMode: Immediate
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: claim
  namespace: default
spec:
  storageClassName: corezfs
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 100Mi
EOF
t=$(now)
check claim-created kubectl apply -f claim.yaml
wait_for claim-bound 600 claim_bound
echo "TIME provisioner-claim-bound $(elapsed "$t")"
CLAIM_UID=$(kubectl get pvc claim -o 'jsonpath={.metadata.uid}')
CLAIM_SET=tank/kube/pvc-$CLAIM_UID
check_eq claim-refquota-refreservation "104857600 104857600" \
    "$(zfs get -H -p -o value refquota,refreservation "$CLAIM_SET" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
# shellcheck disable=SC2016  # the pod's shell expands these
pod_yaml claimer '
echo "written through the claim" >/data/hello.txt || exit 30
dd if=/dev/urandom of=/data/some bs=1M count=40 || exit 31
sync
if out=$(dd if=/dev/urandom of=/data/more bs=1M count=120 conv=fsync 2>&1); then echo "$out"; exit 32; fi
echo "past the quota: $out"
case $out in *"quota exceeded"*) ;; *) exit 33 ;; esac
echo "claimer done"' 'persistentVolumeClaim:
  claimName: claim' >claimer.yaml
t=$(now)
check claimer-created kubectl apply -f claimer.yaml
wait_for claimer-done 900 pod_done claimer
echo "TIME claimer-create-to-done $(elapsed "$t")"
check_eq claimer-succeeded Succeeded "$(pod_phase claimer)"
CLAIMER_UID=$(kubectl get pod claimer -o 'jsonpath={.metadata.uid}')
pod_log claimer "$CLAIMER_UID" | sed 's/^/PODLOG /'
pod_log claimer "$CLAIMER_UID" | grep -q 'Disk quota exceeded' &&
    ok claim-quota-in-pod || fail claim-quota-in-pod "no 'Disk quota exceeded' in the claimer's log"
check_eq claim-written "written through the claim" "$(cat "/tank/kube/pvc-$CLAIM_UID/hello.txt" 2>&1)"
check claimer-deleted kubectl delete pod claimer --wait=true --timeout=600s
check claim-deleted kubectl delete pvc claim --wait=false
wait_for claim-dataset-destroyed 600 sh -c "! zfs list '$CLAIM_SET'"
wait_for claim-pv-deleted 300 sh -c "! kubectl get pv 'pvc-$CLAIM_UID'"
kill "$PROV_PID" 2>/dev/null
wait "$PROV_PID" 2>/dev/null
grep -E 'INFO|WARN|ERROR|Exception' /var/log/corezfs-provisioner.log | tail -n 30 | sed 's/^/PROVLOG /'

((FAILED == 0)) || diagnose
systemctl stop kubelet containerd
finish
