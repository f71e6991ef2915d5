/**
 * Symbols as FreeBSD's loader finds them in a kernel or an ET_DYN module: through the dynamic section, never the
 * section headers (stand/common/load_elf.c __elfN(loadimage) and __elfN(lookup_symbol)):
 *   - the first PT_DYNAMIC's entries are read from the loaded image; DT_HASH, DT_SYMTAB, DT_STRTAB and DT_STRSZ
 *     are addresses in it (link addresses here, read through the PT_LOADs' file bytes); without all four, or with
 *     DT_STRSZ 0, the loader looks nothing up;
 *   - the SysV hash table is { Elf_Hashelt nbucket, nchain; buckets[nbucket]; chains[nchain] } (Elf_Hashelt is 32
 *     bits on amd64 and arm64), keyed by elf_hash(name);
 *   - a lookup follows buckets[hash % nbucket] then chains[]: an index >= nchain or a symbol with st_name 0 on the
 *     way is a "corrupt symbol table" and the lookup fails; the first symbol with the name is the answer, taken
 *     only if st_shndx != SHN_UNDEF, st_value != 0 and its type is the one asked for (STT_NOTYPE for the
 *     __start_/__stop_ linker set bounds, STT_OBJECT for amd64 `kernphys`).
 * A file whose tables cannot be read is malformed (exit 3); a lookup that fails says why.
 */
import {BinaryReader, elfError} from './binary-reader.js';
import {PT, SHN} from './constants.js';
import {DT} from './dynamic.js';
import type {ElfFile} from './elf-file.js';
import {readSymbolEntry, type ElfSymbol} from './symbols.js';
import {hex} from '../errors.js';

export type DynamicLookup = {readonly symbol: ElfSymbol} | {readonly missing: string};

export interface DynamicSymbolTable {
  readonly nbucket: number;
  readonly nchain: number;
  lookup(name: string, type: number): DynamicLookup;
}

/** load_elf.c elf_hash: the SysV ELF hash. */
export function elfHash(name: string): number {
  let h = 0;
  for (const c of Buffer.from(name, 'latin1')) {
    h = ((h << 4) + c) >>> 0;
    const g = h & 0xf0000000;
    if (g !== 0) h ^= g >>> 24;
    h = (h & ~g) >>> 0;
  }
  return h;
}

/** Where link address `vaddr` (and `size` bytes after it) lies in the file, through the PT_LOAD holding it. */
function fileOffset(elf: ElfFile, vaddr: bigint, size: bigint, what: string): bigint {
  const ph = elf.loadSegments.find((p) => vaddr >= p.vaddr && vaddr + size <= p.vaddr + p.filesz);
  if (ph === undefined) throw elfError(elf.file, what, `${hex(vaddr)} (+${hex(size)}) is not in the file bytes of any PT_LOAD`);
  return ph.offset + (vaddr - ph.vaddr);
}

/** The file's dynamic symbol table as the loader sees it, or undefined when the loader would look nothing up. */
export function dynamicSymbolTable(elf: ElfFile): DynamicSymbolTable | undefined {
  const ph = elf.programHeaders.find((p) => p.type === PT.DYNAMIC);
  if (ph === undefined || ph.filesz === 0n) return undefined;
  const tags = new Map<bigint, bigint>();
  for (const e of elf.dynamic()) if (!tags.has(e.tag)) tags.set(e.tag, e.value);
  const hash = tags.get(DT.HASH);
  const symtab = tags.get(DT.SYMTAB);
  const strtab = tags.get(DT.STRTAB);
  const strsz = tags.get(DT.STRSZ) ?? 0n;
  if (hash === undefined || symtab === undefined || strtab === undefined || strsz === 0n) return undefined;

  const r: BinaryReader = elf.reader;
  const hashAt = fileOffset(elf, hash, 8n, 'DT_HASH');
  const nbucket = r.u32(hashAt, 'DT_HASH nbucket');
  const nchain = r.u32(hashAt + 4n, 'DT_HASH nchain');
  if (nbucket === 0) throw elfError(elf.file, 'DT_HASH', 'nbucket is 0');
  fileOffset(elf, hash, 8n + 4n * BigInt(nbucket + nchain), 'DT_HASH buckets and chains');
  const strings = r.slice(fileOffset(elf, strtab, strsz, 'DT_STRTAB'), strsz, 'DT_STRTAB');
  const entsize = elf.is64 ? 24n : 16n;

  const symbolAt = (index: number): ElfSymbol => {
    const what = `DT_SYMTAB entry ${index}`;
    const at = fileOffset(elf, symtab + BigInt(index) * entsize, entsize, what);
    return readSymbolEntry(r, elf.is64, at, index, strings, what);
  };

  return {
    nbucket, nchain,
    lookup(name: string, type: number): DynamicLookup {
      let index = r.u32(hashAt + 8n + 4n * BigInt(elfHash(name) % nbucket), 'DT_HASH bucket');
      for (let steps = 0; index !== 0; steps++) {
        if (index >= nchain || steps > nchain) return {missing: `corrupt symbol table: the chain for "${name}" reaches index ${index} (nchain ${nchain})`};
        const sym = symbolAt(index);
        if (sym.name === '') return {missing: `corrupt symbol table: the chain for "${name}" reaches symbol ${index}, which has no name`};
        if (sym.name === name) {
          if (sym.shndx !== SHN.UNDEF && sym.value !== 0n && sym.type === type) return {symbol: sym};
          return {missing: `"${name}" (symbol ${index}) is undefined, 0 or of type ${sym.type}, not ${type}`};
        }
        index = r.u32(hashAt + 8n + 4n * BigInt(nbucket + index), 'DT_HASH chain');
      }
      return {missing: `"${name}" is not in the DT_HASH table`};
    },
  };
}
