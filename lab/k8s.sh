#!/usr/bin/env bash
# Builds Kubernetes (kube-apiserver, kube-controller-manager, kubelet, kubectl) from Debian's own source package,
# offline, with Debian's Go, into $LAB_CACHE/k8s/<version>-<key>/bin/, and prints that directory on stdout.
#
# Why each step:
#   - `apt-get source` of the pinned version, checked against the pinned sha256 of its .dsc; dpkg-source -x checks the
#     tarballs against the .dsc and applies Debian's patches (a CVE fix among them). The orig tarball has a complete
#     vendor/, so the build needs no network (GOPROXY=off holds it to that).
#   - The vendored github.com/modern-go/reflect2 is 1.0.1, which reads Go's runtime map internals by their pre-1.18
#     layout: under Go >= 1.18 the apiserver crashes on any YAML or pretty-printed response. Debian's
#     golang-github-modern-go-reflect2-dev (1.0.2) knows both layouts and replaces it, sources only (vendor/modules.txt
#     keeps naming 1.0.1, which only has to agree with go.mod).
#   - One `make WHAT='cmd/a cmd/b ...'`: each make call first regenerates the generated files and lists the packages,
#     a fixed cost a call per binary would pay again (README: "Kubernetes").
#   - CGO_ENABLED=0, as Debian's own package builds it: static binaries that also run in the lab VM.
#   - nice -n 15: the machine's two cores are shared with the lab's VMs.
#
# Cached by a stamp keyed by every input: the package version and .dsc sha256, `go version`, the reflect2 package's
# version and this script. The Go build cache ($LAB_CACHE/k8s/gocache) outlives a build, so a rebuild after a recipe
# change recompiles only what changed; it is content-addressed, so it cannot make a stale binary.
#
# Usage: lab/k8s.sh      (root: it installs golang-go, rsync and the reflect2 sources when they are missing)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root
ensure_host >&2
lab_lock k8s

# Why each package: golang-go (Debian's Go 1.19, the compiler), rsync (kube's make copies with it),
# golang-github-modern-go-reflect2-dev (the fixed reflect2), time (/usr/bin/time -v: wall time and peak RSS of the
# build, kept beside the binaries), etcd-server and openssl (k8s-up.sh: the control plane's store and its certificates).
PACKAGES=(golang-go rsync golang-github-modern-go-reflect2-dev time etcd-server openssl)
installed() { [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]; }
missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
if ((${#missing[@]})); then
    log "installing: ${missing[*]}"
    # etcd-server's maintainer scripts would start an etcd on the default ports: policy-rc.d forbids it.
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    DEBIAN_FRONTEND=noninteractive heavy apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

GO=/usr/lib/go/bin/go
REFLECT2_SRC=/usr/share/gocode/src/github.com/modern-go/reflect2
go_version=$("$GO" version)
reflect2_version=$(dpkg-query -W -f='${Version}' golang-github-modern-go-reflect2-dev)
[[ -f $REFLECT2_SRC/go_above_118.go ]] || die "$REFLECT2_SRC lacks go_above_118.go: not the reflect2 that runs on Go >= 1.18"

K8S_DIR=$LAB_CACHE/k8s
SRC_DIR=$K8S_DIR/source
DSC=$SRC_DIR/kubernetes_${LAB_K8S_DEB_VERSION#*:}.dsc
BINS=(kube-apiserver kube-controller-manager kubelet kubectl)
key=$(input_key "$LAB_K8S_DEB_VERSION" "$LAB_K8S_DSC_SHA256" "$go_version" "reflect2 $reflect2_version" \
                "${BINS[*]}" "$LAB_DIR/k8s.sh")
OUT=$K8S_DIR/$LAB_K8S_VERSION-$key
STAMP=$OUT/.build.stamp

if stamp_ok "$STAMP" "$key"; then
    log "kubernetes $LAB_K8S_VERSION up to date: $OUT"
    printf '%s\n' "$OUT"
    exit 0
fi

# 1. The source package, pinned.
have_dsc() { [[ -f $DSC ]] && sha256sum -c --quiet --status - <<<"$LAB_K8S_DSC_SHA256  $DSC"; }
if ! have_dsc; then
    mkdir -p "$SRC_DIR"
    rm -f "$SRC_DIR"/kubernetes_*
    log "apt-get source --download-only kubernetes=$LAB_K8S_DEB_VERSION"
    chown _apt "$SRC_DIR" 2>/dev/null || true
    (cd "$SRC_DIR" && heavy apt-get -qq source --download-only "kubernetes=$LAB_K8S_DEB_VERSION" >&2)
    chown root "$SRC_DIR" 2>/dev/null || true
    have_dsc || die "$(basename "$DSC") is missing or its sha256 is not the pinned $LAB_K8S_DSC_SHA256"
fi

# 2. A fresh tree at a fixed path: the build cache keys on -trimpath=<tree>, so a fixed path lets a rebuild reuse it.
WORK=$K8S_DIR/work
TREE=$WORK/kubernetes
rm -rf "$WORK"
mkdir -p "$WORK"
log "dpkg-source -x $(basename "$DSC")"
heavy dpkg-source -x "$DSC" "$TREE" >"$WORK/dpkg-source.log" 2>&1 ||
    { cat "$WORK/dpkg-source.log" >&2; die "dpkg-source -x failed"; }
[[ -d $TREE/vendor/github.com/modern-go/reflect2 ]] || die "no vendored reflect2 in the source: has the package changed?"
grep -q '^# github.com/modern-go/reflect2 v1.0.1' "$TREE/vendor/modules.txt" ||
    die "the vendored reflect2 is no longer 1.0.1: check whether the replacement is still needed"

# 3. reflect2 1.0.2 in place of 1.0.1.
log "replacing vendored reflect2 1.0.1 with Debian's $reflect2_version"
rm -rf "$TREE/vendor/github.com/modern-go/reflect2"
mkdir -p "$TREE/vendor/github.com/modern-go/reflect2"
cp "$REFLECT2_SRC"/*.go "$REFLECT2_SRC"/*.s "$TREE/vendor/github.com/modern-go/reflect2/"
cp /usr/share/doc/golang-github-modern-go-reflect2-dev/copyright "$TREE/vendor/github.com/modern-go/reflect2/COPYRIGHT.debian"

# 4. The build. The Go cache lives outside the tree (kube's make puts it at _output/local/go/cache).
mkdir -p "$K8S_DIR/gocache" "$TREE/_output/local/go"
ln -s "$K8S_DIR/gocache" "$TREE/_output/local/go/cache"
log "make WHAT='${BINS[*]/#/cmd/}' (Go: $go_version; about 10-15 min cold on 2 cores, log: $WORK/build.log)"
(
    cd "$TREE"
    env -i PATH="/usr/lib/go/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME="$WORK/home" LANG=C.UTF-8 \
        CGO_ENABLED=0 GOPROXY=off GOFLAGS= GOTOOLCHAIN=local \
        /usr/bin/time -v -o "$WORK/build-time.txt" \
        nice -n 15 ionice -c3 make WHAT="${BINS[*]/#/cmd/}"
) >"$WORK/build.log" 2>&1 || { tail -n 40 "$WORK/build.log" >&2; die "kubernetes build failed (log: $WORK/build.log)"; }

# 5. Output: the binaries, their sizes and versions, the build's time and peak memory.
rm -rf "$OUT"
mkdir -p "$OUT/bin"
for b in "${BINS[@]}"; do
    install -m 755 "$TREE/_output/bin/$b" "$OUT/bin/$b"
done
cp "$WORK/build-time.txt" "$OUT/build-time.txt"
{
    printf 'go: %s\nreflect2: %s\nsource: kubernetes %s\n' "$go_version" "$reflect2_version" "$LAB_K8S_DEB_VERSION"
    (cd "$OUT/bin" && stat -c '%s bytes  %n' "${BINS[@]}")
    "$OUT/bin/kubectl" version --client --short 2>/dev/null || "$OUT/bin/kubectl" version --client
} >"$OUT/build-info.txt"
stamp_write "$STAMP" "$key" "${BINS[@]/#/bin/}"
log "built kubernetes $LAB_K8S_VERSION into $OUT ($(grep -E 'Elapsed|Maximum resident' "$OUT/build-time.txt" | tr -s ' \t' ' ' | paste -sd';'))"
# The tree is ~1.5 GB and only this build needs it; the Go cache stays.
rm -rf "$WORK"
# Older builds of this version (another key) are not used any more.
for old in "$K8S_DIR/$LAB_K8S_VERSION"-*; do
    [[ $old != "$OUT" && -d $old ]] && rm -rf "$old"
done
printf '%s\n' "$OUT"
