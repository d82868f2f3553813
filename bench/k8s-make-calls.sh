#!/usr/bin/env bash
# Is one `make WHAT='cmd/a cmd/b cmd/c cmd/d'` faster than a make call per binary, for lab/k8s.sh's four binaries?
#
# Method: the tree lab/k8s.sh builds (same source, same reflect2 swap, same path, same Go cache), with the Go build
# cache warm from lab/k8s.sh's own build, so compiling costs the same either way and what is left is each call's
# fixed part (building the code generators, regenerating the generated files, listing packages) plus the links.
# Alternating order, BENCH_RUNS rounds (default 2) of: one call for all four; four calls, one per binary.
# Prints one line per measurement and the medians. Same priority as the build (nice -n 15, ionice idle).
#
# Needs: root, a finished `lab/k8s.sh` (its source download and warm $LAB_CACHE/k8s/gocache). Takes lab/k8s.sh's
# lock, so no build runs meanwhile; deletes the tree at the end.
set -euo pipefail
source "$(dirname "$0")/../lab/lib.sh"
need_root
lab_lock k8s

RUNS=${BENCH_RUNS:-2}
K8S_DIR=$LAB_CACHE/k8s
DSC=$K8S_DIR/source/kubernetes_${LAB_K8S_DEB_VERSION#*:}.dsc
WORK=$K8S_DIR/work
TREE=$WORK/kubernetes
BINS=(kube-apiserver kube-controller-manager kubelet kubectl)
[[ -f $DSC && -d $K8S_DIR/gocache ]] || die "run lab/k8s.sh first (it downloads the source and warms the Go cache)"
trap 'rm -rf "$WORK"' EXIT

# The tree exactly as lab/k8s.sh prepares it (its steps 2 to 4).
rm -rf "$WORK"
mkdir -p "$WORK"
dpkg-source -x "$DSC" "$TREE" >/dev/null 2>&1
rm -rf "$TREE/vendor/github.com/modern-go/reflect2"
mkdir -p "$TREE/vendor/github.com/modern-go/reflect2" "$TREE/_output/local/go"
cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.go /usr/share/gocode/src/github.com/modern-go/reflect2/*.s \
    "$TREE/vendor/github.com/modern-go/reflect2/"
ln -s "$K8S_DIR/gocache" "$TREE/_output/local/go/cache"

# kmake WHAT...: seconds of wall time of one make call.
kmake() {
    local t0 t1
    rm -rf "$TREE/_output/bin" "$TREE/_output/local/bin"
    t0=$(date +%s.%N)
    (cd "$TREE" && env -i PATH="/usr/lib/go/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME="$WORK/home" LANG=C.UTF-8 \
        CGO_ENABLED=0 GOPROXY=off GOFLAGS= nice -n 15 ionice -c3 make WHAT="$*") >"$WORK/make.log" 2>&1 ||
        { tail -n 20 "$WORK/make.log" >&2; die "make failed"; }
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc
}

one=() each=()
# A first call warms what the cache holds for this tree's generators, so round 1 is not special.
log "warm-up call"
kmake "${BINS[@]/#/cmd/}" >/dev/null
for ((r = 1; r <= RUNS; r++)); do
    for order in one each; do
        if [[ $order == one ]]; then
            s=$(kmake "${BINS[@]/#/cmd/}")
            one+=("$s")
            log "round $r: one call for all four: $s s"
        else
            total=0
            for b in "${BINS[@]}"; do
                s=$(kmake "cmd/$b")
                log "round $r:   make WHAT=cmd/$b: $s s"
                total=$(echo "$total + $s" | bc)
            done
            each+=("$total")
            log "round $r: four calls: $total s"
        fi
    done
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
printf 'one call (s): %s\nfour calls (s): %s\nmedian one: %s\nmedian four: %s\n' \
    "${one[*]}" "${each[*]}" "$(median "${one[@]}")" "$(median "${each[@]}")"
