#!/usr/bin/env bash
# Stops the control plane lab/k8s-up.sh started: only the PIDs in $LAB_CACHE/run/k8s/*.pid (or
# run/k8s-N for LAB_K8S_INSTANCE=N), each after checking that
# it still runs that program with that state directory (never a broad pkill). Idempotent: nothing running, no-op.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
# shellcheck source=lab/k8s-lib.sh
source "$LAB_DIR/k8s-lib.sh"
lab_lock "$K8S_LOCK"

if k8s_any_running; then
    k8s_stop_all
else
    log "no lab control plane running"
    rm -f "$STATE"/*.pid
fi
