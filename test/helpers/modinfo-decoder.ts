/**
 * An independent decoder for FreeBSD preload metadata (what the loader leaves at modulep; stand/common/modinfo.c
 * md_copymodules, sys/kern/subr_module.c preload_search_*), read from rebuilt physical memory:
 *   record := u32 type; u32 size; data[size]; pad to roundup(size, 8)        (64-bit kernels)
 *   per file: MODINFO_NAME (first), MODINFO_TYPE, [MODINFO_ARGS], MODINFO_ADDR (u64), MODINFO_SIZE (u64),
 *             then MODINFO_METADATA (0x8000) | MODINFOMD_* records
 *   end := MODINFO_END {0, 0}
 * Constants from sys/sys/linker.h, sys/x86/include/metadata.h and sys/arm64/include/metadata.h (arm64 numbers
 * differ). Also the environment block at ENVP ("name=value\0"... "\0"). Nothing here comes from src/image.
 */
import {parseEhdr, parseShdrTable, type Ehdr, type Shdr} from './elf64-lite.js';
import type {PhysicalMemory} from './physical-memory.js';

export const MODINFO = {END: 0x0000, NAME: 0x0001, TYPE: 0x0002, ADDR: 0x0003, SIZE: 0x0004, EMPTY: 0x0005, ARGS: 0x0006, METADATA: 0x8000} as const;
export const MODINFOMD = {
  ELFHDR: 0x0002, SSYM: 0x0003, ESYM: 0x0004, DYNAMIC: 0x0005, ENVP: 0x0006, HOWTO: 0x0007, KERNEND: 0x0008, SHDR: 0x0009,
  CTORS_ADDR: 0x000a, CTORS_SIZE: 0x000b, FW_HANDLE: 0x000c, KEYBUF: 0x000d, FONT: 0x000e, SPLASH: 0x000f,
} as const;
export const MODINFOMD_X86 = {SMAP: 0x1001, SMAP_XATTR: 0x1002, DTBP: 0x1003, EFI_MAP: 0x1004, EFI_FB: 0x1005, MODULEP: 0x1006, VBE_FB: 0x1007, EFI_ARCH: 0x1008} as const;
export const MODINFOMD_ARM64 = {EFI_MAP: 0x1001, DTBP: 0x1002, EFI_FB: 0x1003} as const;

export const U64_MASK = (1n << 64n) - 1n;

/** A recorded (loader) address as a physical address: recorded + physOffset mod 2^64. */
export function toPhys(recorded: bigint, physOffset: bigint): bigint {
  return (recorded + physOffset) & U64_MASK;
}

export interface ModinfoRecord {
  /** The type as stored (MODINFOMD_* records carry 0x8000). */
  type: number;
  size: number;
  data: Uint8Array;
  /** Physical address of the record header. */
  pa: bigint;
}

export interface PreloadedFile {
  name: string;
  type: string;
  args?: string;
  addr: bigint;
  size: bigint;
  /** Every record of this file, NAME first, in block order. */
  records: ModinfoRecord[];
}

export interface PreloadMetadata {
  start: bigint;
  /** Physical address just past the MODINFO_END record. */
  end: bigint;
  records: ModinfoRecord[];
  files: PreloadedFile[];
}

const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

function cstr(r: ModinfoRecord, what: string): string {
  if (r.size === 0 || r.data[r.size - 1] !== 0) throw new Error(`${what} record at 0x${r.pa.toString(16)} is not NUL-terminated`);
  const body = r.data.subarray(0, r.size - 1);
  if (body.includes(0)) throw new Error(`${what} record at 0x${r.pa.toString(16)} has an embedded NUL (size ${r.size} != strlen + 1)`);
  return Buffer.from(body).toString('latin1');
}

export function u64Of(r: ModinfoRecord, what = `record 0x${r.type.toString(16)}`): bigint {
  if (r.size !== 8) throw new Error(`${what} has size ${r.size}, expected 8`);
  return dv(r.data).getBigUint64(0, true);
}

/** Walks the block at physical `pa` until MODINFO_END and groups the records per file. */
export function walkPreload(mem: PhysicalMemory, pa: bigint, limit = 16 << 20): PreloadMetadata {
  const records: ModinfoRecord[] = [];
  let at = pa;
  for (;;) {
    if (at - pa > BigInt(limit)) throw new Error(`no MODINFO_END within ${limit} bytes of 0x${pa.toString(16)}`);
    const type = mem.u32(at);
    const size = mem.u32(at + 4n);
    if (type === MODINFO.END && size === 0) {
      at += 8n;
      break;
    }
    records.push({type, size, data: mem.read(at + 8n, size), pa: at});
    at += 8n + BigInt(Math.ceil(size / 8) * 8);
  }
  const files: PreloadedFile[] = [];
  for (const r of records) {
    if (r.type === MODINFO.NAME) {
      files.push({name: cstr(r, 'MODINFO_NAME'), type: '', addr: 0n, size: 0n, records: [r]});
      continue;
    }
    const f = files[files.length - 1];
    if (f === undefined) throw new Error(`first record (type 0x${r.type.toString(16)} at 0x${r.pa.toString(16)}) is not MODINFO_NAME`);
    f.records.push(r);
    if (r.type === MODINFO.TYPE) f.type = cstr(r, 'MODINFO_TYPE');
    else if (r.type === MODINFO.ARGS) f.args = cstr(r, 'MODINFO_ARGS');
    else if (r.type === MODINFO.ADDR) f.addr = u64Of(r, 'MODINFO_ADDR');
    else if (r.type === MODINFO.SIZE) f.size = u64Of(r, 'MODINFO_SIZE');
  }
  return {start: pa, end: at, records, files};
}

/**
 * The file's record types as a string like "NAME TYPE ADDR SIZE MD MD...", for order checks: a file must read
 * /^NAME TYPE( ARGS)? ADDR SIZE( MD)*$/.
 */
export function recordShape(f: PreloadedFile): string {
  const names: Record<number, string> = {1: 'NAME', 2: 'TYPE', 3: 'ADDR', 4: 'SIZE', 5: 'EMPTY', 6: 'ARGS'};
  return f.records.map((r) => ((r.type & MODINFO.METADATA) !== 0 ? 'MD' : (names[r.type] ?? `?${r.type}`))).join(' ');
}

export interface SmapEntry {
  base: bigint;
  length: bigint;
  type: number;
}

export interface EfiMap {
  memorySize: bigint;
  descriptorSize: bigint;
  descriptorVersion: number;
  descriptors: {type: number; physStart: bigint; virtStart: bigint; pages: bigint; attribute: bigint}[];
}

export interface DecodedMetadata {
  /** MODINFOMD_* types (without 0x8000) in block order. */
  order: number[];
  elfhdr?: {raw: Uint8Array; header: Ehdr};
  shdr?: {raw: Uint8Array; sections: Shdr[]};
  ssym?: bigint;
  esym?: bigint;
  dynamic?: bigint;
  envp?: bigint;
  howto?: number;
  kernend?: bigint;
  modulep?: bigint;
  fwHandle?: bigint;
  dtbp?: bigint;
  smap?: SmapEntry[];
  efiMap?: EfiMap;
  /** Types this decoder does not know, for the record. */
  other: number[];
}

function decodeSmap(b: Uint8Array): SmapEntry[] {
  if (b.length % 20 !== 0) throw new Error(`SMAP of ${b.length} bytes is not a whole number of 20-byte struct bios_smap`);
  const d = dv(b);
  return Array.from({length: b.length / 20}, (_, i) => ({base: d.getBigUint64(i * 20, true), length: d.getBigUint64(i * 20 + 8, true), type: d.getUint32(i * 20 + 16, true)}));
}

function decodeEfiMap(b: Uint8Array): EfiMap {
  const d = dv(b);
  const header = 32; // roundup(sizeof(struct efi_map_header) = 24, 16)
  const memorySize = d.getBigUint64(0, true);
  const descriptorSize = d.getBigUint64(8, true);
  if (descriptorSize < 40n || BigInt(b.length) !== BigInt(header) + memorySize || memorySize % descriptorSize !== 0n) {
    throw new Error(`EFI map: ${b.length} bytes, memory_size ${memorySize}, descriptor_size ${descriptorSize} do not agree`);
  }
  const n = Number(memorySize / descriptorSize);
  const descriptors = Array.from({length: n}, (_, i) => {
    const p = header + i * Number(descriptorSize);
    return {type: d.getUint32(p, true), physStart: d.getBigUint64(p + 8, true), virtStart: d.getBigUint64(p + 16, true), pages: d.getBigUint64(p + 24, true), attribute: d.getBigUint64(p + 32, true)};
  });
  return {memorySize, descriptorSize, descriptorVersion: d.getUint32(16, true), descriptors};
}

/** Decodes a file's MODINFOMD records; throws on a duplicate or a record of the wrong size. */
export function decodeMetadata(f: PreloadedFile, arch: 'amd64' | 'arm64'): DecodedMetadata {
  const out: DecodedMetadata = {order: [], other: []};
  const seen = new Set<number>();
  for (const r of f.records) {
    if ((r.type & MODINFO.METADATA) === 0) continue;
    const t = r.type & ~MODINFO.METADATA;
    if (seen.has(t)) throw new Error(`${f.name}: metadata type 0x${t.toString(16)} appears twice`);
    seen.add(t);
    out.order.push(t);
    const x86 = arch === 'amd64';
    if (t === MODINFOMD.ELFHDR) {
      if (r.size !== 64) throw new Error(`${f.name}: ELFHDR of ${r.size} bytes`);
      out.elfhdr = {raw: r.data, header: parseEhdr(r.data)};
    } else if (t === MODINFOMD.SHDR) out.shdr = {raw: r.data, sections: parseShdrTable(r.data)};
    else if (t === MODINFOMD.SSYM) out.ssym = u64Of(r, 'SSYM');
    else if (t === MODINFOMD.ESYM) out.esym = u64Of(r, 'ESYM');
    else if (t === MODINFOMD.DYNAMIC) out.dynamic = u64Of(r, 'DYNAMIC');
    else if (t === MODINFOMD.ENVP) out.envp = u64Of(r, 'ENVP');
    else if (t === MODINFOMD.KERNEND) out.kernend = u64Of(r, 'KERNEND');
    else if (t === MODINFOMD.FW_HANDLE) out.fwHandle = u64Of(r, 'FW_HANDLE');
    else if (t === MODINFOMD.HOWTO) {
      if (r.size !== 4) throw new Error(`${f.name}: HOWTO of ${r.size} bytes, expected an int`);
      out.howto = dv(r.data).getUint32(0, true);
    } else if (x86 && t === MODINFOMD_X86.MODULEP) out.modulep = u64Of(r, 'MODULEP');
    else if (x86 && t === MODINFOMD_X86.SMAP) out.smap = decodeSmap(r.data);
    else if ((x86 && t === MODINFOMD_X86.EFI_MAP) || (!x86 && t === MODINFOMD_ARM64.EFI_MAP)) out.efiMap = decodeEfiMap(r.data);
    else if ((x86 && t === MODINFOMD_X86.DTBP) || (!x86 && t === MODINFOMD_ARM64.DTBP)) out.dtbp = u64Of(r, 'DTBP');
    else out.other.push(t);
  }
  return out;
}

/** The environment block at physical `pa`: "name=value\0" repeated, then "\0". */
export function readEnvironment(mem: PhysicalMemory, pa: bigint, max = 1 << 20): {vars: [string, string][]; size: number} {
  const vars: [string, string][] = [];
  let at = pa;
  for (;;) {
    if (at - pa > BigInt(max)) throw new Error(`environment at 0x${pa.toString(16)}: no terminating empty string within ${max} bytes`);
    const s = mem.cstring(at, max);
    at += BigInt(s.length + 1);
    if (s === '') break;
    const eq = s.indexOf('=');
    if (eq <= 0) throw new Error(`environment entry ${JSON.stringify(s)} is not name=value`);
    vars.push([s.slice(0, eq), s.slice(eq + 1)]);
  }
  return {vars, size: Number(at - pa)};
}
