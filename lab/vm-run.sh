#!/usr/bin/env bash
# Boots a throwaway Flatcar-like VM (lab/vm-image.sh) under qemu TCG, runs a test script in it and
# returns that script's exit code.
#
#   lab/vm-run.sh start    NAME [--kernel KV] [--inject DIR] [--run SCRIPT] [--timeout SEC] [--append ARGS]
#   lab/vm-run.sh continue NAME [--kernel KV] [--inject DIR] [--run SCRIPT] [--timeout SEC] [--append ARGS]
#                    (start and continue also take --guestfwd PORT, --hostfwd PORT, --fw-cfg FILE, --initrd FILE)
#   lab/vm-run.sh shell    NAME [--kernel KV] [--append ARGS]
#   lab/vm-run.sh rm       NAME
#   lab/vm-run.sh prepare  NAME
#
# start     makes a fresh run NAME (an earlier run of that name is deleted) and boots it once;
# continue  boots the SAME disks of run NAME again: whatever the previous boots wrote (files, a ZFS
#           pool on /dev/vdb, /root/inject) is still there, as after a reboot of a real node;
# shell     boots run NAME (made fresh if it does not exist) interactively: serial console on this
#           terminal, root logged in automatically, no test unit. Ctrl-a x quits qemu;
# rm        deletes run NAME;
# prepare   makes a fresh run NAME and does not boot it (lab/vm-ignition-initrd.sh --run NAME then swaps its base).
#
# --guestfwd PORT gives the guest one NIC on qemu's user network with restrict=on, whose only way out is
# 10.0.2.100:8080, forwarded (lab/guestfwd-relay.py, once per connection) to 127.0.0.1:PORT on the host: the guest
# reaches that one loopback server, nothing else.
# --hostfwd PORT forwards 127.0.0.1:PORT on the host to the guest's port 22 (the sshd of lab/vm-sshd.sh's image), on
# the same kind of NIC: restrict=on, so the guest still reaches nothing outside; the two options may be combined.
#
# --kernel KV boots kernel KV (uname -r) of the image: it carries two (lab/vm-image.sh), the lab's LAB_KV (the
# default) and the next target's, with both module trees in /usr, as a Flatcar node has the running and the updated
# OS on its two /usr partitions. A `continue` may boot the other kernel than the boot before: that is an OS update
# (or a rollback) as the node sees it.
#
# The protocol (host side here, guest side /usr/local/sbin/lab-test in the image):
#   --inject DIR   DIR's content is put on a small ext4 disk labelled LABINJECT (mkfs.ext4 -d, no mount,
#                  no root needed) attached as the last virtio disk. At boot, lab-test.service replaces
#                  the guest's /root/inject with it. Without --inject, /root/inject stays as the previous
#                  boot left it, so `continue` without --inject runs the same run.sh again.
#   --run SCRIPT   SCRIPT becomes /root/inject/run.sh (with --inject DIR: added to DIR's content).
#   In the guest, after multi-user.target: "LAB-BEGIN: boot=N" on /dev/ttyS0, then /root/inject/run.sh
#   runs as root in /root/inject with LAB_BOOT=N (N = test boots of this disk, 1 on the first), output to
#   /dev/ttyS0; then sync, "LAB-RESULT: rc=<exit code>", and the VM powers off.
#   Here: the serial console goes to $RUN/boot-K.console.log (K counts every boot of the run, shells
#   too); the lines between the two markers go to $RUN/boot-K.out and to stdout; the exit code of
#   this script is run.sh's. Logs of this script go to stderr.
# Exit codes: run.sh's rc; 124 no LAB-RESULT within --timeout (qemu is killed, by its PID);
#             125 qemu ended without LAB-RESULT (kernel panic, run.sh powered off or rebooted itself);
#             2 usage; 1 any other error.
#
# Disks of a run ($LAB_CACHE/vm/runs/NAME/):
#   /dev/vda  disk.qcow2, a qcow2 overlay whose backing file is base.raw, a hard link of the cached
#             read-only root.img. The cache stays pristine; a rebuilt image (new inode) does not change
#             the base under an existing run, so `continue` always sees the disk it started with.
#             (A sparse copy instead where a link is refused: another filesystem, or a non-root user
#             and fs.protected_hardlinks.)
#   /dev/vdb  pool.img, a sparse copy of the empty pool disk (LAB_VM_POOL_MIB), for a ZFS pool.
#   /dev/vdc  inject.img, only on a boot with --inject/--run; deleted after the boot.
# Why an inject disk and not writing into the overlay: qemu-nbd needs the nbd kernel module and this
# machine's kernel cannot load modules (LAB.md); loop-mounting a raw per-run copy would work but needs
# root and a 300 MB copy per run. An extra disk needs neither, and the overlay costs nothing.
#
# No network: -nodefaults gives the VM no NIC at all (qemu's default NIC would be user-mode networking
# with outbound access). Caches: cache=unsafe on the run's disks, they are throwaway, and host fsyncs
# under `ionice -c3` would crawl while others use the disk; a guest `sync` still reaches the host's page
# cache, which is all a later boot needs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

usage() { sed -n '5,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
(($# >= 2)) || usage
CMD=$1 NAME=$2
shift 2
[[ $NAME =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || die "bad run name '$NAME' (letters, digits, . _ -)"
case $CMD in start|continue|shell|rm|prepare) ;; *) usage ;; esac

INJECT_DIR='' RUN_SCRIPT='' TIMEOUT=$LAB_VM_TIMEOUT EXTRA_APPEND='' KERNEL=$LAB_KV GUESTFWD='' HOSTFWD='' FW_CFG='' INITRD_FILE=
while (($#)); do
    case $1 in
        --kernel) KERNEL=${2:?}; shift 2 ;;
        --inject) INJECT_DIR=${2:?}; shift 2 ;;
        --run) RUN_SCRIPT=${2:?}; shift 2 ;;
        --timeout) TIMEOUT=${2:?}; shift 2 ;;
        --append) EXTRA_APPEND=${2:?}; shift 2 ;;
        --guestfwd) GUESTFWD=${2:?}; shift 2 ;;
        --hostfwd) HOSTFWD=${2:?}; shift 2 ;;
        --fw-cfg) FW_CFG=${2:?}; shift 2 ;;
        --initrd) INITRD_FILE=${2:?}; shift 2 ;;
        *) usage ;;
    esac
done
[[ -z $GUESTFWD || $GUESTFWD =~ ^[1-9][0-9]{0,4}$ ]] || die "--guestfwd wants a port on 127.0.0.1, got '$GUESTFWD'"
[[ -z $HOSTFWD || $HOSTFWD =~ ^[1-9][0-9]{0,4}$ ]] || die "--hostfwd wants a port on 127.0.0.1, got '$HOSTFWD'"
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "--timeout wants seconds, got '$TIMEOUT'"
[[ $KERNEL =~ ^[A-Za-z0-9][A-Za-z0-9.+_-]*$ ]] || die "--kernel wants a kernel release (uname -r), got '$KERNEL'"
[[ -z $INJECT_DIR || -d $INJECT_DIR ]] || die "--inject $INJECT_DIR: not a directory"
[[ -z $RUN_SCRIPT || -f $RUN_SCRIPT ]] || die "--run $RUN_SCRIPT: not a file"
if [[ $CMD == shell && ( -n $INJECT_DIR || -n $RUN_SCRIPT ) ]]; then die "shell takes no --inject/--run"; fi

VM_IMAGE_DIR=$LAB_CACHE/vm/image/$LAB_FLATCAR_VERSION-$LAB_KV     # as in vm-image.sh
RUNS=$LAB_CACHE/vm/runs
RUN=$RUNS/$NAME
# One boot of a run at a time: two qemus writing the same overlay would corrupt it.
lab_lock "vm-run-$NAME"

if [[ $CMD == rm ]]; then
    rm -rf --one-file-system "$RUN"
    log "run $NAME removed"
    exit 0
fi

# ---------------------------------------------------------------------------------------------------
# The run's disks. Made by `start` (always fresh) and by `shell` on a run that does not exist yet.
new_run() {
    "$LAB_DIR/vm-image.sh"     # a no-op in milliseconds when the image is current; builds it otherwise
    rm -rf --one-file-system "$RUN"
    mkdir -p "$RUN"
    # Every kernel of the image, pinned like the base, so a later `continue --kernel` finds the one it asks for.
    local f
    for f in "$VM_IMAGE_DIR"/vmlinuz-* "$VM_IMAGE_DIR"/initrd.img-*; do
        [[ -f $f ]] || continue
        ln "$f" "$RUN/${f##*/}" 2>/dev/null || cp "$f" "$RUN/${f##*/}"
    done
    # Hard link: free, and pins this run's base (see above). Where a link is refused (another
    # filesystem; fs.protected_hardlinks for a non-root user), a sparse copy pins it as well.
    ln "$VM_IMAGE_DIR/root.img" "$RUN/base.raw" 2>/dev/null ||
        heavy cp --reflink=auto --sparse=always "$VM_IMAGE_DIR/root.img" "$RUN/base.raw"
    # Relative backing path (qemu resolves it beside the overlay), so the run directory can be moved.
    (cd "$RUN" && qemu-img create -q -f qcow2 -b base.raw -F raw disk.qcow2)
    cp --sparse=always "$VM_IMAGE_DIR/pool.img" "$RUN/pool.img"
    chmod 0644 "$RUN/pool.img"
    printf 'image %s\ncreated %s\n' "$VM_IMAGE_DIR" "$(date -Is)" >"$RUN/run.txt"
    log "new run $NAME: $RUN"
}

case $CMD in
    start) new_run ;;
    prepare) new_run; exit 0 ;;
    continue) [[ -f $RUN/disk.qcow2 ]] || die "no run '$NAME' to continue ($RUN); use start" ;;
    shell) [[ -f $RUN/disk.qcow2 ]] || new_run ;;
esac
# The kernel to boot. A run made before the image had two kernels has plain vmlinuz/initrd.img, of LAB_KV.
if [[ -f $RUN/vmlinuz-$KERNEL && -f $RUN/initrd.img-$KERNEL ]]; then
    VMLINUZ=$RUN/vmlinuz-$KERNEL INITRD=$RUN/initrd.img-$KERNEL
elif [[ $KERNEL == "$LAB_KV" && -f $RUN/vmlinuz && -f $RUN/initrd.img ]]; then
    VMLINUZ=$RUN/vmlinuz INITRD=$RUN/initrd.img
else
    die "run $NAME has no kernel $KERNEL (it has: $(cd "$RUN" && ls vmlinuz-* 2>/dev/null | sed 's/^vmlinuz-//' | tr '\n' ' '))"
fi
# --initrd FILE: another initrd for this boot (the Ignition probe's dracut initrd), the run's kernel unchanged.
if [[ -n $INITRD_FILE ]]; then [[ -f $INITRD_FILE ]] || die "--initrd $INITRD_FILE: no such file"; INITRD=$INITRD_FILE; fi
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v qemu-img >/dev/null; then
    die "qemu is missing: run lab/vm-image.sh as root once (it installs qemu-utils)"
fi

# Boot number on the host side: every boot of this run, shells included (file names only).
BOOT=1
while [[ -e $RUN/boot-$BOOT.console.log ]]; do BOOT=$((BOOT + 1)); done
CONSOLE=$RUN/boot-$BOOT.console.log
OUT=$RUN/boot-$BOOT.out

# ---------------------------------------------------------------------------------------------------
# The inject disk: ext4 made from a directory with mkfs.ext4 -d. No journal (the guest mounts it
# read-only); room for the content, its inodes and ext4's metadata.
INJECT_IMG=''
if [[ -n $INJECT_DIR || -n $RUN_SCRIPT ]]; then
    src=$INJECT_DIR
    if [[ -n $RUN_SCRIPT ]]; then
        src=$RUN/inject.d
        rm -rf "$src" && mkdir -p "$src"
        if [[ -n $INJECT_DIR ]]; then cp -a --reflink=auto "$INJECT_DIR/." "$src/"; fi
        cp "$RUN_SCRIPT" "$src/run.sh"
        chmod 0755 "$src/run.sh"
    fi
    kib=$(du -sk "$src" | cut -f1)
    files=$(find "$src" | wc -l)
    INJECT_IMG=$RUN/inject.img
    rm -f "$INJECT_IMG"
    truncate -s "$(( kib * 5 / 4 + files * 4 + 8192 ))K" "$INJECT_IMG"
    heavy mkfs.ext4 -q -F -L LABINJECT -O ^has_journal -m 0 -N $((files + 64)) -E nodiscard -d "$src" \
        "$INJECT_IMG" || die "mkfs.ext4 -d of the inject directory failed"
    rm -rf "$RUN/inject.d"
    log "inject disk: $(( kib / 1024 )) MiB in $files files from ${INJECT_DIR:-$RUN_SCRIPT}"
fi

# ---------------------------------------------------------------------------------------------------
APPEND="root=/dev/vda rw console=ttyS0 quiet panic=-1 systemd.firstboot=off"
if [[ $CMD != shell ]]; then
    # Test boots: start the test unit, and keep a login prompt from being written into its output.
    APPEND+=" systemd.wants=lab-test.service systemd.mask=serial-getty@ttyS0.service"
fi
[[ -z $EXTRA_APPEND ]] || APPEND+=" $EXTRA_APPEND"

# -cpu LAB_VM_CPU (qemu64,-svm,-cx16; versions.env says why): without -svm the default model advertises AMD-V, so udev
# in the guest would try kvm_amd, which can't work under TCG and only adds noise (a libkmod error in lsmod's output);
# without -cx16 the 6.12 kernel crashes at boot under TCG. virtio-rng: the guest's entropy
# from the host's, so nothing at boot waits for a random seed under a slow CPU. No NIC (-nodefaults).
# shellcheck disable=SC2054  # the commas are qemu option syntax, not array separators
QEMU=(qemu-system-x86_64 -name "corezfs-lab-$NAME" -accel "$LAB_VM_ACCEL" -m "$LAB_VM_MEM_MIB" -smp "$LAB_VM_SMP"
      -cpu "$LAB_VM_CPU" -nodefaults -nographic -no-reboot -device virtio-rng-pci
      -kernel "$VMLINUZ" -initrd "$INITRD" -append "$APPEND"
      -drive "file=$RUN/disk.qcow2,if=virtio,format=qcow2,cache=unsafe"
      -drive "file=$RUN/pool.img,if=virtio,format=raw,cache=unsafe")
[[ -z $INJECT_IMG ]] || QEMU+=(-drive "file=$INJECT_IMG,if=virtio,format=raw,readonly=on")
# --fw-cfg FILE: an Ignition config where Ignition's qemu platform reads it (opt/com.coreos/config).
[[ -z $FW_CFG ]] || QEMU+=(-fw_cfg "name=opt/com.coreos/config,file=$FW_CFG")
if [[ -n $GUESTFWD || -n $HOSTFWD ]]; then
    # restrict=on: the guest can reach nothing but what guestfwd names, and that is one port on the host's loopback.
    # Each guest connection runs the relay (cmd:), which connects to 127.0.0.1:PORT only. hostfwd listens on the
    # host's loopback only and leads to the guest's sshd.
    NETDEV="user,id=n0,restrict=on"
    [[ -z $GUESTFWD ]] || NETDEV+=",guestfwd=tcp:10.0.2.100:8080-cmd:$LAB_PYTHON $LAB_DIR/guestfwd-relay.py $GUESTFWD"
    [[ -z $HOSTFWD ]] || NETDEV+=",hostfwd=tcp:127.0.0.1:$HOSTFWD-:22"
    # shellcheck disable=SC2054  # the commas are qemu option syntax
    QEMU+=(-netdev "$NETDEV" -device virtio-net-pci,netdev=n0)
fi

if [[ $CMD == shell ]]; then
    # The console on this terminal, and a copy in the log; Ctrl-a x (qemu's mux) quits.
    QEMU+=(-chardev "stdio,id=con,mux=on,signal=off,logfile=$CONSOLE" -serial chardev:con -mon chardev=con)
    log "boot $BOOT of $NAME (shell; Ctrl-a x quits; console copy in $CONSOLE)"
    rc=0
    heavy "${QEMU[@]}" || rc=$?
    rm -f "$RUN/inject.img"
    exit "$rc"
fi

QEMU+=(-serial "file:$CONSOLE")
QEMU_PID=''
# Our qemu only, by its PID: on any exit of this script it must not outlive it.
stop_qemu() {
    [[ -n $QEMU_PID ]] && kill -0 "$QEMU_PID" 2>/dev/null || return 0
    kill -TERM "$QEMU_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do kill -0 "$QEMU_PID" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$QEMU_PID" 2>/dev/null || true
}
cleanup() { stop_qemu; rm -f "$RUN/inject.img" "$RUN/qemu.pid"; }
trap cleanup EXIT
trap 'log "interrupted: stopping qemu"; exit 130' INT TERM HUP

# The console as text: CRs of the tty's line discipline and terminal escape sequences (firmware, kernel)
# removed, so the markers can be matched at the start of a line.
console_text() { LC_ALL=C sed -E 's/\x1b(\[[0-9;?]*[A-Za-z]|c)//g; s/\r//g' "$CONSOLE" 2>/dev/null || true; }
marker() { console_text | grep -aE '^LAB-RESULT: rc=[0-9]+$' | tail -n1 | sed 's/.*rc=//' || true; }
now() { printf '%s\n' "$EPOCHREALTIME"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

log "boot $BOOT of $NAME, kernel $KERNEL (timeout ${TIMEOUT} s; console: $CONSOLE)"
: >"$CONSOLE"
t0=$(now)
# nice + ionice exec qemu, so $! is qemu's own PID. Not via lib.sh's `heavy`: a shell function run in
# the background is a forked subshell, $! would be that subshell, and killing it would orphan qemu.
nice -n 19 ionice -c3 "${QEMU[@]}" </dev/null >"$RUN/boot-$BOOT.qemu.log" 2>&1 &
QEMU_PID=$!
echo "$QEMU_PID" >"$RUN/qemu.pid"

# Wait for the marker, then for the guest's poweroff (it syncs and unmounts; a few seconds). Bash reaps
# its exited child, so `kill -0` turns false when qemu is gone.
deadline=$((SECONDS + TIMEOUT)) rc='' t_marker='' timed_out=0
while kill -0 "$QEMU_PID" 2>/dev/null; do
    if [[ -z $rc ]]; then
        rc=$(marker)
        if [[ -n $rc ]]; then
            t_marker=$(now)
            # The result is on the console and run.sh synced; give poweroff a minute at most.
            if ((SECONDS + 60 < deadline)); then deadline=$((SECONDS + 60)); fi
        fi
    fi
    if ((SECONDS >= deadline)); then
        [[ -n $rc ]] || timed_out=1
        log "killing qemu (PID $QEMU_PID): $([[ -n $rc ]] && echo 'no poweroff after LAB-RESULT' || echo "no LAB-RESULT after $TIMEOUT s")"
        stop_qemu
        break
    fi
    sleep 0.2
done
qemu_rc=0
wait "$QEMU_PID" 2>/dev/null || qemu_rc=$?
QEMU_PID=''
t_end=$(now)
[[ -n $rc ]] || rc=$(marker)    # the marker may have arrived between the last check and the exit
[[ -n $t_marker || -z $rc ]] || t_marker=$t_end

# The test's own output: the lines between the markers, console line endings stripped.
# (A boot that ended without LAB-RESULT, e.g. a test that cut the power, keeps everything up to its end.)
console_text | sed -n '/^LAB-BEGIN: boot=/,/^LAB-RESULT: rc=/p' | sed '1d;/^LAB-RESULT: rc=[0-9]*$/d' >"$OUT" || true
cat "$OUT"

if [[ -n $rc ]]; then
    echo "$rc" >"$RUN/boot-$BOOT.rc"
    log "boot $BOOT of $NAME: LAB-RESULT rc=$rc after $(secs "$t0" "$t_marker") s, qemu gone after $(secs "$t0" "$t_end") s"
    exit "$rc"
fi
console_text | tail -n 30 >&2
if ((timed_out)); then
    echo 124 >"$RUN/boot-$BOOT.rc"
    log "boot $BOOT of $NAME: TIMEOUT, no LAB-RESULT within $TIMEOUT s (console: $CONSOLE)"
    exit 124
fi
echo 125 >"$RUN/boot-$BOOT.rc"
log "boot $BOOT of $NAME: qemu exited ($qemu_rc) without LAB-RESULT after $(secs "$t0" "$t_end") s (console: $CONSOLE, qemu: $RUN/boot-$BOOT.qemu.log)"
exit 125
