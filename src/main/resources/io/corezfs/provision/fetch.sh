#!/bin/sh
# Written by `corezfs provision cloud-config`. Downloads each file the node needs and moves it into place only once
# its sha512 is the one given; a file already in place with that hash is kept. Then unpacks the tool.
set -eu
check() {
    have=$(sha512sum "$1" | cut -d' ' -f1)
    [ "$have" = "$2" ]
}
fetch() {
    path=$1 url=$2 want=$3
    if [ -f "$path" ] && check "$path" "$want"; then
        return 0
    fi
    mkdir -p "$(dirname "$path")"
    part="$path.part"
    rm -f "$part"
    if command -v curl >/dev/null 2>&1; then
        curl -fsSL --retry 5 --retry-delay 5 -o "$part" "$url"
    else
        wget -q -O "$part" "$url"
    fi
    if ! check "$part" "$want"; then
        rm -f "$part"
        echo "corezfs-fetch: $url has sha512 $have, expected $want; refused" >&2
        exit 5
    fi
    mv "$part" "$path"
}
@FETCHES@
exec /bin/sh @UNPACK@
