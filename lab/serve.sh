#!/usr/bin/env bash
# Serves $LAB_CACHE/mirror/ on http://127.0.0.1:$LAB_PORT/ with Debian's python3 http.server, in the
# background. Loopback only: nothing here may listen on another address. The server's PID goes to
# $LAB_CACHE/run/http.pid so lab/stop.sh can end exactly that process and nothing else.
# Idempotent: when our server already runs on that tree, this does nothing.
# Usage: lab/serve.sh            (LAB_PORT=NNNN lab/serve.sh for another port)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
lab_lock serve

PIDFILE=$LAB_RUN/http.pid
LOGFILE=$LAB_RUN/http.log
URL=http://127.0.0.1:$LAB_PORT/

[[ -d $LAB_MIRROR ]] || die "no $LAB_MIRROR yet (run lab/mirror.sh)"
[[ -x $LAB_PYTHON ]] || die "$LAB_PYTHON missing (run lab/setup-host.sh)"
mkdir -p "$LAB_RUN"

# Our server, by the pid file and its command line (so a recycled PID is never taken for it).
ours() {
    local pid=$1
    [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "http.server --bind 127.0.0.1 --directory $LAB_MIRROR $2"
}

if [[ -f $PIDFILE ]]; then
    read -r pid port <"$PIDFILE" || true
    if ours "${pid:-}" "${port:-}"; then
        if [[ $port == "$LAB_PORT" ]]; then
            log "already serving $LAB_MIRROR at $URL (pid $pid)"
            exit 0
        fi
        die "our server already runs on port $port (pid $pid); run lab/stop.sh first"
    fi
    rm -f "$PIDFILE"     # stale: that process is gone
fi

if curl -s -o /dev/null --max-time 2 "$URL"; then
    die "something else already answers on 127.0.0.1:$LAB_PORT; pick another LAB_PORT"
fi

# setsid: the server must not die with the calling shell; stdin from /dev/null so it holds no
# terminal; the lock's descriptor closed, or the server would hold this script's lock for its lifetime.
setsid "$LAB_PYTHON" -m http.server --bind 127.0.0.1 --directory "$LAB_MIRROR" "$LAB_PORT" \
    </dev/null >"$LOGFILE" 2>&1 {LAB_LOCK_FD}>&- &
pid=$!
echo "$pid $LAB_PORT" >"$PIDFILE"

for _ in $(seq 50); do
    if curl -s -o /dev/null --max-time 1 "$URL"; then
        log "serving $LAB_MIRROR at $URL (pid $pid, log $LOGFILE)"
        exit 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$LOGFILE" >&2; rm -f "$PIDFILE"; die "http.server exited"; }
    sleep 0.2
done
kill "$pid" 2>/dev/null || true
rm -f "$PIDFILE"
die "http.server did not answer on $URL within 10 s (log: $LOGFILE)"
