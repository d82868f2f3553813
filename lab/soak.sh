#!/usr/bin/env bash
# Boots the demo's node N times, each on fresh disks, and counts what ended each boot: success, a JVM crash (by
# signature), or another failure. This is how the lab's emulator settings are judged (issue: the demo's JVM crash
# under TCG); the settings in force are the environment's (versions.env, e.g. LAB_VM_ACCEL, LAB_VM_SMP), so
#
#   LAB_VM_ACCEL=tcg lab/soak.sh 10        measures multi-threaded TCG, the setting before the fix
#   lab/soak.sh 10                          measures what versions.env pins now
#   SOAK_VERIFY=8 lab/soak.sh 5             each boot also runs `corezfs archive verify` 8 times, each a fresh JVM
#                                           that compiles the hashing code (C1, then C2) as install does
#
# Needs what scripts/demo.sh prepares (run it once): the lab, the VM image, the packaged bundle and the VM's archive.
# Prints one line per boot and a summary; appends the summary to $LAB_CACHE/soak/results.txt; crash reports of
# every boot go to $LAB_CACHE/soak/<run>/boot-<i>/. Exit code 0 only when every boot succeeded.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root

if (($# != 1)) || ! [[ $1 =~ ^[1-9][0-9]*$ ]]; then die "usage: $0 N   (N boots, N >= 1)"; fi
N=$1

version=$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' "$REPO_ROOT/pom.xml" | head -n1)
bundle=$REPO_ROOT/target/corezfs-$version-linux-x86_64.tar.gz
[[ -f $bundle ]] || die "no bundle at $bundle (run scripts/demo.sh once, or mvn -B -ntp -DskipTests package)"
archive=$("$LAB_DIR/vm-archive.sh")

run_id=$(date +%Y%m%dT%H%M%S)-$$
SOAK=$LAB_CACHE/soak/$run_id
inject=$SOAK/inject
mkdir -p "$inject"
ln "$bundle" "$inject/corezfs.tar.gz" 2>/dev/null || cp "$bundle" "$inject/corezfs.tar.gz"
ln "$archive" "$inject/" 2>/dev/null || cp "$archive" "$inject/"
cp "$LAB_DIR/demo-guest.sh" "$inject/run.sh"
chmod 0755 "$inject/run.sh"
SOAK_VERIFY=${SOAK_VERIFY:-0}
[[ $SOAK_VERIFY =~ ^[0-9]+$ ]] || die "SOAK_VERIFY wants a count, got '$SOAK_VERIFY'"
echo "SOAK_VERIFY=$SOAK_VERIFY" >"$inject/soak.env"

name=corezfs-soak-$$
trap 'bash "$LAB_DIR/vm-run.sh" rm "$name" >/dev/null 2>&1 || true' EXIT
settings="accel=$LAB_VM_ACCEL smp=$LAB_VM_SMP mem=${LAB_VM_MEM_MIB}M verify=$SOAK_VERIFY"
log "soak $run_id: $N boots of the demo node ($settings)"

ok=0 crashes=0 other=0 starts=0 crashed_starts=0
declare -A by_sig=()
installs=()
for ((i = 1; i <= N; i++)); do
    dir=$SOAK/boot-$i
    mkdir -p "$dir"
    rc=0
    t0=$SECONDS
    bash "$LAB_DIR/vm-run.sh" start "$name" --inject "$inject" --timeout 1800 >"$dir/out.txt" 2>"$dir/vm-run.log" || rc=$?
    secs=$((SECONDS - t0))
    report=$("$LAB_DIR/guest-report.sh" "$dir/out.txt" "$dir")
    install=$(awk '$1 == "TIME" && $2 == "install" { print $3 }' "$dir/out.txt" | tail -n1)
    # JVM starts of this boot: every timed corezfs call, finished or crashed ("TIME" is printed only on success).
    n_ok=$(grep -c '^TIME ' "$dir/out.txt" || true)
    n_crash=$(grep -c . <<<"$report" || true)
    starts=$((starts + n_ok + n_crash)) crashed_starts=$((crashed_starts + n_crash))
    if [[ -n $report ]]; then
        crashes=$((crashes + 1))
        while read -r _ sig _; do by_sig[$sig]=$(( ${by_sig[$sig]:-0} + 1 )); done <<<"$report"
        echo "boot $i/$N: JVM CRASH rc=$rc after $secs s: $(cut -d' ' -f2- <<<"$report" | tr '\n' ' ')"
    elif ((rc == 0)) && ! grep -q '^SOAK-VERIFY-FAILED' "$dir/out.txt"; then
        ok=$((ok + 1))
        installs+=("$install")
        echo "boot $i/$N: ok after $secs s (corezfs install ${install:-?} s in the guest)"
    else
        other=$((other + 1))
        echo "boot $i/$N: FAILED rc=$rc after $secs s: $(grep -m1 -e '^DEMO-FAILED' -e '^SOAK-VERIFY-FAILED' "$dir/out.txt" || tail -n1 "$dir/vm-run.log")"
    fi
done

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
summary="$(date -Is) soak $run_id ($settings): $N boots, $ok ok, $crashes with a JVM crash, $other other failures;"
summary+=" $crashed_starts of $starts JVM starts crashed"
summary+="; median guest install $(median "${installs[@]}") s"
for sig in "${!by_sig[@]}"; do summary+=$'\n'"  ${by_sig[$sig]}x $sig"; done
echo "$summary"
echo "$summary" >>"$LAB_CACHE/soak/results.txt"
((ok == N))
