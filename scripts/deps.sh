#!/bin/bash
# Installs what building and testing corezfs needs on a fresh Debian machine, and nothing when it is all there.
# Sourced by the other scripts; safe to run again.
set -euo pipefail

corezfs_need_packages() {
  local missing=()
  command -v javac >/dev/null 2>&1 && javac -version 2>&1 | grep -Eq 'javac (1[7-9]|[2-9][0-9])' || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  command -v tar >/dev/null 2>&1 || missing+=(tar)
  command -v gzip >/dev/null 2>&1 || missing+=(gzip)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  # Tools the unit tests compare against: sfdisk, gpg, readelf, mkfifo.
  command -v sfdisk >/dev/null 2>&1 || missing+=(fdisk)
  command -v gpg >/dev/null 2>&1 || missing+=(gnupg)
  command -v readelf >/dev/null 2>&1 || missing+=(binutils)
  command -v bzip2 >/dev/null 2>&1 || missing+=(bzip2)
  # ssh-keygen: the SSH signature interop tests sign and verify with the real one.
  command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "corezfs: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
  fi
}

corezfs_need_packages
