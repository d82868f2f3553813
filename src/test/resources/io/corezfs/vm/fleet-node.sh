#!/bin/bash
# FleetVmIT's node (the lab's sshd image, lab/vm-sshd.sh): the test drives it from the host over SSH (corezfs fleet
# install, a pool made as core with sudo, corezfs fleet status) and touches /run/lab-fleet-done when it is through;
# then this script judges the node from the inside and the VM powers off.
source ./vmlib.sh
wait_booted
check sshd-running systemctl is-active ssh.service
info "waiting up to ${FLEET_WAIT:-1800} s for the host's fleet run"
for ((i = 0; i < ${FLEET_WAIT:-1800}; i++)); do [[ -e /run/lab-fleet-done ]] && break; sleep 1; done
check host-said-done test -e /run/lab-fleet-done
# The fleet pushed the tool's bundle: the node itself has no Java.
check_not no-java-on-the-node sh -c 'command -v java || ls /usr/lib/jvm'
tools=(/opt/corezfs-*/bin/corezfs)
check tool-pushed test -x "${tools[0]}"
export PATH=${tools[0]%/corezfs}:$PATH
check_zfs_live fleet
check_eq pool-online "tank ONLINE" "$(zpool list -H -o name,health tank 2>&1 | tr '\t' ' ')"
check_eq dataset-mounted yes "$(zfs get -H -o value mounted tank/data 2>&1)"
check_eq written-as-core "from ${NODE:?scenario.env sets NODE}" "$(cat /tank/data/hello 2>&1)"
check archive-in-store sh -c 'ls /var/lib/corezfs/archives/*.tar.gz'
check no-incoming-left sh -c '! ls -A /var/lib/corezfs/incoming 2>/dev/null | grep -q .'
status_json node
finish
