# shellcheck shell=bash
# The lab control plane's processes, shared by k8s-up.sh and k8s-down.sh. Sourced after lib.sh, with STATE set to
# $LAB_RUN/k8s. A process counts as ours only when the PID in STATE/NAME.pid runs the program NAME with a command line
# that names STATE: a PID recycled by another process is never taken for it.

K8S_PROCS=(etcd kube-apiserver kube-controller-manager)

# k8s_pid NAME: prints NAME's PID and succeeds when that process is ours and alive.
k8s_pid() {
    local name=$1 pid argv0
    [[ -f $STATE/$name.pid ]] || return 1
    pid=$(<"$STATE/$name.pid")
    [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
    k8s_alive "$pid" || return 1
    argv0=$(tr '\0' '\n' <"/proc/$pid/cmdline" | head -n1)
    [[ $(basename "$argv0") == "$name" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$STATE/" || return 1
    printf '%s\n' "$pid"
}

# k8s_alive PID: the process exists and is not a zombie.
k8s_alive() {
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $st != Z* ]]
}

k8s_all_running() {
    local n
    for n in "${K8S_PROCS[@]}"; do k8s_pid "$n" >/dev/null || return 1; done
}

k8s_any_running() {
    local n
    for n in "${K8S_PROCS[@]}"; do k8s_pid "$n" >/dev/null && return 0; done
    return 1
}

# Stops our processes, newest first (etcd last, so the apiserver does not spin on a missing store): TERM, then KILL
# after 15 s. Removes each pid file; keeps the logs and the state for a post-mortem (the next up wipes them).
k8s_stop_all() {
    local i name pid
    for ((i = ${#K8S_PROCS[@]} - 1; i >= 0; i--)); do
        name=${K8S_PROCS[i]}
        if pid=$(k8s_pid "$name"); then
            # Ownership is checked once, before the signal: an exiting process's cmdline reads empty, so from here
            # on the PID alone is watched until it is gone or a zombie (the init process reaps it).
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 75); do
                k8s_alive "$pid" || break
                sleep 0.2
            done
            if k8s_alive "$pid"; then
                kill -9 "$pid" 2>/dev/null || true
                for _ in $(seq 25); do
                    k8s_alive "$pid" || break
                    sleep 0.2
                done
            fi
            log "stopped $name (pid $pid)"
        fi
        rm -f "$STATE/$name.pid"
    done
}
