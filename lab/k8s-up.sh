#!/usr/bin/env bash
# Starts a Kubernetes control plane on 127.0.0.1 only, from lab/k8s.sh's build: etcd (Debian's etcd-server),
# kube-apiserver and kube-controller-manager. Prints the admin kubeconfig's path on stdout.
#
# Every run starts a fresh cluster: new certificates, an empty etcd. State, logs and pid files live in
# $LAB_CACHE/run/k8s/ (instance 0; see k8s-lib.sh); lab/k8s-down.sh stops exactly these PIDs. No kubelet runs here: it would rewrite this host's
# kernel sysctls. It runs in a lab VM, reaching the apiserver through a forward to 127.0.0.1.
#
# Addresses: every listener is bound to 127.0.0.1; the apiserver advertises 127.0.0.1 and runs no endpoint reconciler
# (an Endpoints object may not hold a loopback address), so it has no reason to dial another address. Services get
# ClusterIPs from 192.0.2.0/24 (TEST-NET-1, RFC 5737, documentation only): no kube-proxy runs, so nothing on this host
# ever sends to them.
#
# Usage: [LAB_K8S_INSTANCE=N] lab/k8s-up.sh   (ports from versions.env: LAB_K8S_ETCD_PORT, LAB_K8S_ETCD_PEER_PORT,
#        LAB_K8S_API_PORT, LAB_K8S_CM_PORT; instance N > 0 adds 10*N to each)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root

K8S_BIN="$("$LAB_DIR/k8s.sh")/bin"
# shellcheck source=lab/k8s-lib.sh
source "$LAB_DIR/k8s-lib.sh"
lab_lock "$K8S_LOCK"

PKI=$STATE/pki
API=https://127.0.0.1:$LAB_K8S_API_PORT
ETCD=http://127.0.0.1:$LAB_K8S_ETCD_PORT
SERVICE_RANGE=192.0.2.0/24

if k8s_all_running; then
    log "the lab control plane already runs ($API)"
    printf '%s\n' "$STATE/admin.kubeconfig"
    exit 0
fi
k8s_any_running && die "part of the lab control plane still runs; run lab/k8s-down.sh first"

for port in "$LAB_K8S_ETCD_PORT" "$LAB_K8S_ETCD_PEER_PORT" "$LAB_K8S_API_PORT" "$LAB_K8S_CM_PORT"; do
    if ss -Hltn "sport = :$port" | grep -q .; then
        die "something already listens on port $port; pick other LAB_K8S_*_PORT values"
    fi
done

rm -rf "$STATE"
mkdir -p "$PKI" "$STATE/etcd" "$STATE/apiserver-certs" "$STATE/cm-certs"
chmod 700 "$STATE"

# --- Certificates: a throwaway CA, the apiserver's serving certificate, client certificates, service-account keys.
log "certificates under $PKI"
cd "$PKI"
ossl() { openssl "$@" 2>>"$PKI/openssl.log"; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj /CN=corezfs-lab-kubernetes-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
# leaf NAME SUBJECT EXTENDED-KEY-USAGE [SUBJECT-ALT-NAMES]
leaf() {
    ossl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
    {
        printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n'
        printf 'extendedKeyUsage=%s\n' "$3"
        [[ -z ${4:-} ]] || printf 'subjectAltName=%s\n' "$4"
    } >"$1.ext"
    ossl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile "$1.ext" -out "$1.crt"
    rm -f "$1.csr" "$1.ext"
}
# 10.0.2.100: the address a lab VM reaches a host port at (vm-run.sh --guestfwd), so a kubelet in the VM can verify it.
leaf apiserver /CN=kube-apiserver serverAuth \
    "IP:127.0.0.1,DNS:localhost,IP:192.0.2.1,DNS:kubernetes.default.svc,IP:10.0.2.100"
leaf admin "/O=system:masters/CN=corezfs-lab-admin" clientAuth
leaf controller-manager /CN=system:kube-controller-manager clientAuth
# The identity of the lab VM's kubelet (node name $LAB_K8S_NODE), as the Node authorizer expects it.
leaf kubelet "/O=system:nodes/CN=system:node:$LAB_K8S_NODE" clientAuth
ossl genrsa -out sa.key 2048
ossl rsa -in sa.key -pubout -out sa.pub
chmod 600 ./*.key
cd - >/dev/null

# kubeconfig NAME: a kubeconfig for the client certificate NAME.crt, by path (the files stay in $PKI).
kubeconfig() {
    cat >"$STATE/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: $API
    certificate-authority: $PKI/ca.crt
users:
- name: $1
  user:
    client-certificate: $PKI/$1.crt
    client-key: $PKI/$1.key
contexts:
- name: $1@lab
  context:
    cluster: lab
    user: $1
current-context: $1@lab
EOF
}
kubeconfig admin
kubeconfig controller-manager
kubeconfig kubelet

# start NAME CMD...: runs CMD in its own session, detached from this script (stdin /dev/null, the lock's descriptor
# closed), logging to $STATE/NAME.log; records its PID in $STATE/NAME.pid.
start() {
    local name=$1; shift
    setsid "$@" </dev/null >"$STATE/$name.log" 2>&1 {LAB_LOCK_FD}>&- &
    echo $! >"$STATE/$name.pid"
    log "started $name (pid $!, log $STATE/$name.log)"
}

# wait_for NAME SECONDS CMD...: until CMD succeeds; dies with NAME's log when NAME exits or time runs out.
wait_for() {
    local name=$1 secs=$2 pid; shift 2
    pid=$(<"$STATE/$name.pid")
    for ((i = 0; i < secs * 5; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$STATE/$name.log" >&2
            k8s_stop_all
            die "$name exited (log: $STATE/$name.log)"
        fi
        sleep 0.2
    done
    tail -n 30 "$STATE/$name.log" >&2
    k8s_stop_all
    die "$name did not become ready within $secs s (log: $STATE/$name.log)"
}

start etcd /usr/bin/etcd --name lab --data-dir "$STATE/etcd" \
    --listen-client-urls "$ETCD" --advertise-client-urls "$ETCD" \
    --listen-peer-urls "http://127.0.0.1:$LAB_K8S_ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$LAB_K8S_ETCD_PEER_PORT" \
    --initial-cluster "lab=http://127.0.0.1:$LAB_K8S_ETCD_PEER_PORT" --initial-cluster-state new --logger=zap
wait_for etcd 30 curl -fsS --max-time 2 "$ETCD/health"

start kube-apiserver "$K8S_BIN/kube-apiserver" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$LAB_K8S_API_PORT" --insecure-port=0 \
    --etcd-servers="$ETCD" --endpoint-reconciler-type=none \
    --service-cluster-ip-range="$SERVICE_RANGE" \
    --cert-dir="$STATE/apiserver-certs" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-account-issuer="$API" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --profiling=false
wait_for kube-apiserver 90 curl -fsS --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" \
    --key "$PKI/admin.key" "$API/readyz"

start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$STATE/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$STATE/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$LAB_K8S_CM_PORT" --port=0 --cert-dir="$STATE/cm-certs" \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --use-service-account-credentials=true \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --profiling=false
wait_for kube-controller-manager 60 curl -fsS --max-time 2 -k "https://127.0.0.1:$LAB_K8S_CM_PORT/healthz"

log "control plane up: $API (kubeconfig $STATE/admin.kubeconfig, kubectl $K8S_BIN/kubectl)"
printf '%s\n' "$STATE/admin.kubeconfig"
