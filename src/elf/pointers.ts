/**
 * Following pointers stored in a file that has not been loaded. A Place is either (section, offset) in an ET_REL
 * object, whose pointers are only meaningful through its SHT_REL/SHT_RELA sections (load_elf_obj.c), or a
 * virtual address (section -1) in an ET_DYN/ET_EXEC file, whose pointers are link-time addresses, adjusted by
 * dynamic relocations where there are any (load_elf.c). The relocated value is S + A: the symbol's value (0 for
 * the RELATIVE kinds, which carry symbol 0) plus the addend, explicit (RELA) or stored in place (REL). This is
 * all the modmetadata_set needs, on every architecture, without a table of relocation types.
 */
import {elfError} from './binary-reader.js';
import {ET, SHN, SHT} from './constants.js';
import type {ElfFile} from './elf-file.js';
import type {Relocation} from './relocations.js';
import {readSymbols, type ElfSymbol} from './symbols.js';
import {hex} from '../errors.js';

export interface Place {
  /** Section index for ET_REL; -1 when `offset` is a virtual address. */
  readonly section: number;
  readonly offset: bigint;
}

interface BoundRelocation {
  readonly rel: Relocation;
  readonly symtab: number;
}

export interface PointerResolver {
  follow(at: Place, what: string): Place;
  bytes(at: Place, length: bigint, what: string): Uint8Array;
  /** The bytes of the section or segment holding `at`, and `at`'s offset in them (for NUL-terminated strings). */
  containerBytes(at: Place, what: string): {bytes: Uint8Array; offset: bigint};
}

export function createPointerResolver(elf: ElfFile): PointerResolver {
  const isRel = elf.header.type === ET.REL;
  const bySection = new Map<number, Map<bigint, BoundRelocation>>();
  const symtabs = new Map<number, ElfSymbol[]>();
  const ps = elf.is64 ? 8n : 4n;

  const relocsFor = (section: number): Map<bigint, BoundRelocation> => {
    let map = bySection.get(section);
    if (map !== undefined) return map;
    map = new Map();
    const targets = isRel
      ? elf.sections.filter((s) => (s.type === SHT.REL || s.type === SHT.RELA) && s.info === section)
      : elf.sections.filter((s) => s.type === SHT.REL || s.type === SHT.RELA);
    for (const s of targets) for (const rel of elf.relocations(s)) map.set(rel.offset, {rel, symtab: s.link});
    bySection.set(section, map);
    return map;
  };

  const symbol = (symtab: number, index: number, what: string): ElfSymbol => {
    let syms = symtabs.get(symtab);
    if (syms === undefined) {
      const sec = elf.sections[symtab];
      if (sec === undefined || (sec.type !== SHT.SYMTAB && sec.type !== SHT.DYNSYM)) {
        throw elfError(elf.file, what, `relocation's symbol table (section ${symtab}) is not a symbol table`);
      }
      syms = readSymbols(elf.reader, elf.is64, elf.sections, sec);
      symtabs.set(symtab, syms);
    }
    const sym = syms[index];
    if (sym === undefined) throw elfError(elf.file, what, `relocation names symbol ${index}, the table has ${syms.length}`);
    return sym;
  };

  const containerBytes = (at: Place, what: string): {bytes: Uint8Array; offset: bigint} => {
    if (at.section >= 0) {
      const sec = elf.sections[at.section];
      if (sec === undefined) throw elfError(elf.file, what, `points into section ${at.section}, which does not exist`);
      const bytes = elf.sectionData(sec);
      if (at.offset < 0n || at.offset >= BigInt(bytes.length)) {
        throw elfError(elf.file, what, `points to ${sec.name}+${hex(at.offset)}, outside the section's ${hex(bytes.length)} file bytes`);
      }
      return {bytes, offset: at.offset};
    }
    const ph = elf.loadSegments.find((p) => at.offset >= p.vaddr && at.offset < p.vaddr + p.filesz);
    if (ph === undefined) throw elfError(elf.file, what, `points to ${hex(at.offset)}, which is not in any PT_LOAD's file bytes`);
    return {bytes: elf.segmentData(ph), offset: at.offset - ph.vaddr};
  };

  const bytes = (at: Place, length: bigint, what: string): Uint8Array => {
    const c = containerBytes(at, what);
    if (c.offset + length > BigInt(c.bytes.length)) {
      throw elfError(elf.file, what, `needs ${hex(length)} bytes at ${describe(elf, at)}, past the end of its section or segment`);
    }
    return c.bytes.subarray(Number(c.offset), Number(c.offset + length));
  };

  const stored = (at: Place, what: string): bigint => {
    const b = bytes(at, ps, what);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return elf.is64 ? dv.getBigUint64(0, elf.header.littleEndian) : BigInt(dv.getUint32(0, elf.header.littleEndian));
  };

  const follow = (at: Place, what: string): Place => {
    const bound = relocsFor(at.section).get(at.offset);
    if (isRel) {
      if (bound === undefined) throw elfError(elf.file, what, `pointer at ${describe(elf, at)} has no relocation`);
      const sym = symbol(bound.symtab, bound.rel.sym, what);
      if (sym.shndx === SHN.UNDEF || sym.shndx >= SHN.LORESERVE) {
        throw elfError(elf.file, what, `pointer at ${describe(elf, at)} refers to symbol "${sym.name}" outside the object (st_shndx ${hex(sym.shndx)})`);
      }
      return {section: sym.shndx, offset: sym.value + (bound.rel.addend ?? stored(at, what))};
    }
    if (bound === undefined) return {section: -1, offset: stored(at, what)};
    const base = bound.rel.sym === 0 ? 0n : symbol(bound.symtab, bound.rel.sym, what).value;
    const mask = elf.is64 ? (1n << 64n) - 1n : (1n << 32n) - 1n;
    return {section: -1, offset: (base + (bound.rel.addend ?? stored(at, what))) & mask};
  };

  return {follow, bytes, containerBytes};
}

function describe(elf: ElfFile, at: Place): string {
  if (at.section < 0) return hex(at.offset);
  return `${elf.sections[at.section]?.name ?? `section ${at.section}`}+${hex(at.offset)}`;
}
