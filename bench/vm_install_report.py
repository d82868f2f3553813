"""Summarises bench/vm-install.sh's guest output: the median of each TIME series (floor, corezfs, no-op, version,
and the idle JVM, daemon-reload and version checks that bound any JVM tool), the corezfs/floor ratio against the
1.5x goal, and that bound.

    python3 bench/vm_install_report.py OUT.TXT
"""
import statistics, sys
t = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 3 and f[0] == "TIME":
        t.setdefault(f[1], []).append(float(f[2]))
med = {k: statistics.median(v) for k, v in t.items()}
for k in ("floor", "corezfs", "noop", "version", "jvm", "reload", "verify"):
    if k in t:
        print(f"{k:8s} median {med[k]:.3f} s  runs {' '.join(f'{x:.2f}' for x in t[k])}")
if "floor" in med and "corezfs" in med:
    r = med["corezfs"] / med["floor"]
    print(f"ratio corezfs/floor {r:.2f}x (goal <= 1.5x): {'PASS' if r <= 1.5 else 'MISS'}")
if all(k in med for k in ("floor", "jvm", "reload", "verify")):
    b = med["floor"] + med["jvm"] + med["reload"] + med["verify"]
    print(f"bound: floor + an idle JVM + daemon-reload + the version checks = {b:.3f} s,"
          f" so no JVM tool doing the issue's steps can go below {b / med['floor']:.2f}x here")
if "noop" in med:
    print(f"no-op reinstall {med['noop']:.3f} s (goal < 1 s): {'PASS' if med['noop'] < 1 else 'MISS'}")
