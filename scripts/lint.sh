#!/bin/bash
# Style checks, before anything slow: every shell script in the repository through shellcheck at severity warning
# (following the files the scripts source), and the Java sources through the formatter (spotless:check;
# `mvn spotless:apply` fixes what it reports). Fails on any finding. Installs Debian's shellcheck first when it is missing (as root, like
# scripts/deps.sh); safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v shellcheck >/dev/null 2>&1; then
  echo "corezfs: installing shellcheck" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends shellcheck
fi

# By glob, so a script added later is checked without editing this list.
shopt -s nullglob globstar
scripts=(lab/*.sh scripts/*.sh bench/*.sh .ci/run src/dist/bin/corezfs
         src/main/resources/**/*.sh src/test/resources/**/*.sh)

# The scripts source their helpers two ways: beside themselves (`source "$(dirname "$0")/lib.sh"`,
# `source ./vmlib.sh`) and from the repository root after a cd (`source lab/lib.sh`, `source scripts/deps.sh`).
# -x with these two source paths follows both, so a sourced file's functions and variables are known.
shellcheck --severity=warning --external-sources --source-path=SCRIPTDIR --source-path=. "${scripts[@]}"
echo "corezfs: shellcheck found nothing in ${#scripts[@]} scripts" >&2

# The Java style. Needs Maven, which scripts/deps.sh installs; the test script sources that first.
mvn -B -ntp -q spotless:check
echo "corezfs: the Java sources are formatted" >&2
