#!/usr/bin/env bash
# Stops the server lab/serve.sh started: only the PID in $LAB_CACHE/run/http.pid, and only after
# checking that this PID is still that server (never a broad pkill). Idempotent: no server, no-op.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
lab_lock serve

PIDFILE=$LAB_RUN/http.pid
# Alive and not a zombie: the server is not our child, so whoever reaps it may take a moment.
alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $st != Z* ]]; }

if [[ ! -f $PIDFILE ]]; then
    log "no lab server running (no $PIDFILE)"
    exit 0
fi
read -r pid port <"$PIDFILE" || true
if [[ ${pid:-} =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] &&
   tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "http.server --bind 127.0.0.1 --directory $LAB_MIRROR"; then
    kill "$pid"
    for _ in $(seq 50); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        kill -9 "$pid"
    fi
    log "stopped the lab server (pid $pid, port ${port:-?})"
else
    log "pid ${pid:-?} from $PIDFILE is no longer the lab server; nothing to stop"
fi
rm -f "$PIDFILE"
