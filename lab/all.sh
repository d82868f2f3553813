#!/usr/bin/env bash
# Builds the whole lab in order; every step is idempotent, so a second run only checks stamps and
# hashes (a few seconds). Serving is separate: lab/serve.sh / lab/stop.sh. Checking: lab/verify.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root

t0=$SECONDS
for step in setup-host devcontainer zfs-source hostroot mirror; do
    s=$SECONDS
    "$LAB_DIR/$step.sh"
    log "$step: $((SECONDS - s)) s"
done
log "lab ready in $((SECONDS - t0)) s under $LAB_CACHE (du: $(du -sh "$LAB_CACHE" | cut -f1))"
