/**
 * Format probe: is this ELF a FreeBSD kernel? ET_EXEC with any FreeBSD marker: OSABI 9 (ELFOSABI_FREEBSD), the
 * FreeBSD ABI note, or the "/red/herring" PT_INTERP every FreeBSD kernel carries (sys/conf/ldscript.*).
 * "Not mine" is a plain false so the generic ELF loader can take the file; --image-type overrides.
 */
import {ET} from '../../elf/constants.js';
import type {ElfFile} from '../../elf/elf-file.js';
import {FREEBSD_KERNEL_INTERP, freebsdFacts} from '../../elf/freebsd.js';
import {isKexecError} from '../../errors.js';

export function isFreeBsdKernel(elf: ElfFile): boolean {
  if (elf.header.type !== ET.EXEC) return false;
  try {
    const f = freebsdFacts(elf);
    return f !== null && (f.osabi || f.version !== null || f.interpreter === FREEBSD_KERNEL_INTERP);
  } catch (e) {
    // Malformed notes: fall back to the header's OSABI alone.
    if (isKexecError(e)) return elf.header.osabi === 9;
    throw e;
  }
}
