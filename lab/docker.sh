#!/bin/bash
# Starts the Docker engine for the lab and the build tests, the way this workplace allows it: no bridge, no
# iptables, no masquerading (containers run with --network none). Does nothing when an engine already answers.
# The PID of an engine started here is kept in $LAB_RUN/dockerd.pid; `lab/docker.sh stop` ends that one only.
source "$(dirname "$0")/lib.sh"
need_root
mkdir -p "$LAB_RUN"
pidfile=$LAB_RUN/dockerd.pid

if [[ ${1:-start} == stop ]]; then
    if [[ -s $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null &&
        [[ $(cat "/proc/$(cat "$pidfile")/comm") == dockerd ]]; then
        kill "$(cat "$pidfile")"
        log "stopped dockerd $(cat "$pidfile")"
    fi
    rm -f "$pidfile"
    exit 0
fi

if docker info >/dev/null 2>&1; then
    log "Docker engine already running"
    exit 0
fi
command -v dockerd >/dev/null || die "dockerd is not installed; run lab/setup-host.sh"
log "starting dockerd (no bridge, no iptables)"
nohup dockerd --bridge=none --iptables=false --ip-masq=false >"$LAB_RUN/dockerd.log" 2>&1 &
echo $! >"$pidfile"
for _ in $(seq 60); do
    if docker info >/dev/null 2>&1; then
        log "dockerd $(cat "$pidfile") ready"
        exit 0
    fi
    kill -0 "$(cat "$pidfile")" 2>/dev/null || { tail -n 20 "$LAB_RUN/dockerd.log" >&2; die "dockerd exited"; }
    sleep 1
done
tail -n 20 "$LAB_RUN/dockerd.log" >&2
die "dockerd did not answer within 60 s (log: $LAB_RUN/dockerd.log)"
