/**
 * A minimal ELF64 little-endian reader for the FreeBSD hand-off tests: the file header, program headers and
 * section headers (Elf64_Ehdr / Elf64_Phdr / Elf64_Shdr, sys/sys/elf64.h), straight from the bytes. It shares no
 * code with src/elf so a decoder built on it cannot agree with a bug of kexec-ts's own reader.
 */

export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const SHT = {NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, NOBITS: 8, REL: 9, INIT_ARRAY: 14, FINI_ARRAY: 15, X86_64_UNWIND: 0x70000001} as const;
export const SHF_ALLOC = 0x2n;
export const ET = {REL: 1, EXEC: 2, DYN: 3} as const;

export interface Ehdr {
  type: number; machine: number; entry: bigint; phoff: bigint; shoff: bigint;
  phentsize: number; phnum: number; shentsize: number; shnum: number; shstrndx: number;
}

export interface Phdr {
  index: number; type: number; flags: number; offset: bigint; vaddr: bigint; paddr: bigint; filesz: bigint; memsz: bigint;
}

export interface Shdr {
  index: number; nameOff: number; name: string; type: number; flags: bigint; addr: bigint; offset: bigint; size: bigint;
  link: number; info: number; addralign: bigint; entsize: bigint;
}

export interface Elf64 {
  bytes: Uint8Array;
  eh: Ehdr;
  ph: Phdr[];
  sh: Shdr[];
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Elf64_Ehdr from the first 64 bytes; throws unless it is ELF64 little-endian. */
export function parseEhdr(b: Uint8Array): Ehdr {
  if (b.length < 64 || b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) throw new Error('not an ELF header');
  if (b[4] !== 2 || b[5] !== 1) throw new Error(`not ELF64 little-endian (class ${b[4]}, data ${b[5]})`);
  const d = view(b);
  return {
    type: d.getUint16(16, true), machine: d.getUint16(18, true), entry: d.getBigUint64(24, true),
    phoff: d.getBigUint64(32, true), shoff: d.getBigUint64(40, true), phentsize: d.getUint16(54, true),
    phnum: d.getUint16(56, true), shentsize: d.getUint16(58, true), shnum: d.getUint16(60, true), shstrndx: d.getUint16(62, true),
  };
}

/** A section header table (e.g. a MODINFOMD_SHDR record); names are left empty (see nameSections). */
export function parseShdrTable(table: Uint8Array, entsize = 64): Shdr[] {
  if (entsize !== 64 || table.length % 64 !== 0) throw new Error(`section header table of ${table.length} bytes, entsize ${entsize}`);
  const d = view(table);
  const out: Shdr[] = [];
  for (let i = 0; i < table.length / 64; i++) {
    const p = i * 64;
    out.push({
      index: i, nameOff: d.getUint32(p, true), name: '', type: d.getUint32(p + 4, true), flags: d.getBigUint64(p + 8, true),
      addr: d.getBigUint64(p + 16, true), offset: d.getBigUint64(p + 24, true), size: d.getBigUint64(p + 32, true),
      link: d.getUint32(p + 40, true), info: d.getUint32(p + 44, true), addralign: d.getBigUint64(p + 48, true),
      entsize: d.getBigUint64(p + 56, true),
    });
  }
  return out;
}

/** Fills in the names of `sh` from section `shstrndx` of `file`. */
export function nameSections(file: Uint8Array, sh: Shdr[], shstrndx: number): void {
  const st = sh[shstrndx];
  if (st === undefined || st.type !== SHT.STRTAB) return;
  for (const s of sh) {
    const start = Number(st.offset) + s.nameOff;
    let end = start;
    while (end < file.length && file[end] !== 0) end++;
    s.name = Buffer.from(file.subarray(start, end)).toString('latin1');
  }
}

export function readElf64(bytes: Uint8Array): Elf64 {
  const eh = parseEhdr(bytes);
  const d = view(bytes);
  const ph: Phdr[] = [];
  for (let i = 0; i < eh.phnum; i++) {
    const p = Number(eh.phoff) + i * eh.phentsize;
    ph.push({
      index: i, type: d.getUint32(p, true), flags: d.getUint32(p + 4, true), offset: d.getBigUint64(p + 8, true),
      vaddr: d.getBigUint64(p + 16, true), paddr: d.getBigUint64(p + 24, true), filesz: d.getBigUint64(p + 32, true),
      memsz: d.getBigUint64(p + 40, true),
    });
  }
  const sh = eh.shnum === 0 ? [] : parseShdrTable(bytes.subarray(Number(eh.shoff), Number(eh.shoff) + eh.shnum * eh.shentsize), eh.shentsize);
  nameSections(bytes, sh, eh.shstrndx);
  return {bytes, eh, ph, sh};
}

/** The file bytes of a section (empty for NOBITS). */
export function sectionBytes(elf: Elf64, s: Shdr): Uint8Array {
  if (s.type === SHT.NOBITS) return new Uint8Array(0);
  return elf.bytes.subarray(Number(s.offset), Number(s.offset + s.size));
}

export function roundup(v: bigint, a: bigint): bigint {
  if (a <= 1n) return v;
  return ((v + a - 1n) / a) * a;
}
