/**
 * Program header and section header tables (gABI "Program Header", "Sections"). Both tables are checked to lie
 * inside the file before a single entry is read, so a header claiming 2^32 entries fails at once without
 * allocating; every entry's file range is checked too (NOBITS sections have no bytes and are exempt).
 */
import {BinaryReader, elfError, readCString} from './binary-reader.js';
import {PT, SHT} from './constants.js';
import type {ElfHeader} from './header.js';
import {hex} from '../errors.js';

export interface ProgramHeader {
  readonly index: number;
  readonly type: number;
  readonly flags: number;
  readonly offset: bigint;
  readonly vaddr: bigint;
  readonly paddr: bigint;
  readonly filesz: bigint;
  readonly memsz: bigint;
  readonly align: bigint;
}

export interface SectionHeader {
  readonly index: number;
  readonly name: string;
  readonly nameOffset: number;
  readonly type: number;
  readonly flags: bigint;
  readonly addr: bigint;
  readonly offset: bigint;
  readonly size: bigint;
  readonly link: number;
  readonly info: number;
  readonly addralign: bigint;
  readonly entsize: bigint;
}

const U64_LIMIT = 1n << 64n;

export function readProgramHeaders(r: BinaryReader, h: ElfHeader): ProgramHeader[] {
  if (h.phnum === 0) return [];
  const is64 = h.class === 64;
  const tableSize = BigInt(h.phnum) * BigInt(h.phentsize);
  r.check(h.phoff, tableSize, `program header table (${h.phnum} entries at ${hex(h.phoff)})`);
  const out: ProgramHeader[] = [];
  for (let i = 0; i < h.phnum; i++) {
    const at = h.phoff + BigInt(i) * BigInt(h.phentsize);
    const s = `program header ${i}`;
    const ph: ProgramHeader = is64
      ? {
          index: i, type: r.u32(at, s), flags: r.u32(at + 4n, s), offset: r.u64(at + 8n, s),
          vaddr: r.u64(at + 16n, s), paddr: r.u64(at + 24n, s), filesz: r.u64(at + 32n, s),
          memsz: r.u64(at + 40n, s), align: r.u64(at + 48n, s),
        }
      : {
          index: i, type: r.u32(at, s), offset: BigInt(r.u32(at + 4n, s)), vaddr: BigInt(r.u32(at + 8n, s)),
          paddr: BigInt(r.u32(at + 12n, s)), filesz: BigInt(r.u32(at + 16n, s)), memsz: BigInt(r.u32(at + 20n, s)),
          flags: r.u32(at + 24n, s), align: BigInt(r.u32(at + 28n, s)),
        };
    checkProgramHeader(r, ph, is64);
    out.push(ph);
  }
  return out;
}

function checkProgramHeader(r: BinaryReader, ph: ProgramHeader, is64: boolean): void {
  const s = `program header ${ph.index}`;
  if (ph.filesz > 0n) r.check(ph.offset, ph.filesz, `${s} (p_offset ${hex(ph.offset)}, p_filesz ${hex(ph.filesz)})`);
  if (ph.type !== PT.LOAD) return;
  if (ph.filesz > ph.memsz) {
    throw elfError(r.file, s, `PT_LOAD p_filesz ${hex(ph.filesz)} is larger than p_memsz ${hex(ph.memsz)}`);
  }
  const limit = is64 ? U64_LIMIT : 1n << 32n;
  if (ph.vaddr + ph.memsz > limit || ph.paddr + ph.memsz > limit) {
    throw elfError(r.file, s, `PT_LOAD [${hex(ph.paddr)} + ${hex(ph.memsz)}] wraps past the end of the address space`);
  }
}

export function readSectionHeaders(r: BinaryReader, h: ElfHeader): SectionHeader[] {
  if (h.shnum === 0) return [];
  const is64 = h.class === 64;
  const tableSize = BigInt(h.shnum) * BigInt(h.shentsize);
  r.check(h.shoff, tableSize, `section header table (${h.shnum} entries at ${hex(h.shoff)})`);
  const raw: Omit<SectionHeader, 'name'>[] = [];
  for (let i = 0; i < h.shnum; i++) {
    const at = h.shoff + BigInt(i) * BigInt(h.shentsize);
    const s = `section header ${i}`;
    const sh = is64
      ? {
          index: i, nameOffset: r.u32(at, s), type: r.u32(at + 4n, s), flags: r.u64(at + 8n, s),
          addr: r.u64(at + 16n, s), offset: r.u64(at + 24n, s), size: r.u64(at + 32n, s), link: r.u32(at + 40n, s),
          info: r.u32(at + 44n, s), addralign: r.u64(at + 48n, s), entsize: r.u64(at + 56n, s),
        }
      : {
          index: i, nameOffset: r.u32(at, s), type: r.u32(at + 4n, s), flags: BigInt(r.u32(at + 8n, s)),
          addr: BigInt(r.u32(at + 12n, s)), offset: BigInt(r.u32(at + 16n, s)), size: BigInt(r.u32(at + 20n, s)),
          link: r.u32(at + 24n, s), info: r.u32(at + 28n, s), addralign: BigInt(r.u32(at + 32n, s)),
          entsize: BigInt(r.u32(at + 36n, s)),
        };
    // Section 0 of a file with extended numbering carries counts, not a range of bytes.
    if (i > 0 && sh.type !== SHT.NOBITS && sh.type !== SHT.NULL && sh.size > 0n) {
      r.check(sh.offset, sh.size, `${s} (sh_offset ${hex(sh.offset)}, sh_size ${hex(sh.size)})`);
    }
    raw.push(sh);
  }
  return nameSections(r, h, raw);
}

function nameSections(r: BinaryReader, h: ElfHeader, raw: Omit<SectionHeader, 'name'>[]): SectionHeader[] {
  if (h.shstrndx === 0) return raw.map((sh) => ({...sh, name: ''}));
  const strtab = raw[h.shstrndx];
  if (strtab === undefined) {
    throw elfError(r.file, 'e_shstrndx', `${h.shstrndx} is not a section (the file has ${raw.length})`);
  }
  if (strtab.type === SHT.NOBITS) {
    throw elfError(r.file, `section name table (section ${h.shstrndx})`, 'is SHT_NOBITS and has no bytes');
  }
  const table = r.slice(strtab.offset, strtab.size, `section name table (section ${h.shstrndx})`);
  return raw.map((sh) => ({
    ...sh,
    name: readCString(table, BigInt(sh.nameOffset), r.file, `section header ${sh.index} sh_name`),
  }));
}
