/**
 * Kernels (ET_EXEC) and ET_DYN modules, laid out as stand/common/load_elf.c __elfN(loadfile_raw) and
 * __elfN(loadimage) do:
 *   kernel: dest = e_entry & ~PAGE_MASK; off = -(dest & 0xffffffffff000000) on amd64 (so KERNBASE+2M -> 0x200000),
 *           off = 0 on arm64 (loader addresses are kernel VAs);
 *   module: dest = roundup(loadaddr, PAGE_SIZE); off = dest.
 * Each PT_LOAD (file order) goes to p_vaddr + off with bss zeroed; lastaddr is rounded to 8 and the symbol block
 * follows. Metadata added, in order: SHDR, [CTORS_ADDR, CTORS_SIZE], SSYM, ESYM, DYNAMIC, ELFHDR; the loader
 * prepends each, so they are emitted in reverse.
 */
import {basename} from 'node:path';
import {ET, PT} from '../../elf/constants.js';
import type {ElfFile} from '../../elf/elf-file.js';
import {dynamicSymbolTable} from '../../elf/dynamic-symbols.js';
import {loaderSetBounds, readModuleMetadata} from '../../elf/freebsd.js';
import {STT} from '../../elf/symbols.js';
import {KexecError, hex} from '../../errors.js';
import {KERNTYPE, MODINFOMD, MODTYPE, PAGE_SIZE} from './constants.js';
import {alignUp, U64_MAX} from '../../memory/range.js';
import {encode} from './metadata-encoder.js';
import {fakeModuleName, type LoaderPiece, type MetadataRecord, type PreloadedFile} from './preloaded-file.js';
import {symbolBlock} from './symbols-block.js';

export interface ElfLayoutOptions {
  readonly arch: 'amd64' | 'arm64';
  /** MODINFO_NAME. */
  readonly name: string;
  readonly args?: string;
  /** Where the previous file ended (modules only). */
  readonly loadaddr: bigint;
  readonly symbols: boolean;
}

export function layoutElfFile(elf: ElfFile, o: ElfLayoutOptions): PreloadedFile & {off: bigint} {
  const isKernel = elf.header.type === ET.EXEC;
  if (!isKernel && elf.header.type !== ET.DYN) {
    throw new KexecError('badInput', `${elf.file}: not an ET_EXEC kernel or ET_DYN module`, {reason: 'not-bootable'});
  }
  const label = basename(elf.file);
  let off: bigint;
  if (isKernel) {
    const dest = elf.header.entry & ~(PAGE_SIZE - 1n);
    if (dest === 0n) throw new KexecError('badInput', `${elf.file}: e_entry ${hex(elf.header.entry)}: not a kernel (maybe a static binary?)`, {reason: 'not-a-kernel'});
    off = o.arch === 'amd64' ? (-(dest & 0xffffffffff000000n)) & U64_MAX : 0n;
  } else {
    off = alignUp(o.loadaddr, PAGE_SIZE);
  }
  const phEnd = elf.header.phoff + BigInt(elf.header.phnum * elf.header.phentsize);
  if (phEnd > PAGE_SIZE) {
    throw new KexecError('badInput', `${elf.file}: program headers end at ${hex(phEnd)}, past the first page the loader reads`, {reason: 'elf-layout'});
  }

  const pieces: LoaderPiece[] = [];
  let first: bigint | undefined;
  let last = 0n;
  for (const ph of elf.programHeaders) {
    if (ph.type !== PT.LOAD) continue;
    const at = (ph.vaddr + off) & U64_MAX;
    pieces.push({label: `${label} PT_LOAD ${ph.index}`, at, data: elf.segmentBytes(ph), memsz: ph.memsz});
    if (first === undefined || at < first) first = at;
    if (at + ph.memsz > last) last = at + ph.memsz;
  }
  if (first === undefined) throw new KexecError('badInput', `${elf.file}: has no PT_LOAD segments`, {reason: 'empty-image'});
  last = alignUp(last, 8n);

  const added: MetadataRecord[] = [];
  const h = elf.header;
  if (h.shnum > 0 && h.shoff !== 0n) {
    added.push({type: MODINFOMD.SHDR, data: elf.reader.slice(h.shoff, BigInt(h.shnum * h.shentsize), 'section header table')});
    const ctors = elf.sections.find((s) => s.name === '.ctors');
    if (ctors !== undefined) {
      added.push({type: MODINFOMD.CTORS_ADDR, data: encode.u64(ctors.addr)}, {type: MODINFOMD.CTORS_SIZE, data: encode.u64(ctors.size)});
    }
    const block = o.symbols ? symbolBlock(elf, last, label) : undefined;
    if (block !== undefined) {
      pieces.push(...block.pieces);
      added.push({type: MODINFOMD.SSYM, data: encode.u64(block.ssym)}, {type: MODINFOMD.ESYM, data: encode.u64(block.esym)});
      last = block.esym;
    }
  }
  const dynamic = elf.programHeaders.find((p) => p.type === PT.DYNAMIC);
  if (dynamic !== undefined) added.push({type: MODINFOMD.DYNAMIC, data: encode.u64(dynamic.vaddr)});
  added.push({type: MODINFOMD.ELFHDR, data: elf.reader.slice(0n, 64n, 'ELF header')});

  const set = loaderSetBounds(elf);
  if (set.table && 'missing' in set) {
    throw new KexecError('badInput', `${elf.file}: PT_DYNAMIC: ${set.missing}; FreeBSD's loader looks the modmetadata_set bounds up there and refuses the file (stand/common/load_elf.c)`, {
      reason: 'elf-symbols', hint: 'link it as FreeBSD links kernels and modules: the __start_/__stop_set_modmetadata_set symbols exported through a SysV DT_HASH table',
    });
  }
  const md = readModuleMetadata(elf);
  const provides = md.versions.length > 0 ? md.versions : [{name: fakeModuleName(o.name), version: 1}];
  return {
    name: o.name,
    type: isKernel ? KERNTYPE : MODTYPE,
    ...(o.args === undefined ? {} : {args: o.args}),
    addr: first,
    size: last - first,
    pieces,
    metadata: added.reverse(),
    provides,
    // A kernel must not depend on anything (load_elf.c ignores MDT_DEPEND for it).
    depends: isKernel ? [] : md.depends,
    off,
  };
}

/**
 * amd64 kernels must be physically relocatable to boot away from 2 MiB (loader.efi(8), "amd64 Nocopy"). The loader
 * decides that by looking `kernphys` (STT_OBJECT) up through DT_HASH (load_elf.c is_kernphys_relocatable); kernels
 * without a dynamic symbol table (test fixtures) are judged by their .symtab.
 */
export function requireKernphys(elf: ElfFile): void {
  const dyn = dynamicSymbolTable(elf);
  const found = dyn === undefined ? elf.symbols().some((s) => s.name === 'kernphys') : 'symbol' in dyn.lookup('kernphys', STT.OBJECT);
  if (!found) {
    throw new KexecError(
      'plan',
      `${elf.file}: has no "kernphys" symbol: this amd64 kernel must be loaded at physical 2 MiB, where the running kernel sits, so kexec cannot boot it`,
      {reason: 'kernel-not-relocatable', hint: 'FreeBSD 13.1 and later kernels export kernphys; stripped kernels lose it (keep the symbol table)'},
    );
  }
}
