/**
 * The dynamic section (gABI "Dynamic Section"): (d_tag, d_val) pairs up to DT_NULL. FreeBSD ET_DYN modules
 * (i386, arm64, riscv) find their relocations here, and the loader finds a kernel's or module's symbols through DT_HASH,
 * DT_SYMTAB, DT_STRTAB and DT_STRSZ (dynamic-symbols.ts).
 */
import {BinaryReader} from './binary-reader.js';

export interface DynamicEntry {
  readonly tag: bigint;
  readonly value: bigint;
}

export const DT = {
  NULL: 0n, NEEDED: 1n, PLTRELSZ: 2n, HASH: 4n, STRTAB: 5n, SYMTAB: 6n, RELA: 7n, RELASZ: 8n, RELAENT: 9n,
  STRSZ: 10n, SYMENT: 11n, REL: 17n, RELSZ: 18n, RELENT: 19n, PLTREL: 20n, JMPREL: 23n,
} as const;

export function readDynamic(r: BinaryReader, is64: boolean, offset: bigint, size: bigint, what: string): DynamicEntry[] {
  const ent = is64 ? 16n : 8n;
  r.check(offset, size, what);
  const out: DynamicEntry[] = [];
  for (let at = offset; at + ent <= offset + size; at += ent) {
    const s = `${what} entry ${out.length}`;
    const tag = is64 ? r.i64(at, s) : BigInt(r.i32(at, s));
    const value = r.word(at + (is64 ? 8n : 4n), is64, s);
    if (tag === DT.NULL) break;
    out.push({tag, value});
  }
  return out;
}
