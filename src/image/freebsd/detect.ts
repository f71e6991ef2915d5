/**
 * Format probe: is this ELF a FreeBSD kernel? ET_EXEC with a FreeBSD marker (OSABI 9 = ELFOSABI_FREEBSD, or the
 * FreeBSD ABI note) that is not a userland program: its PT_INTERP is the "/red/herring" every FreeBSD kernel
 * carries (sys/conf/ldscript.*), or it has none and enters in the upper half of a 64-bit address space, where
 * amd64 and arm64 kernels live. A FreeBSD program (interpreter /libexec/ld-elf.so.1, or static and entered low)
 * is "not mine", so the generic ELF loader takes it; --image-type overrides.
 */
import {ELFOSABI_FREEBSD, ET} from '../../elf/constants.js';
import type {ElfFile} from '../../elf/elf-file.js';
import {FREEBSD_KERNEL_INTERP, freebsdFacts} from '../../elf/freebsd.js';
import {isKexecError} from '../../errors.js';

export function isFreeBsdKernel(elf: ElfFile): boolean {
  if (elf.header.type !== ET.EXEC) return false;
  try {
    const f = freebsdFacts(elf);
    if (f === null) return false;
    if (f.interpreter === FREEBSD_KERNEL_INTERP) return true;
    return (f.osabi || f.version !== null) && f.interpreter === null && elf.is64 && elf.header.entry >= 1n << 63n;
  } catch (e) {
    // Malformed notes: fall back to the header's OSABI alone.
    if (isKexecError(e)) return elf.header.osabi === ELFOSABI_FREEBSD && elf.is64 && elf.header.entry >= 1n << 63n;
    throw e;
  }
}
