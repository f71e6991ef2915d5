/**
 * The symbol block load_elf.c appends after a kernel or ET_DYN module (MODINFOMD_SSYM .. MODINFOMD_ESYM):
 *   [Elf_Size symsz][symtab][pad to 8][Elf_Size strsz][strtab][pad to 8]
 * The symtab is the last SHT_SYMTAB that is not already inside a PT_LOAD's file bytes; its strtab is sh_link.
 * Elf_Size is 8 bytes in ELF64 (the only class FreeBSD's kexec loads).
 */
import {SHT} from '../../elf/constants.js';
import type {ElfFile} from '../../elf/elf-file.js';
import {KexecError, hex} from '../../errors.js';
import {alignUp} from '../../memory/range.js';
import type {LoaderPiece} from './preloaded-file.js';
import {encode} from './metadata-encoder.js';

export interface SymbolBlock {
  readonly ssym: bigint;
  readonly esym: bigint;
  readonly pieces: LoaderPiece[];
}

/** Lays out the symbol block at `at` (already 8-aligned), or returns undefined when the file has none to add. */
export function symbolBlock(elf: ElfFile, at: bigint, label: string): SymbolBlock | undefined {
  let symtab;
  for (const s of elf.sections) {
    if (s.type !== SHT.SYMTAB) continue;
    const inside = elf.loadSegments.some((p) => s.offset >= p.offset && s.offset + s.size <= p.offset + p.filesz);
    if (!inside) symtab = s;
  }
  if (symtab === undefined) return undefined;
  const strtab = elf.sections[symtab.link];
  if (strtab === undefined || strtab.type === SHT.NOBITS) {
    throw new KexecError('badInput', `${elf.file}: symbol table ${symtab.name}: sh_link ${symtab.link} is not a string table with bytes`, {reason: 'elf-malformed'});
  }
  const pieces: LoaderPiece[] = [];
  let cursor = at;
  for (const [sec, what] of [[symtab, 'symtab'], [strtab, 'strtab']] as const) {
    const bytes = elf.sectionData(sec);
    pieces.push({label: `${label} ${what} size`, at: cursor, data: encode.u64(sec.size), memsz: 8n});
    cursor += 8n;
    pieces.push({label: `${label} ${what}`, at: cursor, data: bytes, memsz: BigInt(bytes.length)});
    cursor = alignUp(cursor + sec.size, 8n);
  }
  if (cursor <= at) throw new KexecError('internal', `${elf.file}: empty symbol block at ${hex(at)}`);
  return {ssym: at, esym: cursor, pieces};
}
