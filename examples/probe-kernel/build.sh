#!/bin/sh
# Builds the probe kernel and its sample modules for amd64 and arm64 into OUTDIR (default: build/ next to this
# script): OUTDIR/{amd64,arm64}/{kernel,probe_dep.ko,probe_hello.ko} and OUTDIR/toolchain.txt.
#
# Needs (Debian): gcc, binutils (amd64) and gcc-aarch64-linux-gnu, binutils-aarch64-linux-gnu (arm64).
# Deterministic for a given toolchain: fixed flags and input order, sources named relative to this directory,
# no timestamps, no build-id, no -g, no .comment. toolchain.txt records the tools, because another compiler
# version gives other (equally valid) bytes.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd -P)
OUT=${1:-"$HERE/build"}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
export LC_ALL=C
unset GCC_EXEC_PREFIX COMPILER_PATH LIBRARY_PATH CPATH C_INCLUDE_PATH SOURCE_DATE_EPOCH || true

AMD64_CC=gcc
AMD64_LD=ld
ARM64_CC=aarch64-linux-gnu-gcc
ARM64_LD=aarch64-linux-gnu-ld
ELFEDIT=elfedit

# Freestanding kernel code: no libc, no stack protector, no unwind tables, no PIC; -fno-ident keeps the compiler
# version out of the objects.
COMMON="-std=gnu11 -O2 -Wall -Wextra -ffreestanding -fno-stack-protector -fno-common -fno-ident \
 -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-tree-loop-distribute-patterns \
 -ffile-prefix-map=$HERE=. -fdebug-prefix-map=$HERE=. -Iinclude"
# sys/conf/kern.mk (amd64): the kernel code model, no red zone, no SSE/x87 state.
AMD64_CFLAGS="$COMMON -m64 -mcmodel=kernel -mno-red-zone -mgeneral-regs-only -fno-pic -fno-pie -fcf-protection=none"
# arm64 with the MMU off: aligned accesses only; no FP/SIMD (the trap may be enabled); PC-relative code.
ARM64_CFLAGS="$COMMON -mstrict-align -mgeneral-regs-only -mbranch-protection=none -mno-outline-atomics"
ARM64_KERNEL_CFLAGS="$ARM64_CFLAGS -fno-pic -fno-pie"
# sys/conf/kmod.mk: arm64 modules are position-independent shared objects.
ARM64_MODULE_CFLAGS="$ARM64_CFLAGS -fPIC"
LDFLAGS_COMMON="--build-id=none -z noexecstack -z max-page-size=0x1000 -z common-page-size=0x1000"

KERNEL_C="kernel/handoff_items.c kernel/kernel_md.c kernel/link_self.c kernel/probe.c"	# sorted; MD files come first, locore.S first of all
MODULES="probe_dep probe_hello"

# sys/conf/kern.post.mk SYSTEM_LD: a kernel is a dynamically linked ET_EXEC, so that it carries PT_DYNAMIC with a
# DT_HASH table of every global symbol (.hash, .dynsym, .dynstr): stand/common/load_elf.c finds
# __start/__stop_set_modmetadata_set and kernphys through it, and the kernel linker (sys/kern/link_elf.c) its own
# symbols. PT_INTERP "/red/herring" marks it as no runnable program. GNU ld makes dynamic sections only when a
# shared object takes part, hence kern.post.mk's empty hack.pico; its soname keeps DT_NEEDED free of $TMP.
KERNEL_LDFLAGS="-Bdynamic --export-dynamic --dynamic-linker /red/herring --hash-style=sysv -nostdlib"

# hack_pico CC DIR: the empty shared object (kern.post.mk: ${CC} -shared -nostdlib hack.c -o hack.pico).
hack_pico() {
	: >"$2/hack.c"
	$1 -shared -nostdlib -fno-ident -Wl,--build-id=none,--hash-style=sysv,-soname,hack.pico -o "$2/hack.pico" "$2/hack.c"
}

# compile CC FLAGS SRC OBJ: compile from this directory so that only relative names reach the objects.
compile() {
	(cd "$HERE" && $1 $2 -c "$3" -o "$4")
}

freebsd_osabi() {
	$ELFEDIT --output-osabi FreeBSD "$1"
}

# Compiles the kernel's objects for one architecture into $4 and sets $objs (locore first, link order fixed).
kernel_objects() {
	compile "$1" "$2" "kernel/$3/locore.S" "$4/locore.o"
	compile "$1" "$2" "kernel/$3/machdep.c" "$4/machdep.o"
	objs="$4/locore.o $4/machdep.o"
	for src in $KERNEL_C; do
		obj=$4/$(basename "$src" .c).o
		compile "$1" "$2" "$src" "$obj"
		objs="$objs $obj"
	done
}

build_amd64() {
	o=$TMP/amd64
	mkdir -p "$o" "$OUT/amd64"
	kernel_objects "$AMD64_CC" "$AMD64_CFLAGS" amd64 "$o"
	hack_pico "$AMD64_CC" "$o"
	$AMD64_LD -m elf_x86_64 $KERNEL_LDFLAGS -z noseparate-code $LDFLAGS_COMMON -T "$HERE/kernel/amd64/kernel.ld" \
	    -o "$o/kernel" $objs "$o/hack.pico"
	# amd64 modules are relocatable objects (sys/conf/kmod.mk: ld -r -d).
	for m in $MODULES; do
		compile "$AMD64_CC" "$AMD64_CFLAGS" "modules/$m.c" "$o/$m.o"
		$AMD64_LD -m elf_x86_64 -r -d --build-id=none -o "$o/$m.ko" "$o/$m.o"
	done
	for f in kernel probe_dep.ko probe_hello.ko; do
		freebsd_osabi "$o/$f"
		cp "$o/$f" "$OUT/amd64/$f"
	done
}

build_arm64() {
	o=$TMP/arm64
	mkdir -p "$o" "$OUT/arm64"
	kernel_objects "$ARM64_CC" "$ARM64_KERNEL_CFLAGS" arm64 "$o"
	hack_pico "$ARM64_CC" "$o"
	$ARM64_LD -m aarch64linux $KERNEL_LDFLAGS $LDFLAGS_COMMON -T "$HERE/kernel/arm64/kernel.ld" \
	    -o "$o/kernel" $objs "$o/hack.pico"
	# arm64 modules are shared objects with a SysV hash table (the loader looks symbols up through DT_HASH).
	for m in $MODULES; do
		compile "$ARM64_CC" "$ARM64_MODULE_CFLAGS" "modules/$m.c" "$o/$m.o"
		$ARM64_LD -m aarch64linux -shared -z norelro --hash-style=sysv $LDFLAGS_COMMON -o "$o/$m.ko" "$o/$m.o"
	done
	for f in kernel probe_dep.ko probe_hello.ko; do
		freebsd_osabi "$o/$f"
		cp "$o/$f" "$OUT/arm64/$f"
	done
}

build_amd64
build_arm64
{
	$AMD64_CC --version | sed -n 1p
	$AMD64_LD --version | sed -n 1p
	$ARM64_CC --version | sed -n 1p
	$ARM64_LD --version | sed -n 1p
} >"$OUT/toolchain.txt"
echo "built $OUT/amd64 and $OUT/arm64"
