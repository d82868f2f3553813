#!/usr/bin/env bash
# Applies an Ignition config to a lab VM run with the real Ignition, the way a first boot would, before that run is
# booted (issue 15's fallback route; see lab/README.md for why not in the VM's initrd):
#
#   lab/vm-ignition.sh NAME CONFIG [LOG]
#
# NAME is a run made by `lab/vm-run.sh prepare NAME` and not booted yet. Its base image is replaced by a private copy
# (the cached image stays pristine), loop-mounted, and Debian's Ignition 2.14 (the binary its dracut module runs) runs
# its `fetch` and `files` stages on it with `-platform file -root MNT`: it downloads every file the config names,
# checks each against its verification.hash, writes the files and units and its preset file. What a Flatcar first
# boot does next, enabling what the preset file names, is done with `systemctl --root MNT preset` for those units.
# Ignition's log goes to LOG (default: the run's ignition.log). The exit code is Ignition's: a refused download
# (hash mismatch) is non-zero, and then no preset is applied, as a node whose Ignition failed does not boot on.
#
# Debian builds Ignition to relabel for SELinux after the files stage: it reads /etc/selinux/config and runs setfiles.
# The image has neither, so a config with SELinux disabled is put in the root for the run and removed after, and
# setfiles is a stub on Ignition's PATH that does nothing: labels are no part of what the lab tests.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

(($# >= 2)) || { sed -n '5p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
NAME=$1 CONFIG=$2
[[ $NAME =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || die "bad run name '$NAME'"
[[ -f $CONFIG ]] || die "no config $CONFIG"
need_root
IGNITION=/usr/lib/dracut/modules.d/30ignition/ignition
[[ -x $IGNITION ]] || die "$IGNITION is missing: run lab/setup-host.sh (package ignition, contrib)"
RUN=$LAB_CACHE/vm/runs/$NAME
LOG=${3:-$RUN/ignition.log}
[[ -f $RUN/disk.qcow2 && -f $RUN/base.raw ]] || die "no run $NAME; make it with lab/vm-run.sh prepare $NAME"
compgen -G "$RUN/boot-*.console.log" >/dev/null && die "run $NAME was booted already; Ignition runs before the first boot"
lab_lock "vm-run-$NAME"

# A private, writable base: the qcow2 overlay is still empty, so changing the base under it is safe.
if [[ $(stat -c %h "$RUN/base.raw") -gt 1 ]]; then
    heavy cp --sparse=always "$RUN/base.raw" "$RUN/base.raw.new"
    mv -f "$RUN/base.raw.new" "$RUN/base.raw"
fi
WORK=$(mktemp -d "$RUN/ignition.XXXXXX")
MNT=$WORK/root
# shellcheck disable=SC2034  # lib.sh's mount_in_root and umount_all keep the mounts here
MOUNTS=()
cleanup() { umount_all; rm -rf --one-file-system "$WORK"; }
trap cleanup EXIT
mount_in_root "$MNT" -o loop "$RUN/base.raw"

added_selinux=0
if [[ ! -e $MNT/etc/selinux/config ]]; then
    mkdir -p "$MNT/etc/selinux"
    printf 'SELINUX=disabled\nSELINUXTYPE=targeted\n' >"$MNT/etc/selinux/config"
    added_selinux=1
fi
mkdir -p "$WORK/bin"
printf '#!/bin/sh\ncat >/dev/null\n' >"$WORK/bin/setfiles"
chmod 0755 "$WORK/bin/setfiles"

rc=0
for stage in fetch files; do
    log "ignition -stage $stage on run $NAME"
    env -i PATH="$WORK/bin:/usr/sbin:/usr/bin:/sbin:/bin" IGNITION_CONFIG_FILE="$(realpath "$CONFIG")" \
        "$IGNITION" -platform file -stage "$stage" -root "$MNT" -log-to-stdout \
        -config-cache "$WORK/config.json" -state-file "$WORK/state" -neednet "$WORK/neednet" \
        >>"$LOG" 2>&1 || { rc=$?; break; }
done
if ((added_selinux)); then rm -f "$MNT/etc/selinux/config"; rmdir "$MNT/etc/selinux" 2>/dev/null || true; fi
if ((rc != 0)); then
    grep -a 'CRITICAL' "$LOG" | tail -n 3 >&2 || true
    log "Ignition failed (exit $rc) on run $NAME; its log: $LOG"
    exit "$rc"
fi

# The first boot's presets, for the units Ignition's preset file names (a unit that is not there yet, such as a
# timer an archive brings later, is skipped: its own install enables it).
PRESET=$MNT/etc/systemd/system-preset/20-ignition.preset
if [[ -f $PRESET ]]; then
    units=()
    while read -r verb unit; do
        [[ $verb == enable || $verb == disable ]] || continue
        [[ -f $MNT/etc/systemd/system/$unit || -f $MNT/usr/lib/systemd/system/$unit || -f $MNT/lib/systemd/system/$unit ]] &&
            units+=("$unit")
    done <"$PRESET"
    ((${#units[@]} == 0)) || systemctl --root="$MNT" preset "${units[@]}"
fi
sync -f "$MNT"
log "Ignition applied $CONFIG to run $NAME"
