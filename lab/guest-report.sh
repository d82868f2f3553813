#!/usr/bin/env bash
# Says what went wrong in one boot of the lab VM, from the guest's output (what lab/vm-run.sh printed between its
# markers), so that a failure on the host reads as a cause and not as a bare exit code.
#
#   lab/guest-report.sh OUTPUT DESTDIR
#
# Writes every JVM crash report the guest printed (between "HS-ERR-BEGIN <path>" and "HS-ERR-END") to
# DESTDIR/<file name>, and prints one line per crash:
#   jvm-crash <signature> <host path of the report>
# where the signature is the signal and the problematic frame without addresses or compile ids, e.g.
#   SIGILL:J:c1:sun.security.provider.SHA2.implCompress([BI)V+0x23
# A JVM that crashed without a report file (it prints the same header on stdout) gives "jvm-crash <signature> -".
# Exit code 0 always; no output means no crash.
set -euo pipefail
(($# == 2)) || { echo "usage: $0 OUTPUT DESTDIR" >&2; exit 2; }
out=$1 dest=$2
[[ -f $out ]] || { echo "guest-report: no such file: $out" >&2; exit 2; }

# signature FILE: from a crash header (hs_err file or the banner on stdout).
signature() {
    awk '
        /^#  SIG[A-Z]+ / && sig == "" { sig = $2 }
        /^# Problematic frame:/ { getline; frame = $0 }
        END {
            if (sig == "" && frame == "") exit
            sub(/^# */, "", frame)
            # "J 1210 c1 method (...) @ 0x... [0x...+0x0000000000000023]" -> "J:c1:method+0x23"
            n = split(frame, f, " ")
            kind = f[1]; tier = ""; method = ""
            if (kind == "J" && n >= 4) { tier = f[3]; method = f[4] }
            else if (n >= 2) { method = f[2] }
            off = ""
            if (match(frame, /\+0x[0-9a-f]+\]$/)) {
                off = substr(frame, RSTART + 1, RLENGTH - 2)
                sub(/^0x0*/, "0x", off)
            }
            printf "%s:%s:%s:%s%s\n", (sig == "" ? "SIG?" : sig), kind, tier, method, (off == "" ? "" : "+" off)
        }' "$1"
}

mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Split the report blocks into numbered files, remembering each block's guest path.
awk -v dir="$tmp" '
    /^HS-ERR-BEGIN / { n++; file = dir "/" n; print $2 > (dir "/" n ".path"); next }
    /^HS-ERR-END$/ { file = ""; next }
    file != "" { print > file }
' "$out"
found=0
for f in "$tmp"/*.path; do
    [[ -f $f ]] || continue
    block=${f%.path}
    name=$(basename "$(cat "$f")")
    cp "$block" "$dest/$name"
    echo "jvm-crash $(signature "$block") $dest/$name"
    found=1
done
# A crash whose report file was not printed (a script without the trap): the banner on stdout still says it.
if ((found == 0)) && grep -q 'A fatal error has been detected by the Java Runtime' "$out"; then
    sed -n '/A fatal error has been detected by the Java Runtime/,/^# Problematic frame:/{p}; /^# Problematic frame:/{n;p}' \
        "$out" >"$tmp/banner"
    echo "jvm-crash $(signature "$tmp/banner") -"
fi
