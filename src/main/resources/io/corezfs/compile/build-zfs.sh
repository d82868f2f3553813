#!/bin/bash
# Builds OpenZFS inside the OS vendor's developer container, for one kernel, with no network.
# Inputs:  /corezfs/in/zfs.tar.gz (and spl.tar.gz before 0.8), environment below.
# Outputs: /corezfs/out/destdir   the `make install` tree, with a module index covering base + ZFS modules
#          /corezfs/out/syslibs/  shared libraries the programs need from the system (resolved by the loader
#                                 from their NEEDED entries), for corezfs to bundle what the target lacks
#          /corezfs/out/build.env facts about this build (libdir, kernel tree)
# Lines starting with "corezfs-build:" are progress for the user; everything else goes to the build log.
set -euo pipefail
: "${KERNEL:?}" "${ZFS_TOP:?}"
JOBS=${JOBS:-2}
in=/corezfs/in out=/corezfs/out work=/corezfs/work
dest=$out/destdir
mkdir -p "$out" "$work" "$dest"
say() { echo "corezfs-build: $*"; }
fail() { echo "corezfs-build: error: $*" >&2; exit 1; }

# 1. The kernel build tree, where Flatcar, CoreOS and other distributions keep it.
tree=
for d in "/usr/lib/modules/$KERNEL" "/lib/modules/$KERNEL" "/usr/lib64/modules/$KERNEL"; do
    if [ -e "$d/build/Makefile" ]; then tree=$d; break; fi
done
if [ -n "$tree" ]; then
    obj=$(readlink -f "$tree/build")
    src=$(readlink -f "$tree/source" 2>/dev/null || true)
    [ -n "$src" ] && [ -d "$src" ] || src=$obj
elif [ -f /usr/src/linux/.config ] && [ -f /usr/src/linux/Makefile ]; then
    # No prepared tree: prepare the sources the way Flatcar documents for its developer container.
    say "no build tree for $KERNEL; preparing /usr/src/linux (modules_prepare)"
    make -C /usr/src/linux -j"$JOBS" modules_prepare
    src=/usr/src/linux obj=/usr/src/linux tree=/usr/lib/modules/$KERNEL
else
    fail "no kernel build tree for $KERNEL in the developer container (looked in /usr/lib/modules, /lib/modules, /usr/lib64/modules and /usr/src/linux)"
fi
say "kernel $KERNEL: build tree $obj, sources $src"

# 2. Userland goes where the system's own libraries live (the loader searches there without configuration).
libc=$(readlink -f "$(gcc -print-file-name=libc.so.6)")
[ -f "$libc" ] || fail "cannot find the system libc"
libdir=$(dirname "$libc")

# 3. Unpack, configure, build, install.
cd "$work"
tar -xzf "$in/zfs.tar.gz"
spl_opt=()
if [ -f "$in/spl.tar.gz" ]; then
    tar -xzf "$in/spl.tar.gz"
    spl_top=$(tar -tzf "$in/spl.tar.gz" | head -n1 | cut -d/ -f1)
    say "building SPL (${spl_top})"
    (cd "$spl_top" && ./configure --prefix=/usr --libdir="$libdir" --with-config=all \
        --with-linux="$src" --with-linux-obj="$obj" && make -j"$JOBS" && make install DESTDIR="$dest")
    spl_opt=(--with-spl="$work/$spl_top" --with-spl-obj="$work/$spl_top")
fi
cd "$ZFS_TOP"
say "configuring $ZFS_TOP"
./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var --libdir="$libdir" \
    --bindir=/usr/bin --sbindir=/usr/sbin --with-mounthelperdir=/usr/sbin \
    --with-config=all --with-linux="$src" --with-linux-obj="$obj" "${spl_opt[@]}" \
    --enable-systemd --disable-sysvinit --disable-pyzfs --disable-static \
    --with-systemdunitdir=/usr/lib/systemd/system --with-systemdpresetdir=/usr/lib/systemd/system-preset \
    --with-systemdmodulesloaddir=/usr/lib/modules-load.d \
    --with-systemdgeneratordir=/usr/lib/systemd/system-generators \
    --with-udevdir=/usr/lib/udev --with-udevruledir=/usr/lib/udev/rules.d \
    --with-dracutdir=/usr/lib/dracut
say "compiling with $JOBS jobs"
make -j"$JOBS"
say "installing"
# Stripped as distributions ship them: zfs.ko with its debug info is most of an unstripped archive (64 of 117 MB for
# 2.1.11). INSTALL_MOD_STRIP=1 is kbuild's own switch (strip --strip-debug on each module as it is installed).
make install DESTDIR="$dest" INSTALL_MOD_STRIP=1
# The userland too: debug info out of every ELF program and library (not the modules, stripped above; a module
# stripped of its symbol table would no longer load).
while IFS= read -r -d '' f; do
    [ "$(head -c4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$f" 2>/dev/null ||
        fail "cannot strip ${f#"$dest"}"
done < <(find "$dest" -path "$dest/usr/lib/modules" -prune -o -path "$dest/lib/modules" -prune -o -type f -print0)

# 4. Module index for base + ZFS modules of this exact kernel. Once the overlay puts it over /usr it replaces the
#    kernel's own index, so it must still list every base module: built here from both sets together.
moddir=$(find "$dest" -type d -path "*/modules/$KERNEL" | head -n1)
[ -n "$moddir" ] || fail "make install put no kernel modules for $KERNEL into $dest"
[ -d "$tree/kernel" ] || fail "the developer container has no base modules in $tree/kernel; an index of the ZFS modules alone would hide them"
say "indexing base and ZFS modules"
idx=$work/index
rm -rf "$idx" && mkdir -p "$idx/lib/modules/$KERNEL"
cp -a "$tree/kernel" "$idx/lib/modules/$KERNEL/"
for f in modules.order modules.builtin modules.builtin.modinfo; do
    [ ! -f "$tree/$f" ] || cp -a "$tree/$f" "$idx/lib/modules/$KERNEL/"
done
cp -a "$moddir/extra" "$idx/lib/modules/$KERNEL/"
sysmap=()
for m in "/boot/System.map-$KERNEL" "$obj/System.map"; do
    if [ -f "$m" ]; then sysmap=(-F "$m"); break; fi
done
depmod -b "$idx" "${sysmap[@]}" "$KERNEL"
rm -f "$moddir"/modules.*
cp -a "$idx/lib/modules/$KERNEL"/modules.* "$moddir/"
rm -f "$moddir/modules.order" "$moddir/modules.builtin" "$moddir/modules.builtin.modinfo"
# ZFS 2.1 installs extra/zfs/zfs.ko, 2.2 extra/zfs.ko; distributions may compress modules.
grep -Eq '^[^:]*/zfs\.ko(\.[a-z]+)?:' "$moddir/modules.dep" || fail "the new module index does not list zfs.ko"
grep -Eq '^kernel/' "$moddir/modules.dep" || fail "the new module index lost the base kernel's modules"

# 5. Shared libraries from the system that the programs and libraries need, as the loader resolves them. The test
#    suite, headers and sources are dropped from the archive, so their dependencies are not looked up (saves ~7 s).
say "resolving shared libraries"
mkdir -p "$out/syslibs"
: >"$out/syslibs.list"
while IFS= read -r -d '' f; do
    [ "$(head -c4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
    LD_LIBRARY_PATH="$dest$libdir" ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3}' >>"$out/syslibs.list" || true
done < <(find "$dest" \( -path '*/share/zfs' -o -path '*/include' -o -path '*/src' \) -prune -o \
              -type f \( -perm -u+x -o -name '*.so*' \) -print0)
sort -u -o "$out/syslibs.list" "$out/syslibs.list"
while read -r lib; do
    case $lib in "$dest"/*) continue ;; esac
    cp -L "$lib" "$out/syslibs/$(basename "$lib")"
done <"$out/syslibs.list"

printf 'LIBDIR=%s\nKERNEL_TREE=%s\n' "$libdir" "$tree" >"$out/build.env"
say "done"
