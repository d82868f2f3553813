#!/usr/bin/env bash
# Build time against its floor for the NEXT lab target (issue 13): `corezfs build` for Flatcar 9999.1.0 (kernel
# 6.12.95+deb12, OpenZFS 2.3.2) with the developer image already imported, against a raw `configure && make &&
# make install` of the same 2.3.2 tarball in a container of the same image, with the same configure options and -j,
# in the same run. Goal: ratio <= 1.10.
#
#   sudo bench/build-floor.sh       BENCH_BUILD_RUNS=1 timed pair (each side a full OpenZFS compile, about 8-12 min
#                                   on 2 cores with nothing else running); BENCH_BUILD_RUNS=3 for a median
#
# This is bench/build.sh's part (a) with the next target's lab values (lib.sh's lab_next_env: version, kernel, host
# root, the 2.3.2 tarball) and the image imported with plain `tar | docker import` (BENCH_BUILD_FRESH=0), under a
# private release version of its own (9999.78.0), so neither the lab's images nor bench/build.sh's are touched.
# The tool's build also strips the modules and the userland (build-zfs.sh); the floor does not, so that work counts
# against the tool. Results: target/bench/build/results.md, and the per-phase log lines in a.err / b.err there.
#
# Needs root, the lab with both targets (lab/all.sh) and a running engine (lab/docker.sh).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$repo/lab/lib.sh"
mapfile -t next < <(lab_next_env)
exec env "${next[@]}" BENCH_BUILD_FRESH=0 BENCH_BUILD_VERSION="${BENCH_BUILD_VERSION:-9999.78.0}" \
    bash "$repo/bench/build.sh"
