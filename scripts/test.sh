#!/bin/bash
# The whole test suite, from a fresh Debian machine (as root): unit tests (surefire) and the lab tests (*IT,
# failsafe) against a real Docker engine, real compiles of OpenZFS and the lab's Flatcar-format developer
# container. Everything the lab makes is cached under $LAB_CACHE (default /var/cache/corezfs-lab, outside the clone) and reused when its inputs are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
bash scripts/lint.sh       # style: ShellCheck on every shell script (installed when missing), the Java formatter check
bash lab/all.sh            # Debian packages (docker.io, debootstrap, fdisk, gnupg...), developer container, ZFS source, release-server mirror, host root
bash lab/docker.sh         # the Docker engine, without bridge or iptables
bash lab/vm-image.sh       # the throwaway Flatcar-like node of the VM tests (LiveInstallIT)
exec mvn -B -ntp verify
