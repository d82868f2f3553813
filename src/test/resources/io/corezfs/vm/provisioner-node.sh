#!/bin/bash
# ProvisionerIT's ZFS node (the lab's sshd image, lab/vm-sshd.sh): the host gives it ZFS with corezfs fleet install and
# drives it over SSH (a pool, the provisioner's parent dataset, then the provisioner's own zfs commands as core with
# sudo -n); it touches /run/lab-provisioner-done when it is through. Then this script judges the node from the inside
# and the VM powers off.
source ./vmlib.sh
wait_booted
check sshd-running systemctl is-active ssh.service
info "waiting up to ${PROVISIONER_WAIT:-2400} s for the host's provisioner run"
for ((i = 0; i < ${PROVISIONER_WAIT:-2400}; i++)); do [[ -e /run/lab-provisioner-done ]] && break; sleep 1; done
check host-said-done test -e /run/lab-provisioner-done
tools=(/opt/corezfs-*/bin/corezfs)
export PATH=${tools[0]%/corezfs}:$PATH
check_zfs_live provisioner
check_eq pool-online "tank ONLINE" "$(zpool list -H -o name,health tank 2>&1 | tr '\t' ' ')"
# Every dataset the provisioner made under the parent carries its claim's uid (nothing else was created there).
zfs list -H -r -d 1 -o name,io.corezfs:claim,io.corezfs:reclaim,refquota,refreservation tank/kube 2>&1 | sed 's/^/INFO dataset /'
check_not foreign-dataset sh -c "zfs list -H -r -d 1 -o name,io.corezfs:claim tank/kube | awk 'NR > 1 && \$2 == \"-\"' | grep ."
finish
