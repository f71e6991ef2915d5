/**
 * REL and RELA entries (gABI "Relocation"). r_info splits as (sym << 8 | type) in ELF32 and (sym << 32 | type)
 * in ELF64. For REL the addend is implicit (stored at the place being relocated): callers that need it read it.
 */
import {BinaryReader, elfError} from './binary-reader.js';
import {SHT} from './constants.js';
import type {SectionHeader} from './tables.js';
import {hex} from '../errors.js';

export interface Relocation {
  readonly offset: bigint;
  readonly type: number;
  readonly sym: number;
  /** Explicit addend for RELA; undefined for REL (the addend is in the relocated word). */
  readonly addend: bigint | undefined;
}

/** Reads `count` REL/RELA entries at file offset `at` (used for sections and for DT_REL/DT_RELA tables). */
function readRelocationTable(r: BinaryReader, is64: boolean, rela: boolean, at: bigint, size: bigint, what: string): Relocation[] {
  const entsize = relocationEntrySize(is64, rela);
  if (size % entsize !== 0n) throw elfError(r.file, what, `size ${hex(size)} is not a multiple of the entry size ${hex(entsize)}`);
  r.check(at, size, what);
  const count = Number(size / entsize);
  const out: Relocation[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const e = at + BigInt(i) * entsize;
    const s = `${what} entry ${i}`;
    if (is64) {
      const info = r.u64(e + 8n, s);
      out[i] = {offset: r.u64(e, s), type: Number(info & 0xffffffffn), sym: Number(info >> 32n), addend: rela ? r.i64(e + 16n, s) : undefined};
    } else {
      const info = r.u32(e + 4n, s);
      out[i] = {offset: BigInt(r.u32(e, s)), type: info & 0xff, sym: info >>> 8, addend: rela ? BigInt(r.i32(e + 8n, s)) : undefined};
    }
  }
  return out;
}

function relocationEntrySize(is64: boolean, rela: boolean): bigint {
  if (is64) return rela ? 24n : 16n;
  return rela ? 12n : 8n;
}

export function readRelocationSection(r: BinaryReader, is64: boolean, section: SectionHeader): Relocation[] {
  const rela = section.type === SHT.RELA;
  const what = `relocation section ${section.name || section.index}`;
  if (section.type !== SHT.REL && !rela) throw elfError(r.file, what, 'is not SHT_REL or SHT_RELA');
  const want = relocationEntrySize(is64, rela);
  if (section.entsize !== 0n && section.entsize !== want) {
    throw elfError(r.file, what, `sh_entsize ${hex(section.entsize)} does not match (${hex(want)})`);
  }
  return readRelocationTable(r, is64, rela, section.offset, section.size, what);
}
