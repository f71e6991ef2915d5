#!/bin/sh
# Builds examples/qemu-shim/shim.elf from shim.S and shim.ld with GNU binutils (Debian package binutils):
# the amd64 multiboot shim the kexec-ts QEMU backend boots before a plan (src/backend/qemu). Deterministic:
# no build-id, no symbols, no notes or timestamps, so the committed shim.elf can be checked by rebuilding it
# (test/qemu/shim-build.test.ts). Usage: build.sh [OUTPUT] (default: shim.elf beside this script).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/shim.elf}
AS=${AS:-as}
LD=${LD:-ld}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$AS" --32 -o "$tmp/shim.o" "$here/shim.S"
quiet=
# One PT_LOAD holds code, data and bss: binutils >= 2.39 would warn about its RWX flags (QEMU ignores them).
if "$LD" --help 2>/dev/null | grep -q -- --no-warn-rwx-segments; then quiet=--no-warn-rwx-segments; fi
"$LD" -m elf_i386 -n -s --build-id=none -z noexecstack $quiet -T "$here/shim.ld" -o "$tmp/shim.elf" "$tmp/shim.o"
mv "$tmp/shim.elf" "$out"
