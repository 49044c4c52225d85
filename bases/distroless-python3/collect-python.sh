#!/bin/sh
# Lay out /rootfs for a distroless-style Python runtime, from the Debian packages installed in this stage:
#   1. the files of Debian's Python interpreter packages (no docs or manual pages; copyright kept);
#   2. every shared library those files link, found with ldd (the loader's own answer), with the
#      SONAME link as the loader looks it up and the file it points to;
#   3. OpenSSL's default CA paths pointed at the static runtime's bundle, so Python's ssl module
#      verifies HTTPS servers (Debian's openssl package makes these links; it is not installed here);
#   4. a dpkg status entry and the copyright file of every package that contributed a file.
set -eu
PYTHON_PACKAGES="python3.11-minimal libpython3.11-minimal libpython3.11-stdlib"
ROOTFS=/rootfs
OWNERS=/tmp/owners
mkdir -p "$ROOTFS/var/lib/dpkg/status.d"
: > "$OWNERS"

# 1. The interpreter, its standard library and its extension modules.
for pkg in $PYTHON_PACKAGES; do
  echo "$pkg" >> "$OWNERS"
  dpkg-query -L "$pkg" | while read -r path; do
    [ -d "$path" ] && [ ! -L "$path" ] && continue
    case "$path" in
      /usr/share/doc/*|/usr/share/man/*|/usr/share/lintian/*|/usr/share/binfmts/*) continue ;;
    esac
    cp -a --parents "$path" "$ROOTFS"
  done
done
ln -s python3.11 "$ROOTFS/usr/bin/python3"

# 2. The shared-library closure of every ELF file laid out so far (ldd follows dependencies of
#    dependencies). Copied under /usr: the image gets Debian's merged-/usr links /lib and /lib64.
find "$ROOTFS" -type f \( -name '*.so*' -o -path "$ROOTFS/usr/bin/*" \) | while read -r file; do
  head -c 4 "$file" | grep -q 'ELF' || continue
  ldd "$file" | awk '/=> \// {print $3} /^\t\/lib64\// {print $1}'
done | sort -u | while read -r lib; do
  dir=$(readlink -f "$(dirname "$lib")")       # /lib/x86_64-linux-gnu -> /usr/lib/x86_64-linux-gnu
  link="$dir/$(basename "$lib")"               # the name the loader opens (often a symlink)
  real=$(readlink -f "$lib")                   # the file itself
  cp -a --parents "$link" "$ROOTFS"
  [ "$real" = "$link" ] || cp -a --parents "$real" "$ROOTFS"
  # dpkg's database still names some of these files under /lib (bookworm is mid merged-/usr).
  { dpkg-query -S "$real" 2>/dev/null || dpkg-query -S "${real#/usr}"; } | head -n1 | cut -d: -f1 >> "$OWNERS"
done
ln -s usr/lib "$ROOTFS/lib"
ln -s usr/lib64 "$ROOTFS/lib64"

# 3. ssl.create_default_context() looks in /usr/lib/ssl (OpenSSL's OPENSSLDIR on Debian).
mkdir -p "$ROOTFS/usr/lib/ssl"
ln -s /etc/ssl/certs "$ROOTFS/usr/lib/ssl/certs"
ln -s /etc/ssl/certs/ca-certificates.crt "$ROOTFS/usr/lib/ssl/cert.pem"

# 4. What came from which package, as distroless records it (one status file per package).
sort -u "$OWNERS" | while read -r pkg; do
  dpkg-query -s "$pkg" > "$ROOTFS/var/lib/dpkg/status.d/$pkg"
  mkdir -p "$ROOTFS/usr/share/doc/$pkg"
  cp -a "/usr/share/doc/$pkg/copyright" "$ROOTFS/usr/share/doc/$pkg/copyright"
done
