/**
 * amd64 kernel modules (ET_REL), laid out as stand/common/load_elf_obj.c obj_loadimage() does, from
 * dest = roundup(loadaddr, PAGE_SIZE):
 *   1. SHF_ALLOC sections of type PROGBITS, NOBITS, X86_64_UNWIND, INIT_ARRAY, FINI_ARRAY with sh_size != 0, in
 *      index order, each at roundup(lastaddr, sh_addralign);
 *   2. the one SHT_SYMTAB, its sh_link SHT_STRTAB, then .shstrtab, each aligned the same way;
 *   3. every SHT_REL/SHT_RELA whose target section (sh_info) is SHF_ALLOC.
 * The whole span is zeroed first and no relocation is applied (the kernel links preloaded objects itself).
 * Metadata: SHDR (the section header table with each placed section's sh_addr = its load address, others 0)
 * then ELFHDR, emitted in reverse (ELFHDR first). No SSYM/ESYM/DYNAMIC. Type "elf obj module".
 */
import {basename} from 'node:path';
import {SHF, SHT} from '../../elf/constants.js';
import type {ElfFile} from '../../elf/elf-file.js';
import {readModuleMetadata} from '../../elf/freebsd.js';
import {KexecError} from '../../errors.js';
import {MODINFOMD, MODTYPE_OBJ, PAGE_SIZE} from './constants.js';
import {alignUp} from '../../memory/range.js';
import type {LoaderPiece, MetadataRecord, PreloadedFile} from './preloaded-file.js';

const SHT_X86_64_UNWIND = 0x70000001;
const LOADABLE: ReadonlySet<number> = new Set([SHT.PROGBITS, SHT.NOBITS, SHT_X86_64_UNWIND, SHT.INIT_ARRAY, SHT.FINI_ARRAY]);

export function layoutObjModule(elf: ElfFile, name: string, loadaddr: bigint, args?: string): PreloadedFile {
  const bad = (what: string): KexecError => new KexecError('badInput', `${elf.file}: ${what}`, {reason: 'module-malformed'});
  const h = elf.header;
  if (h.shnum === 0 || h.shoff === 0n) throw bad('an ET_REL module needs section headers');
  const dest = alignUp(loadaddr, PAGE_SIZE);
  const addrOf = new Map<number, bigint>();
  let last = dest;
  const place = (index: number): void => {
    const s = elf.sections[index];
    if (s === undefined) return;
    last = alignUp(last, s.addralign);
    addrOf.set(index, last);
    last += s.size;
  };

  for (const s of elf.sections) {
    if (s.size !== 0n && LOADABLE.has(s.type) && (s.flags & SHF.ALLOC) !== 0n) place(s.index);
  }
  const symtabs = elf.sections.filter((s) => s.type === SHT.SYMTAB);
  if (symtabs.length !== 1) throw bad(`has ${symtabs.length} SHT_SYMTAB sections; the loader needs exactly one`);
  const symtab = symtabs[0] as (typeof symtabs)[number];
  const strtab = elf.sections[symtab.link];
  if (strtab === undefined || strtab.type !== SHT.STRTAB) throw bad(`symbol table's sh_link ${symtab.link} is not an SHT_STRTAB`);
  place(symtab.index);
  place(strtab.index);
  const shstr = elf.sections[h.shstrndx];
  if (h.shstrndx === 0 || shstr === undefined || shstr.type !== SHT.STRTAB) throw bad(`e_shstrndx ${h.shstrndx} is not an SHT_STRTAB`);
  place(shstr.index);
  for (const s of elf.sections) {
    if (s.type !== SHT.REL && s.type !== SHT.RELA) continue;
    const target = elf.sections[s.info];
    if (target !== undefined && (target.flags & SHF.ALLOC) !== 0n) place(s.index);
  }

  // Pieces in address order, each extended with zeros up to the next one, so the whole span reads as zeroed.
  const label = basename(elf.file);
  const placed = [...addrOf.entries()].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const pieces: LoaderPiece[] = placed.map(([index, at], i) => {
    const s = elf.sections[index] as NonNullable<(typeof elf.sections)[number]>;
    const next = placed[i + 1]?.[1] ?? last;
    return {label: `${label} ${s.name || `section ${index}`}`, at, data: elf.sectionData(s), memsz: next - at};
  });

  // A copy: the record carries load addresses, the file's own table must stay as it is.
  const shdr = Uint8Array.from(elf.reader.slice(h.shoff, BigInt(h.shnum * h.shentsize), 'section header table'));
  const dv = new DataView(shdr.buffer, shdr.byteOffset, shdr.byteLength);
  for (const s of elf.sections) dv.setBigUint64(s.index * h.shentsize + 16, addrOf.get(s.index) ?? 0n, true);
  const metadata: MetadataRecord[] = [
    {type: MODINFOMD.ELFHDR, data: elf.reader.slice(0n, 64n, 'ELF header')},
    {type: MODINFOMD.SHDR, data: shdr},
  ];
  const md = readModuleMetadata(elf);
  return {
    name, type: MODTYPE_OBJ, ...(args === undefined ? {} : {args}), addr: dest, size: last - dest, pieces, metadata,
    provides: md.versions, depends: md.depends,
  };
}
