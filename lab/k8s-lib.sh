# shellcheck shell=bash
# The lab control plane's processes, shared by k8s-up.sh and k8s-down.sh. Sourced after lib.sh. A process counts as
# ours only when the PID in STATE/NAME.pid runs the program NAME with a command line that names STATE: a PID recycled
# by another process is never taken for it.
#
# Instances: LAB_K8S_INSTANCE (one digit, default 0) picks one of ten independent control planes, so test classes that
# run at the same time (CI's two lanes) each get their own. Instance 0 is the one versions.env describes (state in
# $LAB_RUN/k8s); instance N has its state in $LAB_RUN/k8s-N, its own lock and every port raised by 10*N. The ports of
# two instances never meet: etcd's end in 9, its peer ports in 0, the apiserver's in 3, and the controller-manager's
# stay below etcd's.
K8S_INSTANCE=${LAB_K8S_INSTANCE:-0}
[[ $K8S_INSTANCE =~ ^[0-9]$ ]] || die "LAB_K8S_INSTANCE must be one digit (0-9), not '$K8S_INSTANCE'"
# shellcheck disable=SC2034 # K8S_LOCK is used by the scripts that source this file
if ((K8S_INSTANCE == 0)); then
    STATE=$LAB_RUN/k8s
    K8S_LOCK=k8s-run
else
    STATE=$LAB_RUN/k8s-$K8S_INSTANCE
    K8S_LOCK=k8s-run-$K8S_INSTANCE
fi
LAB_K8S_ETCD_PORT=$((LAB_K8S_ETCD_PORT + 10 * K8S_INSTANCE))
LAB_K8S_ETCD_PEER_PORT=$((LAB_K8S_ETCD_PEER_PORT + 10 * K8S_INSTANCE))
LAB_K8S_API_PORT=$((LAB_K8S_API_PORT + 10 * K8S_INSTANCE))
LAB_K8S_CM_PORT=$((LAB_K8S_CM_PORT + 10 * K8S_INSTANCE))

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
