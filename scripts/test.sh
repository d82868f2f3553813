#!/bin/bash
# The whole test suite: unit tests (surefire) and lab tests (*IT, failsafe), from a fresh Debian machine.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
exec mvn -B -ntp verify
