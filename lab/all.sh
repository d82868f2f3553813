#!/usr/bin/env bash
# Builds the whole lab in order; every step is idempotent, so a second run only checks stamps and
# hashes (a few seconds). Serving is separate: lab/serve.sh / lab/stop.sh. Checking: lab/verify.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root

t0=$SECONDS
# Both targets: the current release (versions.env's LAB_* values) and the next one (LAB_NEXT_*, through
# lib.sh's lab_next_env), each with its developer container, ZFS tarball and host root; then one mirror for both.
mapfile -t next < <(lab_next_env)
for step in setup-host devcontainer zfs-source hostroot next:devcontainer next:zfs-source next:hostroot mirror; do
    s=$SECONDS
    case $step in
        next:*) env "${next[@]}" "$LAB_DIR/${step#next:}.sh" ;;
        *) "$LAB_DIR/$step.sh" ;;
    esac
    log "$step: $((SECONDS - s)) s"
done
log "lab ready in $((SECONDS - t0)) s under $LAB_CACHE (du: $(du -sh "$LAB_CACHE" | cut -f1))"
