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
# What the VM test classes share, built once before they start (two of them run at a time, see pom.xml): the
# tool (the archives are built by its `corezfs install --root`), the ZFS archive of each release, the fleet nodes'
# sshd image and the Ignition initrd. Each is a no-op in seconds when its inputs are unchanged.
mvn -B -ntp -q package -DskipTests
bash lab/vm-archive.sh >/dev/null
bash lab/vm-archive.sh --target next >/dev/null
bash lab/vm-sshd.sh >/dev/null
bash lab/vm-ignition-initrd.sh >/dev/null
exec mvn -B -ntp verify
