/**
 * Symbol tables (gABI "Symbol Table"): SHT_SYMTAB and SHT_DYNSYM, read only when asked for (a kernel can carry
 * tens of thousands of symbols and most commands never need them). Names come from the table's sh_link string
 * table, which must be a real SHT_STRTAB with bytes.
 */
import {BinaryReader, elfError, readCString} from './binary-reader.js';
import {SHT} from './constants.js';
import type {SectionHeader} from './tables.js';
import {hex} from '../errors.js';

export interface ElfSymbol {
  readonly index: number;
  readonly name: string;
  readonly value: bigint;
  readonly size: bigint;
  readonly bind: number;
  readonly type: number;
  readonly other: number;
  readonly shndx: number;
}

export const STB = {LOCAL: 0, GLOBAL: 1, WEAK: 2} as const;
export const STT = {NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4} as const;

export function readSymbols(r: BinaryReader, is64: boolean, sections: readonly SectionHeader[], table: SectionHeader): ElfSymbol[] {
  const s = `symbol table ${table.name || `section ${table.index}`}`;
  const entsize = is64 ? 24n : 16n;
  if (table.type === SHT.NOBITS || table.size === 0n) return [];
  if (table.entsize !== entsize && table.entsize !== 0n) {
    throw elfError(r.file, s, `sh_entsize ${hex(table.entsize)} does not match ELF${is64 ? 64 : 32} symbols (${hex(entsize)})`);
  }
  if (table.size % entsize !== 0n) {
    throw elfError(r.file, s, `sh_size ${hex(table.size)} is not a multiple of the symbol size ${hex(entsize)}`);
  }
  const strSection = sections[table.link];
  if (strSection === undefined || strSection.type !== SHT.STRTAB) {
    throw elfError(r.file, s, `sh_link ${table.link} is not a string table`);
  }
  const strings = strSection.type === SHT.STRTAB && strSection.size > 0n
    ? r.slice(strSection.offset, strSection.size, `string table ${strSection.name}`)
    : new Uint8Array(0);
  const count = Number(table.size / entsize);
  const out: ElfSymbol[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const at = table.offset + BigInt(i) * entsize;
    const es = `${s} entry ${i}`;
    out[i] = readSymbolEntry(r, is64, at, i, strings, es);
  }
  return out;
}

/** One Elf32_Sym / Elf64_Sym at file offset `at`, its name from `strings` (a string table's bytes). */
export function readSymbolEntry(r: BinaryReader, is64: boolean, at: bigint, index: number, strings: Uint8Array, what: string): ElfSymbol {
  const nameOff = r.u32(at, what);
  let value: bigint, size: bigint, info: number, other: number, shndx: number;
  if (is64) {
    info = r.u8(at + 4n, what); other = r.u8(at + 5n, what); shndx = r.u16(at + 6n, what);
    value = r.u64(at + 8n, what); size = r.u64(at + 16n, what);
  } else {
    value = BigInt(r.u32(at + 4n, what)); size = BigInt(r.u32(at + 8n, what));
    info = r.u8(at + 12n, what); other = r.u8(at + 13n, what); shndx = r.u16(at + 14n, what);
  }
  const name = nameOff === 0 ? '' : readCString(strings, BigInt(nameOff), r.file, `${what} st_name`);
  return {index, name, value, size, bind: info >> 4, type: info & 0xf, other, shndx};
}
