#!/bin/bash
# Smoke: the mechanics of the VM tests, without ZFS. The node has no Java; the bundle brings its own runtime.
source ./vmlib.sh
wait_booted
check no-java-on-node test -z "$(command -v java)"
setup_tool
run_cli version --version
check_eq version-rc 0 "$RC"
check_eq version-output "corezfs ${VERSION:-}" "$OUT"
run_cli status status --json
check_eq status-rc 0 "$RC"
printf '%s\n' "$OUT" | json status
info "kernel $(uname -r), $(grep -E '^VERSION_ID=' /etc/os-release)"
info "systemd-sysext: $(command -v systemd-sysext || echo missing)"
info "payload: $(ls /var/lib/corezfs-lab/archives 2>&1 | tr '\n' ' ')"
finish
