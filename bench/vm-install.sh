#!/usr/bin/env bash
# In-VM install benchmark (issue: live install), inside one boot of the lab VM, interleaved A B A B …:
#   floor    what doing it by hand costs: tar -xzf the archive, mount the /usr overlay, modprobe zfs
#   corezfs  `corezfs install --archive A --mode overlay` (a cold JVM each time) until it reports success,
#            which includes verifying every file's sha256, systemd, zfs.target and the version checks
#   no-op    `corezfs install` again with the same archive, installed and active
#   jvm, reload, verify  an idle JVM (`java -version` of the bundle's runtime), `systemctl daemon-reload`, and
#            `zfs version` + `modprobe loop`: with the floor they bound what any JVM tool doing the issue's steps can
#            reach in this guest
# Each side is torn down before the next run (modprobe -r, umount, rm / corezfs uninstall).
# Needs root, the lab VM image (lab/vm-image.sh), the VM's archive (lab/vm-archive.sh) and the bundle
# (mvn -DskipTests package). Results: target/bench/vm-install/result.txt and stdout.
#   BENCH_VM_RUNS=5   timed runs per side
#   BENCH_JAVA_OPTS=  extra JVM options for corezfs in the guest (COREZFS_JAVA_OPTS), for diagnostics only
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
source lab/lib.sh
runs=${BENCH_VM_RUNS:-5}
work=$repo/target/bench/vm-install${BENCH_JAVA_OPTS:+-opts}
bundle=$(ls "$repo"/target/corezfs-*-linux-x86_64.tar.gz 2>/dev/null | head -n1)
[ -n "$bundle" ] || die "no bundle in target/ (run: mvn -B -ntp -DskipTests package)"
archive=$(bash lab/vm-archive.sh)
rm -rf "$work" && mkdir -p "$work/inject"
cp "$bundle" "$work/inject/corezfs-bundle.tar.gz"
cp "$archive" "$work/inject/"
cat >"$work/inject/run.sh" <<GUEST
#!/bin/bash
set -u
runs=$runs
export COREZFS_JAVA_OPTS="${BENCH_JAVA_OPTS:-}"
archive=/root/inject/$(basename "$archive")
now() { date +%s.%N; }
mkdir -p /opt/corezfs-tool && tar -xzf /root/inject/corezfs-bundle.tar.gz -C /opt/corezfs-tool --strip-components=1
tool=/opt/corezfs-tool/bin/corezfs
# A failure, a JVM crash included, shows its output (on stderr, which is the console too) and ends the run: a
# crash is never retried (lab/soak.sh; the lab's emulator settings must not produce one).
cz() {
    local out rc
    out=\$("\$tool" "\$@" 2>&1) && rc=0 || rc=\$?
    ((rc == 0)) || printf '%s\n' "\$out" | tail -n 20 | sed 's/^/INFO failed: /' >&2
    printf '%s\n' "\$out"
    return \$rc
}
# Warm the page cache for both sides alike.
cat "\$archive" /opt/corezfs-tool/lib/* /opt/corezfs-tool/runtime/lib/modules >/dev/null
for i in \$(seq "\$runs"); do
    t=\$(now)
    mkdir -p /var/tmp/floor && tar -xzf "\$archive" -C /var/tmp/floor &&
        mount -t overlay overlay -o lowerdir=/var/tmp/floor/opt/corezfs/usr:/usr /usr && modprobe zfs || exit 11
    echo "TIME floor \$(awk -v a=\$t -v b=\$(now) 'BEGIN{printf "%.3f", b-a}')"
    modprobe -r zfs && umount -l /usr && rm -rf /var/tmp/floor || exit 12
    t=\$(now)
    cz -q install --archive "\$archive" --mode overlay >/dev/null || exit 13
    echo "TIME corezfs \$(awk -v a=\$t -v b=\$(now) 'BEGIN{printf "%.3f", b-a}')"
    # What no tool can skip on top of the floor: a JVM that does nothing, and the reload the issue asks for so
    # systemd sees the archive's units (measured with them installed, as the install's own reload sees them).
    t=\$(now); /opt/corezfs-tool/runtime/bin/java -Xshare:auto -version >/dev/null 2>&1 || exit 16
    echo "TIME jvm \$(awk -v a=\$t -v b=\$(now) 'BEGIN{printf "%.3f", b-a}')"
    t=\$(now); systemctl daemon-reload || exit 17
    echo "TIME reload \$(awk -v a=\$t -v b=\$(now) 'BEGIN{printf "%.3f", b-a}')"
    # The checks the issue asks for before success is reported: the tools' and module's versions, a stock module.
    t=\$(now); zfs version >/dev/null && modprobe loop || exit 18
    echo "TIME verify \$(awk -v a=\$t -v b=\$(now) 'BEGIN{printf "%.3f", b-a}')"
    t=\$(now)
    out=\$(cz install --archive "\$archive" --mode overlay) || exit 14
    grep -q '^unchanged' <<<"\$out" || { printf '%s\n' "\$out" | sed 's/^/INFO not a no-op: /'; exit 14; }
    echo "TIME noop \$(awk -v a=\$t -v b=\$(now) 'BEGIN{printf "%.3f", b-a}')"
    cz -q uninstall >/dev/null || exit 15
done
t=\$(now); "\$tool" --version >/dev/null; echo "TIME version \$(awk -v a=\$t -v b=\$(now) 'BEGIN{printf "%.3f", b-a}')"
nproc | sed 's/^/INFO vcpus /'
GUEST
chmod +x "$work/inject/run.sh"
name=bench-vm-install${BENCH_JAVA_OPTS:+-opts}
bash lab/vm-run.sh start "$name" --inject "$work/inject" --timeout 3600 | tee "$work/out.txt"
bash lab/vm-run.sh rm "$name" >/dev/null 2>&1 || true
"$LAB_PYTHON" "$repo/bench/vm_install_report.py" "$work/out.txt" | tee "$work/result.txt"
