#!/bin/sh
# Written by `corezfs provision`. Unpacks the corezfs bundle into @TOOL_DIR@ after checking its sha512, once per
# bundle. The tree is unpacked beside the target and renamed into place, so an interrupted run leaves either the old
# tree or none, never half of one. Exit 0 with nothing to do when this bundle is already unpacked.
set -eu
bundle=@BUNDLE@
dir=@TOOL_DIR@
want=@SHA512@
if [ -f "$dir/.bundle-sha512" ] && [ "$(cat "$dir/.bundle-sha512")" = "$want" ] && [ -x "$dir/bin/corezfs" ]; then
    exit 0
fi
if [ ! -f "$bundle" ]; then
    echo "corezfs-unpack: $bundle is missing; corezfs is not installed" >&2
    exit 3
fi
have=$(sha512sum "$bundle" | cut -d' ' -f1)
if [ "$have" != "$want" ]; then
    echo "corezfs-unpack: $bundle has sha512 $have, expected $want; not unpacking it" >&2
    exit 5
fi
new="$dir.new"
rm -rf "$new" "$dir.old"
mkdir -p "$new"
tar -xzf "$bundle" -C "$new" --strip-components=1 --no-same-owner
printf '%s\n' "$want" >"$new/.bundle-sha512"
sync -f "$new"
if [ -e "$dir" ]; then
    mv "$dir" "$dir.old"
fi
mv "$new" "$dir"
rm -rf "$dir.old"
mkdir -p /opt/bin
ln -sfn "$dir/bin/corezfs" /opt/bin/corezfs
echo "corezfs-unpack: unpacked $bundle into $dir"
