#!/bin/sh
# Installs the Debian packages sluice builds and tests with, but only when
# something is missing, so `make` on a ready machine costs one pkg-config call.
# Usage: mk/deps.sh PACKAGE...
missing=""
pkg-config --exists libczmq libzmq libsodium sqlite3 yaml-0.1 libprotobuf-c check \
    2>/dev/null || missing=yes
for tool in protoc-c pkg-config sqlite3 gawk ip; do
    command -v "$tool" >/dev/null 2>&1 || missing=yes
done
# Time zones for schedules (tzdata): no pkg-config name, so look for a zone.
[ -e /usr/share/zoneinfo/Europe/Berlin ] || missing=yes
# Optional extras, when asked for: clang and its runtime (make fuzz),
# gnuplot (make bench-scale draws its chart).
for pkg in "$@"; do
    case "$pkg" in
        clang|libclang-rt-*|gnuplot-nox)
            dpkg -s "$pkg" >/dev/null 2>&1 || missing=yes ;;
    esac
done
[ -z "$missing" ] && exit 0

echo "sluice: installing missing build packages: $*" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
$sudo apt-get update -qq || exit 1
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null || {
    echo "sluice: apt-get install failed; install these by hand: $*" >&2
    exit 1
}
