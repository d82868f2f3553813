#!/bin/bash
# Builds the provisioner's container image locally, with no base image and no registry: a root file system of
#   /opt/corezfs-provisioner          the provisioner tree (target/corezfs-provisioner, made by `mvn package`)
#   /opt/corezfs-provisioner/runtime  a Java runtime linked by jlink from the JDK here, for the modules jdeps finds
#   /usr/lib*, /lib, /lib64           the shared libraries that runtime needs (ldd) and the dynamic loader
#   /usr/lib/locale/C.utf8            the locale of LANG=C.UTF-8
#   /etc/passwd, /etc/group           one user, corezfs (uid and gid 65532), which the image runs as
# made into a tar with sorted names, a fixed time and numeric owner 0, and loaded with `docker import`. There is no
# shell: bin/corezfs is a shell script, so the entry point is the java command line it would run (the same JVM
# options), and nothing in the image can start a shell or install a package.
#
# Prints the image's tag (corezfs-provisioner:<version>) as its last line, and writes `docker save` of it to
# target/corezfs-provisioner-image-<version>.tar, for `docker load` or `ctr -n k8s.io images import` on a node.
# Safe to run again: with the same root file system the image and the saved tar are kept as they are.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
  echo "provisioner-image: $*" >&2
  exit 1
}

tree=target/corezfs-provisioner
[[ -f $tree/lib/classpath && -f target/maven-archiver/pom.properties ]] ||
  die "no provisioner tree in $tree; run: mvn -B -ntp package -DskipTests"
command -v docker >/dev/null 2>&1 || die "docker is not installed (lab/setup-host.sh installs it)"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (start it: bash lab/docker.sh)"
java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}
[[ -x $java_home/bin/jlink && -d $java_home/jmods ]] || die "no jlink and jmods in $java_home (a JDK is needed)"
[[ -d /usr/lib/locale/C.utf8 ]] || die "no C.UTF-8 locale in /usr/lib/locale/C.utf8 (Debian's libc-bin has it)"

version=$(sed -n 's/^version=//p' target/maven-archiver/pom.properties)
tag=corezfs-provisioner:$version
saved=target/corezfs-provisioner-image-$version.tar
work=target/provisioner-image
root=$PWD/$work/rootfs
home=/opt/corezfs-provisioner
# Manifests.IMAGE_GROUP (the Deployment's fsGroup) names this gid too.
uid=65532
# The time of every entry: the build's fixed output time (pom.xml), so the same inputs give the same tar.
mtime=2026-01-01T00:00:00Z

rm -rf "$work"
mkdir -p "$root$home" "$root/etc" "$root/tmp"

# jdeps sees what the class path uses directly (jdk.httpserver serves the metrics, java.net.http is the Kubernetes
# client's transport). Two more are found only through service lookups, which jdeps cannot see: jdk.crypto.ec (the
# EC key exchange and certificates of TLS to the API server) and jdk.zipfs (the "jar:" file system).
modules=$("$java_home/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release 17 "$tree"/lib/*.jar)
modules=$modules,jdk.crypto.ec,jdk.zipfs
# java.desktop stays (java.beans is used by the YAML and JSON libraries), but not its native libraries for
# windows, fonts, images and sound: they link X11, freetype and more, and a headless process never loads them.
"$java_home/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --exclude-files='**/libawt_xawt.so,**/libjawt.so,**/libsplashscreen.so,**/libjsound.so,**/libfontmanager.so,**/liblcms.so,**/libjavajpeg.so,**/libmlib_image.so' \
  --output "$root$home/runtime"
# Only java is run; the heap stays far below 32 GB, so the archive for uncompressed pointers is never read.
find "$root$home/runtime/bin" -type f ! -name java -delete
rm -f "$root$home/runtime/lib/server/classes_nocoops.jsa"
# Debian's JDK keeps its CA and policy files in /etc, as symbolic links: the image gets the files themselves.
while IFS= read -r link; do
  target=$(readlink -f "$link") || die "cannot resolve $link"
  rm "$link"
  if [[ -f $target ]]; then cp "$target" "$link"; fi
done < <(find "$root$home/runtime" -type l)
cp -r "$tree"/. "$root$home/"

# A host file, with every symbolic link on the way to it (Debian's /lib is a link to usr/lib, libz.so.1 one to
# libz.so.1.2.13), so the loader finds it in the image under the same names as here.
copy_host_path() {
  local rest=${1#/} cur="" comp target
  while [[ -n $rest ]]; do
    comp=${rest%%/*}
    if [[ $rest == */* ]]; then rest=${rest#*/}; else rest=""; fi
    cur=$cur/$comp
    if [[ -L $cur ]]; then
      if [[ ! -e $root$cur && ! -L $root$cur ]]; then
        mkdir -p "$root$(dirname "$cur")"
        cp -P "$cur" "$root$cur"
      fi
      target=$(readlink "$cur")
      [[ $target == /* ]] || target=$(dirname "$cur")/$target
      copy_host_path "$(realpath -ms "$target")${rest:+/$rest}"
      return
    fi
  done
  mkdir -p "$root$(dirname "$cur")"
  cp "$cur" "$root$cur"
}

# The libraries of every ELF file of the runtime, with the loader. libjvm.so is the runtime's own (lib/server),
# found at run time by libjli, so ldd's "not found" for it is expected; any other missing library fails the build.
mapfile -t elves < <(find "$root$home/runtime" -type f \( -name java -o -name '*.so' \) | sort)
mapfile -t libs < <(for f in "${elves[@]}"; do ldd "$f"; done | awk '
  $2 == "=>" && $3 == "not" && $1 != "libjvm.so" { print "MISSING " $1; next }
  $2 == "=>" && $3 ~ /^\// { print $3 }
  $1 ~ /^\// { print $1 }' | sort -u)
for lib in "${libs[@]}"; do
  [[ $lib != MISSING* ]] || die "the runtime needs ${lib#MISSING }, which this host lacks"
  [[ $lib == "$root"/* ]] || copy_host_path "$lib"
done
# The JVM takes file names and its default charset from the locale: without one, any name beyond ASCII fails.
# Debian's C.UTF-8 is files of libc-bin (400 KB), not built into its glibc.
mkdir -p "$root/usr/lib/locale"
cp -r /usr/lib/locale/C.utf8 "$root/usr/lib/locale/"

printf 'root:x:0:0:root:/root:/nonexistent\ncorezfs:x:%s:%s:corezfs provisioner:/tmp:/nonexistent\n' \
  "$uid" "$uid" >"$root/etc/passwd"
printf 'root:x:0:\ncorezfs:x:%s:\n' "$uid" >"$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
chmod 1777 "$root/tmp"

tar -C "$root" --create --file "$work/rootfs.tar" --format=gnu --sort=name --numeric-owner --owner=0 --group=0 \
  --mtime="$mtime" .
sum=$(sha256sum "$work/rootfs.tar" | cut -d' ' -f1)

# The java command line of bin/corezfs (keep the two alike), with the class path in lib/classpath's order.
cp=$(sed "s|^|$home/lib/|" "$tree/lib/classpath" | paste -sd:)
entrypoint=$(printf '"%s",' "$home/runtime/bin/java" -XX:+UseSerialGC -Xss1m -Xmx192m -XX:-UsePerfData \
  -Djava.awt.headless=true -Dpicocli.disable.closures=true "-Dcorezfs.home=$home" -cp "$cp" io.corezfs.cli.Main)

previous=$(docker image inspect --format '{{.Id}} {{index .Config.Labels "io.corezfs.rootfs.sha256"}}' "$tag" \
  2>/dev/null || true)
if [[ ${previous#* } == "$sum" && -s $saved ]]; then
  echo "provisioner-image: $tag is up to date" >&2
else
  docker import \
    --change "ENTRYPOINT [${entrypoint%,}]" \
    --change "USER $uid:$uid" \
    --change "WORKDIR /tmp" \
    --change "ENV LANG=C.UTF-8 HOME=/tmp" \
    --change "LABEL io.corezfs.rootfs.sha256=$sum" \
    --message "corezfs provisioner $version" \
    "$work/rootfs.tar" "$tag" >/dev/null
  docker save --output "$saved.part" "$tag"
  chmod 644 "$saved.part"
  mv "$saved.part" "$saved"
  # The image this tag named before would stay behind untagged, one per rebuild. A container still using it keeps
  # it (rmi refuses), which is what should happen.
  if [[ -n $previous && ${previous%% *} != "$(docker image inspect --format '{{.Id}}' "$tag")" ]]; then
    docker rmi "${previous%% *}" >/dev/null 2>&1 || echo "provisioner-image: kept ${previous%% *}, still in use" >&2
  fi
fi
echo "provisioner-image: $(($(du -sb "$root$home/runtime" | cut -f1) / 1000000)) MB runtime," \
  "$(($(docker image inspect --format '{{.Size}}' "$tag") / 1000000)) MB image, $saved" >&2
echo "$tag"
