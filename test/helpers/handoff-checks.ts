/**
 * Checks of a FreeBSD hand-off read back from rebuilt physical memory with the independent decoder: the file
 * list, where each file sits, and that the bytes there are the file's (kernel and ET_DYN PT_LOADs and symbol
 * block as stand/common/load_elf.c places them; ET_REL sections as load_elf_obj.c does, checked against an
 * independent re-computation of the addresses). Expected values come from the input files' own bytes and the
 * reference notes (freebsd-layout.md sections 1 and 2), never from kexec-ts's encoder.
 */
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {ET, PT_DYNAMIC, PT_LOAD, SHF_ALLOC, SHT, readElf64, roundup, sectionBytes, type Elf64, type Shdr} from './elf64-lite.js';
import type {PlanRun} from './freebsd-plan-run.js';
import {MODINFOMD, decodeMetadata, recordShape, toPhys, walkPreload, type DecodedMetadata, type PreloadMetadata, type PreloadedFile} from './modinfo-decoder.js';

export const PAGE = 0x1000n;
const hx = (v: bigint): string => `0x${v.toString(16)}`;

export interface HandoffContext {
  run: PlanRun;
  arch: 'amd64' | 'arm64';
  physOffset: bigint;
  block: PreloadMetadata;
  files: PreloadedFile[];
  md: DecodedMetadata[];
  elfs: Elf64[];
}

/** Decodes the metadata at handoff.metadata and reads every named file from disk. */
export function decodeHandoff(run: PlanRun): HandoffContext {
  const arch = run.h.arch;
  const block = walkPreload(run.memory, BigInt(run.h.metadata));
  const md = block.files.map((f) => decodeMetadata(f, arch));
  const elfs = block.files.map((f) => readElf64(new Uint8Array(readFileSync(f.name))));
  return {run, arch, physOffset: BigInt(run.h.physOffset), block, files: block.files, md, elfs};
}

/** NAME first, the kernel first and alone, record order, names/types/ADDR/SIZE as the hand-off reports them. */
export function checkFileList(c: HandoffContext, moduleType: string): void {
  const first = c.block.records[0];
  assert.ok(first !== undefined && first.type === 1, 'the block starts with MODINFO_NAME');
  assert.equal(c.files.length, c.run.h.files.length, 'one file record group per hand-off file');
  assert.deepEqual(c.files.map((f) => f.name), c.run.h.files.map((f) => f.name), 'file names and order');
  assert.deepEqual(c.files.map((f) => f.name), c.run.plan.files, 'plan.files lists the same files');
  c.files.forEach((f, i) => {
    const shape = recordShape(f);
    assert.match(shape, /^NAME TYPE( ARGS)? ADDR SIZE( MD)*$/, `${f.name}: record order ${shape}`);
    assert.equal(f.type, i === 0 ? 'elf kernel' : moduleType, `${f.name}: MODINFO_TYPE`);
    const hf = c.run.h.files[i];
    assert.ok(hf !== undefined);
    assert.equal(f.type, hf.type);
    assert.equal(hx(f.addr), hf.addr, `${f.name}: ADDR equals handoff addr`);
    assert.equal(hx(f.size), hf.size, `${f.name}: SIZE equals handoff size`);
    assert.equal(hx(toPhys(f.addr, c.physOffset)), hf.physical, `${f.name}: handoff physical = ADDR + physOffset`);
  });
  assert.equal(BigInt(c.run.h.metadataSize), c.block.end - c.block.start, 'metadataSize is the walked block size including MODINFO_END');
}

/** Every file's [ADDR, ADDR + SIZE) is loaded memory; files are disjoint and chained page by page (module.c). */
export function checkPlacement(c: HandoffContext): void {
  let prevEnd: bigint | undefined;
  for (const f of c.files) {
    const pa = toPhys(f.addr, c.physOffset);
    assert.ok(f.size > 0n, `${f.name}: SIZE > 0`);
    assert.ok(c.run.memory.contains(pa, f.size), `${f.name}: [${hx(pa)}, +${hx(f.size)}) is inside loaded memory`);
    if (prevEnd !== undefined) {
      assert.ok(f.addr >= prevEnd, `${f.name} at ${hx(f.addr)} overlaps the previous file (ends ${hx(prevEnd)})`);
      assert.equal(f.addr, roundup(prevEnd, PAGE), `${f.name}: ADDR is the page after the previous file's end`);
    }
    prevEnd = f.addr + f.size;
  }
}

const diffAt = (a: Uint8Array, b: Uint8Array): number => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
};

function assertBytes(c: HandoffContext, pa: bigint, want: Uint8Array, what: string): void {
  const got = c.run.memory.read(pa, want.length);
  const i = diffAt(got, want);
  assert.equal(i, -1, `${what}: byte at ${hx(pa + BigInt(i))} is ${hx(BigInt(got[i] ?? 0))}, file has ${hx(BigInt(want[i] ?? 0))}`);
}

function assertZero(c: HandoffContext, pa: bigint, len: bigint, what: string): void {
  if (len <= 0n) return;
  const got = c.run.memory.read(pa, len);
  const i = got.findIndex((b) => b !== 0);
  assert.equal(i, -1, `${what}: non-zero byte at ${hx(pa + BigInt(i))}`);
}

/** load_elf.c `off`: amd64 kernel -(dest & 0xffffffffff000000); arm64 kernel 0; ET_DYN module dest. */
export function elfOffset(elf: Elf64, arch: 'amd64' | 'arm64', dest: bigint): bigint {
  if (elf.eh.type !== ET.EXEC) return dest;
  if (arch === 'arm64') return 0n;
  return (-((elf.eh.entry & ~(PAGE - 1n)) & 0xffffffffff000000n)) & ((1n << 64n) - 1n);
}

/**
 * A kernel or ET_DYN module: ELFHDR is the file's header, SHDR its pristine section table, each PT_LOAD's bytes at
 * (p_vaddr + off) + physOffset with zeros to p_memsz, ADDR the lowest PT_LOAD, and the symbol block
 * [u64 size][symtab][pad 8][u64 size][strtab][pad 8] from SSYM to ESYM = ADDR + SIZE.
 */
export function checkElfFile(c: HandoffContext, i: number): void {
  const f = c.files[i] as PreloadedFile;
  const md = c.md[i] as DecodedMetadata;
  const elf = c.elfs[i] as Elf64;
  const off = elfOffset(elf, c.arch, f.addr);
  assert.ok(md.elfhdr !== undefined && diffAt(md.elfhdr.raw, elf.bytes.subarray(0, 64)) === -1, `${f.name}: ELFHDR is the file's 64-byte header`);
  const table = elf.bytes.subarray(Number(elf.eh.shoff), Number(elf.eh.shoff) + elf.eh.shnum * 64);
  assert.ok(md.shdr !== undefined && diffAt(md.shdr.raw, table) === -1, `${f.name}: SHDR is the file's section header table, unmodified`);
  const loads = elf.ph.filter((p) => p.type === PT_LOAD);
  let first: bigint | undefined;
  let last = 0n;
  for (const p of loads) {
    const at = (p.vaddr + off) & ((1n << 64n) - 1n);
    const pa = toPhys(at, c.physOffset);
    assertBytes(c, pa, elf.bytes.subarray(Number(p.offset), Number(p.offset + p.filesz)), `${f.name} PT_LOAD ${p.index}`);
    assertZero(c, pa + p.filesz, p.memsz - p.filesz, `${f.name} PT_LOAD ${p.index} bss`);
    if (first === undefined || at < first) first = at;
    if (at + p.memsz > last) last = at + p.memsz;
  }
  assert.equal(f.addr, first, `${f.name}: ADDR is the lowest PT_LOAD loader address`);
  const dyn = elf.ph.find((p) => p.type === PT_DYNAMIC);
  assert.equal(md.dynamic, dyn?.vaddr, `${f.name}: DYNAMIC is the raw p_vaddr of PT_DYNAMIC (or absent)`);
  // The loader's symtab: the last SHT_SYMTAB not inside a PT_LOAD's file bytes.
  const symtab = elf.sh.filter((s) => s.type === SHT.SYMTAB && !loads.some((p) => s.offset >= p.offset && s.offset + s.size <= p.offset + p.filesz)).pop();
  assert.ok(symtab !== undefined, `${f.name}: the test input has a symbol table to append`);
  const strtab = elf.sh[symtab.link] as Shdr;
  assert.equal(md.ssym, roundup(last, 8n), `${f.name}: SSYM is the PT_LOAD end rounded to 8`);
  let at = toPhys(md.ssym, c.physOffset);
  for (const [s, what] of [[symtab, 'symtab'], [strtab, 'strtab']] as const) {
    assert.equal(c.run.memory.u64(at), s.size, `${f.name}: ${what} size word at ${hx(at)}`);
    assertBytes(c, at + 8n, sectionBytes(elf, s), `${f.name} ${what}`);
    at = roundup(at + 8n + s.size, 8n);
  }
  assert.equal(md.esym, md.ssym + (at - toPhys(md.ssym, c.physOffset)), `${f.name}: ESYM ends the symbol block`);
  assert.equal(f.addr + f.size, md.esym, `${f.name}: SIZE runs from ADDR to ESYM`);
}

const LOADABLE = new Set<number>([SHT.PROGBITS, SHT.NOBITS, SHT.X86_64_UNWIND, SHT.INIT_ARRAY, SHT.FINI_ARRAY]);

/** load_elf_obj.c obj_loadimage (freebsd-layout.md 2.2), recomputed: section index -> loader address, and the end. */
export function expectedObjLayout(elf: Elf64, dest: bigint): {addr: Map<number, bigint>; end: bigint} {
  const addr = new Map<number, bigint>();
  let last = dest;
  const place = (s: Shdr | undefined): void => {
    if (s === undefined) return;
    last = roundup(last, s.addralign === 0n ? 1n : s.addralign);
    addr.set(s.index, last);
    last += s.size;
  };
  for (const s of elf.sh) if (s.size !== 0n && LOADABLE.has(s.type) && (s.flags & SHF_ALLOC) !== 0n) place(s);
  const symtabs = elf.sh.filter((s) => s.type === SHT.SYMTAB);
  assert.equal(symtabs.length, 1, 'an ET_REL module has exactly one SHT_SYMTAB');
  const symtab = symtabs[0] as Shdr;
  place(symtab);
  place(elf.sh[symtab.link]);
  place(elf.sh[elf.eh.shstrndx]);
  for (const s of elf.sh) {
    if ((s.type === SHT.REL || s.type === SHT.RELA) && ((elf.sh[s.info]?.flags ?? 0n) & SHF_ALLOC) !== 0n) place(s);
  }
  return {addr, end: last};
}

/**
 * For an ET_REL module: each section of its SHDR record with sh_addr != 0 compared with the file. Returns the
 * problems found (empty when memory holds the file's sections), so a test can also prove the check is live.
 */
export function objSectionMismatches(c: HandoffContext, i: number): {pa: bigint; message: string}[] {
  const f = c.files[i] as PreloadedFile;
  const md = c.md[i] as DecodedMetadata;
  const elf = c.elfs[i] as Elf64;
  assert.ok(md.shdr !== undefined, `${f.name}: has an SHDR record`);
  const out: {pa: bigint; message: string}[] = [];
  if (!md.shdr.sections.some((s) => s.addr !== 0n && s.size !== 0n)) {
    out.push({pa: toPhys(f.addr, c.physOffset), message: `${f.name}: its SHDR record places no section (every sh_addr is 0): nothing the kernel could link`});
  }
  for (const s of md.shdr.sections) {
    if (s.addr === 0n || s.size === 0n) continue;
    const pa = toPhys(s.addr, c.physOffset);
    const got = c.run.memory.read(pa, s.size);
    const want = s.type === SHT.NOBITS ? new Uint8Array(Number(s.size)) : elf.bytes.subarray(Number(s.offset), Number(s.offset + s.size));
    const k = diffAt(got, want);
    if (k >= 0) out.push({pa: pa + BigInt(k), message: `${f.name} section ${s.index} (${elf.sh[s.index]?.name}): byte at ${hx(pa + BigInt(k))} is ${hx(BigInt(got[k] ?? 0))}, file has ${hx(BigInt(want[k] ?? 0))}`});
  }
  return out;
}

/** An ET_REL module: ELFHDR, SHDR equal to the file's table but with sh_addr = the recomputed addresses, bytes. */
export function checkObjModule(c: HandoffContext, i: number): void {
  const f = c.files[i] as PreloadedFile;
  const md = c.md[i] as DecodedMetadata;
  const elf = c.elfs[i] as Elf64;
  assert.equal(elf.eh.type, ET.REL, `${f.name}: the file is ET_REL`);
  assert.deepEqual(md.order, [MODINFOMD.ELFHDR, MODINFOMD.SHDR], `${f.name}: an obj module carries ELFHDR then SHDR only (no SSYM/ESYM/DYNAMIC)`);
  assert.ok(md.elfhdr !== undefined && diffAt(md.elfhdr.raw, elf.bytes.subarray(0, 64)) === -1, `${f.name}: ELFHDR is the file's 64-byte header`);
  const shdr = md.shdr?.sections ?? [];
  assert.equal(shdr.length, elf.sh.length, `${f.name}: SHDR has e_shnum entries`);
  const want = expectedObjLayout(elf, f.addr);
  shdr.forEach((s, k) => {
    const fileS = elf.sh[k] as Shdr;
    assert.deepEqual({...s, addr: 0n}, {...fileS, name: '', addr: 0n}, `${f.name}: SHDR entry ${k} equals the file's apart from sh_addr`);
    assert.equal(s.addr, want.addr.get(k) ?? 0n, `${f.name}: section ${k} (${fileS.name}) sh_addr as obj_loadimage assigns it`);
  });
  assert.equal(f.addr + f.size, want.end, `${f.name}: SIZE ends after the last placed section`);
  const placed = shdr.filter((s) => s.addr !== 0n);
  assert.ok(placed.length > 0, `${f.name}: some sections are placed`);
  assert.equal(placed.reduce((m, s) => (s.addr < m ? s.addr : m), placed[0]?.addr ?? 0n), f.addr, `${f.name}: lowest sh_addr is ADDR (link_elf_obj.c relies on it)`);
  for (const s of placed) assert.ok(s.addr + s.size <= f.addr + f.size, `${f.name}: section ${s.index} inside [ADDR, ADDR + SIZE)`);
  assert.deepEqual(objSectionMismatches(c, i).map((m) => m.message), [], `${f.name}: section bytes in memory equal the file's`);
  // Holes between placed sections are zero (the loader bzeroes the whole span first).
  const sorted = [...placed].sort((a, b) => (a.addr < b.addr ? -1 : 1));
  let cursor = f.addr;
  for (const s of sorted) {
    if (s.addr > cursor) assertZero(c, toPhys(cursor, c.physOffset), s.addr - cursor, `${f.name}: alignment hole before section ${s.index}`);
    if (s.addr + s.size > cursor) cursor = s.addr + s.size;
  }
}
