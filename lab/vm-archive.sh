#!/usr/bin/env bash
# Makes the ZFS archive for the lab VM's node (lab/vm-image.sh: Flatcar $LAB_FLATCAR_VERSION, kernel $LAB_KV)
# with the tool this checkout built, the way an operator would: `corezfs build` against the lab's host root,
# the developer container from the lab mirror (lab/serve.sh), verified with the lab's throwaway key, and the
# pinned OpenZFS tarball. Prints the archive's path on stdout; logs go to stderr.
#
#   lab/vm-archive.sh                  build, or a no-op (well under a second) when the cached archive is current
#   lab/vm-archive.sh --force          build again even when it is current
#   lab/vm-archive.sh --target next    the archive for the next target instead (versions.env's LAB_NEXT_*: Flatcar
#                                      9999.1.0, its 6.12 kernel, OpenZFS 2.3.2), for the same VM image, which
#                                      carries both kernels; cached in $LAB_CACHE/vm/archive-next/ with its own stamp
#   --zfs-from source|mirror           source (default): --zfs-source with the target's pinned tarball. mirror: no
#                                      --zfs-source and no --zfs-version, only --zfs-mirror (the lab mirror serves
#                                      both pinned tarballs), so corezfs picks the release itself
#
# Needs: root and a running Docker engine (lab/docker.sh), the lab (lab/all.sh), and the packaged tool
# (mvn -DskipTests package: target/corezfs/bin/corezfs). A build compiles OpenZFS: 5-10 min on 2 cores.
#
# Cache: $LAB_CACHE/vm/archive/ holds the archive and .archive.stamp. The stamp's key covers what decides the
# archive's content: this script, the pinned values it uses (not all of versions.env: the VM's qemu settings live there
# too, and must not cost a recompile), the sha256 of the ZFS tarball and of the developer container,
# the tool's version, and the content of the jar entries that shape the archive (the build script, collection,
# packing, host facts, units, overlay). Classes of other packages (the CLI, install) are left out on purpose: changing
# the installer must not cost a 10-minute recompile. The jar is reproducible (project.build.outputTimestamp), and
# entries are hashed by content, so a repackage of the same sources keeps the key.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

FORCE=0 TARGET=current ZFS_FROM=source
while (($#)); do
    case $1 in
        --force) FORCE=1; shift ;;
        --target) TARGET=${2:?--target wants current or next}; shift 2 ;;
        --zfs-from) ZFS_FROM=${2:?--zfs-from wants source or mirror}; shift 2 ;;
        *) die "usage: $0 [--force] [--target current|next] [--zfs-from source|mirror]" ;;
    esac
done
[[ $TARGET == current || $TARGET == next ]] || die "--target wants current or next, got '$TARGET'"
[[ $ZFS_FROM == source || $ZFS_FROM == mirror ]] || die "--zfs-from wants source or mirror, got '$ZFS_FROM'"

# The node is the one VM image of the current target (lab/vm-image.sh), whichever target the archive is for.
VM_IMAGE_DIR=${LAB_VM_IMAGE_DIR:-$LAB_CACHE/vm/image/$LAB_FLATCAR_VERSION-$LAB_KV}
if [[ $TARGET == next && -z ${LAB_ARCHIVE_TARGET:-} ]]; then
    # lib.sh derives every path from the LAB_* values when it is sourced: run again with the next target's.
    mapfile -t next < <(lab_next_env)
    args=(--target next --zfs-from "$ZFS_FROM")
    ((FORCE)) && args+=(--force)
    exec env "${next[@]}" LAB_ARCHIVE_TARGET=next LAB_VM_IMAGE_DIR="$VM_IMAGE_DIR" bash "$0" "${args[@]}"
fi
SUFFIX=''
[[ $TARGET == next ]] && SUFFIX=-next

TOOL=$REPO_ROOT/target/corezfs/bin/corezfs
JAR=$REPO_ROOT/target/corezfs/lib/corezfs.jar
OUT_DIR=$LAB_CACHE/vm/archive$SUFFIX
STAMP=$OUT_DIR/.archive.stamp
BUILD_CACHE=$LAB_CACHE/vm/archive-build$SUFFIX     # --cache-dir: the downloaded container, logs, scratch

[[ -x $TOOL && -f $JAR ]] || die "no packaged tool at $TOOL (run: mvn -B -ntp -DskipTests package)"
[[ -f $LAB_ZFS_ORIG && -f $LAB_PUBKEY && -d $LAB_HOSTROOT && -d $LAB_MIRROR ]] ||
    die "the lab is not built under $LAB_CACHE (run: sudo lab/all.sh)"

# Content hash of the jar entries that shape the archive (name + bytes, sorted by name).
jar_key() {
    "$LAB_PYTHON" - "$JAR" <<'EOF'
import hashlib, sys, zipfile
# What shapes the archive's bytes: the in-container script, collection, packing, host facts, units, overlay.
# The engine, download and import classes (io/corezfs/docker, net, devcontainer, compile/BuildRun) do not, so
# changing them costs no recompile. Nor do the classes that decide where an archive is looked for and whether a build
# may run (archive/store: the locator, mirror index, node store; host/NodeConfig: the node's settings, none in the lab's
# host root): they never touch the bytes of the archive that is built.
prefixes = ("io/corezfs/compile/build-zfs.sh", "io/corezfs/compile/TreeCollector",
            "io/corezfs/compile/Builder", "io/corezfs/zfs/zfs-releases", "io/corezfs/archive/", "io/corezfs/host/",
            "io/corezfs/trust/Hashes", "io/corezfs/JsonMapping", "io/corezfs/units/", "io/corezfs/overlay/", "io/corezfs/version.properties")
excluded = ("io/corezfs/archive/store/", "io/corezfs/host/NodeConfig")
h = hashlib.sha256()
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in sorted(n for n in z.namelist()
                       if n.startswith(prefixes) and not n.startswith(excluded) and not n.endswith("/")):
        data = z.read(name)
        # Units that run the tool carry @LAUNCHER@: install writes them, the build leaves them out of every archive
        # (TreeCollector), so they do not shape it either.
        if name.startswith("io/corezfs/units/") and b"@LAUNCHER@" in data:
            continue
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
print(h.hexdigest())
EOF
}
# Creates an empty file in ROOT for every shared library of the VM image (lab/vm-image.sh), under the same path.
vm_libs() {
    local root=$1 dir
    for dir in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do
        mkdir -p "$root$dir"
        debugfs -R "ls -p $dir" "$VM_IMAGE" 2>/dev/null | awk -F/ '$6 ~ /\.so(\.|$)/ {print $6}' |
            while read -r lib; do : >"$root$dir/$lib"; done
    done
}
VM_IMAGE=$VM_IMAGE_DIR/root.img
[[ -f $VM_IMAGE ]] || die "no VM image at $VM_IMAGE (run: sudo lab/vm-image.sh)"
container_sha() { awk '/^# SHA512 HASH/ {getline; print $1; exit}' "$LAB_DEVCONTAINER_DIR/$LAB_DEVCONTAINER_NAME.DIGESTS"; }

KEY=$(input_key "$0" "$LAB_KV" "$LAB_FLATCAR_VERSION" "$LAB_FLATCAR_BOARD" \
    "$LAB_FLATCAR_CHANNEL" "$LAB_ZFS_SHA256" "zfs from $ZFS_FROM" "container $(container_sha)" "jar $(jar_key)" \
    "vm $(cat "$VM_IMAGE_DIR/.image.stamp" 2>/dev/null | head -n1)")

current() {
    local name
    name=$(sed -n '2s/^[0-9a-f]*  //p' "$STAMP" 2>/dev/null) || return 1
    [[ -n $name && -f $OUT_DIR/$name ]] && stamp_ok "$STAMP" "$KEY" && printf '%s\n' "$OUT_DIR/$name"
}
if ((FORCE == 0)) && current; then
    log "ZFS archive for the VM is current: $(current)"
    exit 0
fi

need_root
lab_lock vm-archive
docker info >/dev/null 2>&1 || die "no Docker engine answers (run: sudo lab/docker.sh)"

# The mirror: lab/serve.sh, stopped again afterwards if this script started it.
started_server=0
if [[ ! -f $LAB_RUN/http.pid ]]; then started_server=1; fi
"$LAB_DIR/serve.sh"
read -r _ port <"$LAB_RUN/http.pid"
cleanup() {
    if ((started_server)); then "$LAB_DIR/stop.sh" || true; fi
    rm -rf "$OUT_DIR.tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

rm -rf "$OUT_DIR.tmp"
# corezfs caches the developer container by OS version, as it may: a real release never changes. A lab container
# rebuilt under the same version (devcontainer.sh's key changed) would then fail its new signature, or an image
# imported from the old one would be reused. So the cache and the imported image go when the container changed.
seen=$BUILD_CACHE/.lab-container.sha512
if [[ ! -f $seen || $(cat "$seen") != "$(container_sha)" ]]; then
    log "the developer container of $LAB_FLATCAR_VERSION is new or changed: dropping corezfs's cached copy and imported image"
    rm -rf "$BUILD_CACHE/devcontainer/$LAB_FLATCAR_BOARD/$LAB_FLATCAR_VERSION"
    docker image rm -f "corezfs/devcontainer:flatcar-$LAB_FLATCAR_VERSION" >/dev/null 2>&1 || true
fi
mkdir -p "$OUT_DIR.tmp/store" "$BUILD_CACHE"
container_sha >"$seen"
log "building the ZFS archive ($TARGET target) for $LAB_FLATCAR_BOARD $LAB_FLATCAR_VERSION, kernel $LAB_KV (a full OpenZFS compile)"
# Made the way a node without an archive gets one (the issue's scenario 3, on the lab host against the VM's facts):
# `corezfs install` into a copy of the host root finds no archive anywhere, builds one through Docker into the
# store, then installs it. Its output is kept beside the archive as the record LiveInstallIT checks.
cp -a "$LAB_HOSTROOT" "$OUT_DIR.tmp/root"
# The host root has release files but no libraries, so the build would bundle every library ZFS needs, and on the
# node those copies would shadow its own for every program. The node is the VM image: its library names go into
# the root copy as empty files, which is all the build's "does the target have it" check looks at.
vm_libs "$OUT_DIR.tmp/root"
t0=$SECONDS
if [[ $ZFS_FROM == source ]]; then
    zfs_args=(--zfs-source "$LAB_ZFS_ORIG")
else
    zfs_args=(--zfs-mirror "http://127.0.0.1:$port")
fi
(cd "$OUT_DIR.tmp" && COREZFS_ARCHIVE_DIR="$OUT_DIR.tmp/store" heavy "$TOOL" install --root "$OUT_DIR.tmp/root" \
    --release-mirror "http://127.0.0.1:$port" --keyring "$LAB_PUBKEY" "${zfs_args[@]}" \
    --cache-dir "$BUILD_CACHE") >"$OUT_DIR.tmp/install.out" 2>"$OUT_DIR.tmp/install.err" ||
    { tail -n 30 "$OUT_DIR.tmp/install.err" >&2; die "corezfs install (with its build) failed"; }
archive=$(ls "$OUT_DIR.tmp/store"/corezfs_*.tar.gz)
[[ -f $archive ]] || die "corezfs install built no archive into the store"
[[ -x $OUT_DIR.tmp/root/opt/corezfs/usr/sbin/zpool ]] || die "corezfs install did not install into the root copy"
"$TOOL" -q archive verify "$archive" >/dev/null || die "the new archive does not verify: $archive"
{ echo "# corezfs install --root <copy of the lab host root>, no archive at hand, $(date -u +%FT%TZ), $((SECONDS - t0)) s"
  echo "## stdout"; cat "$OUT_DIR.tmp/install.out"; echo "## stderr"; cat "$OUT_DIR.tmp/install.err"; } >"$OUT_DIR.tmp/install.record"

# Swap in: the old archive and stamp go, the new ones come, the stamp last.
name=$(basename "$archive")
rm -f "$STAMP"
mkdir -p "$OUT_DIR"
find "$OUT_DIR" -maxdepth 1 -type f -name 'corezfs_*.tar.gz' -delete
mv -f "$archive" "$OUT_DIR/$name"
mv -f "$OUT_DIR.tmp/install.record" "$OUT_DIR/install.record"
stamp_write "$STAMP" "$KEY" "$name"
log "ZFS archive built in $((SECONDS - t0)) s: $OUT_DIR/$name ($(du -h "$OUT_DIR/$name" | cut -f1))"
printf '%s\n' "$OUT_DIR/$name"
