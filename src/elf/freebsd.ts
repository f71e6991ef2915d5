/**
 * FreeBSD facts carried by an ELF file: OSABI 9, the ABI tag note (NT_FREEBSD_ABI_TAG, sys/sys/elf_common.h)
 * holding __FreeBSD_version, the "/red/herring" PT_INTERP of kernels (sys/conf/ldscript.*), and the module
 * metadata of the `modmetadata_set` linker set (sys/sys/module.h; read by stand/common/load_elf.c
 * parse_modmetadata for kernels and ET_DYN modules, load_elf_obj.c obj_parse_modmetadata for ET_REL modules).
 *
 *   struct mod_metadata { int md_version; int md_type; const void *md_data; const char *md_cval; }
 *   MDT_DEPEND 1 -> md_data: struct mod_depend { int md_ver_minimum, md_ver_preferred, md_ver_maximum; }
 *   MDT_MODULE 2 -> md_cval: module name
 *   MDT_VERSION 3 -> md_data: struct mod_version { int mv_version; }
 */
import {elfError, readCString} from './binary-reader.js';
import {ELFOSABI_FREEBSD, ET} from './constants.js';
import {dynamicSymbolTable, type DynamicLookup} from './dynamic-symbols.js';
import type {ElfFile} from './elf-file.js';
import {NT_FREEBSD_ABI_TAG} from './notes.js';
import {createPointerResolver, type Place} from './pointers.js';
import {STT} from './symbols.js';

export const MDT = {DEPEND: 1, MODULE: 2, VERSION: 3, PNP_INFO: 4} as const;
const MDT_SETNAME = 'set_modmetadata_set';
export const FREEBSD_KERNEL_INTERP = '/red/herring';

export interface ModuleDepend {
  readonly name: string;
  readonly min: number;
  readonly preferred: number;
  readonly max: number;
}

export interface ModuleMetadata {
  /** MDT_MODULE names in set order. */
  readonly modules: string[];
  /** MDT_VERSION entries: the names other modules can depend on, with their versions. */
  readonly versions: {name: string; version: number}[];
  readonly depends: ModuleDepend[];
}

export interface FreeBsdFacts {
  readonly osabi: boolean;
  readonly version: number | null;
  readonly interpreter: string | null;
}

/** FreeBSD markers of the file, or null when it carries none (OSABI, ABI tag note, kernel interpreter). */
export function freebsdFacts(elf: ElfFile): FreeBsdFacts | null {
  const osabi = elf.header.osabi === ELFOSABI_FREEBSD;
  const note = elf.notes().find((n) => n.name === 'FreeBSD' && n.type === NT_FREEBSD_ABI_TAG && n.desc.length >= 4);
  let version: number | null = null;
  if (note !== undefined) {
    const dv = new DataView(note.desc.buffer, note.desc.byteOffset, note.desc.byteLength);
    version = dv.getUint32(0, elf.header.littleEndian);
  }
  const interpreter = elf.interpreter();
  if (!osabi && version === null && interpreter !== FREEBSD_KERNEL_INTERP) return null;
  return {osabi, version, interpreter};
}

/** Decodes every mod_metadata record of the file's modmetadata_set (empty when it has none). */
export function readModuleMetadata(elf: ElfFile): ModuleMetadata {
  const result: ModuleMetadata = {modules: [], versions: [], depends: []};
  const resolver = createPointerResolver(elf);
  const set = findSet(elf);
  if (set === undefined) return result;
  const ps = elf.is64 ? 8n : 4n;
  const count = set.size / ps;
  for (let i = 0n; i < count; i++) {
    const what = `${MDT_SETNAME} entry ${i}`;
    const md = resolver.follow({...set.start, offset: set.start.offset + i * ps}, what);
    const view = resolver.bytes(md, 8n + 2n * ps, `${what}: struct mod_metadata`);
    const dv = new DataView(view.buffer, view.byteOffset, view.byteLength);
    const type = dv.getInt32(4, elf.header.littleEndian);
    const cvalPlace = resolver.follow({...md, offset: md.offset + 8n + ps}, `${what}: md_cval`);
    const container = resolver.containerBytes(cvalPlace, `${what}: md_cval`);
    const name = readCString(container.bytes, container.offset, elf.file, `${what}: md_cval string`);
    if (type === MDT.MODULE) {
      result.modules.push(name);
    } else if (type === MDT.VERSION) {
      const data = readInts(resolver, resolver.follow({...md, offset: md.offset + 8n}, `${what}: md_data`), 1, elf, what);
      result.versions.push({name, version: data[0] ?? 0});
    } else if (type === MDT.DEPEND) {
      const data = readInts(resolver, resolver.follow({...md, offset: md.offset + 8n}, `${what}: md_data`), 3, elf, what);
      result.depends.push({name, min: data[0] ?? 0, preferred: data[1] ?? 0, max: data[2] ?? 0});
    }
  }
  return result;
}

function readInts(resolver: ReturnType<typeof createPointerResolver>, at: Place, n: number, elf: ElfFile, what: string): number[] {
  const view = resolver.bytes(at, BigInt(4 * n), `${what}: md_data`);
  const dv = new DataView(view.buffer, view.byteOffset, view.byteLength);
  return Array.from({length: n}, (_, k) => dv.getInt32(4 * k, elf.header.littleEndian));
}

/**
 * How load_elf.c finds a kernel's or ET_DYN module's modmetadata_set: __start_/__stop_set_modmetadata_set
 * (STT_NOTYPE) through the DT_HASH table. `table` is false when the file has no usable dynamic symbol table (the
 * loader then registers no modules); otherwise either the bounds or why the loader cannot find them, in which case
 * it refuses to load the file (the kernel's f_size becomes 0).
 */
export type LoaderSetLookup =
  | {readonly table: false}
  | {readonly table: true; readonly start: bigint; readonly stop: bigint}
  | {readonly table: true; readonly missing: string};

export function loaderSetBounds(elf: ElfFile): LoaderSetLookup {
  const dyn = dynamicSymbolTable(elf);
  if (dyn === undefined) return {table: false};
  const start: DynamicLookup = dyn.lookup(`__start_${MDT_SETNAME}`, STT.NOTYPE);
  if ('missing' in start) return {table: true, missing: start.missing};
  const stop: DynamicLookup = dyn.lookup(`__stop_${MDT_SETNAME}`, STT.NOTYPE);
  if ('missing' in stop) return {table: true, missing: stop.missing};
  return {table: true, start: start.symbol.value, stop: stop.symbol.value};
}

/**
 * Where the set's pointer array lives and how many bytes it has. ET_REL: the section (load_elf_obj.c). Kernels and
 * ET_DYN modules: the loader's DT_HASH lookup when the file has a dynamic symbol table; the synthetic files of
 * tests (and stripped oddities) without one fall back to .symtab, .dynsym, then the section, so inspect still
 * shows what they declare. A file whose table lacks the bounds has no set the loader would read.
 */
function findSet(elf: ElfFile): {start: Place; size: bigint} | undefined {
  if (elf.header.type === ET.REL) {
    const sec = elf.sectionByName(MDT_SETNAME);
    if (sec === undefined) return undefined;
    return {start: {section: sec.index, offset: 0n}, size: sec.size};
  }
  const loader = loaderSetBounds(elf);
  let bounds: {start: bigint; stop: bigint} | undefined;
  if (loader.table) {
    if ('missing' in loader) return undefined;
    bounds = loader;
  } else {
    const start = elf.findSymbol(`__start_${MDT_SETNAME}`);
    const stop = elf.findSymbol(`__stop_${MDT_SETNAME}`);
    if (start !== undefined && stop !== undefined) bounds = {start: start.value, stop: stop.value};
  }
  if (bounds !== undefined) {
    if (bounds.stop < bounds.start) {
      throw elfError(elf.file, `__stop_${MDT_SETNAME}`, `is below __start_${MDT_SETNAME}`);
    }
    return {start: {section: -1, offset: bounds.start}, size: bounds.stop - bounds.start};
  }
  const sec = elf.sectionByName(MDT_SETNAME);
  return sec === undefined ? undefined : {start: {section: -1, offset: sec.addr}, size: sec.size};
}
