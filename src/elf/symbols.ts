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
    const nameOff = r.u32(at, es);
    let value: bigint, size: bigint, info: number, other: number, shndx: number;
    if (is64) {
      info = r.u8(at + 4n, es); other = r.u8(at + 5n, es); shndx = r.u16(at + 6n, es);
      value = r.u64(at + 8n, es); size = r.u64(at + 16n, es);
    } else {
      value = BigInt(r.u32(at + 4n, es)); size = BigInt(r.u32(at + 8n, es));
      info = r.u8(at + 12n, es); other = r.u8(at + 13n, es); shndx = r.u16(at + 14n, es);
    }
    const name = nameOff === 0 ? '' : readCString(strings, BigInt(nameOff), r.file, `${es} st_name`);
    out[i] = {index: i, name, value, size, bind: info >> 4, type: info & 0xf, other, shndx};
  }
  return out;
}
