/**
 * Checks of what bi_load adds to the kernel's metadata (HOWTO, ENVP and the environment, KERNEND, MODULEP, the
 * memory map record; freebsd-layout.md 4) and of the entry contract (freebsd-entry.md A, B, E): the committed
 * trampoline template with its parameter block patched, and on amd64 the page tables walked in rebuilt memory
 * as amd64_loadaddr() and the CPU would walk them.
 */
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {PT_LOAD, roundup} from './elf64-lite.js';
import {PROJECT_ROOT} from './corpus.js';
import {PAGE, type HandoffContext} from './handoff-checks.js';
import {MODINFOMD, MODINFOMD_ARM64, MODINFOMD_X86, readEnvironment, toPhys} from './modinfo-decoder.js';
import type {PhysicalMemory} from './physical-memory.js';

const hx = (v: bigint): string => `0x${v.toString(16)}`;
const MIB = 0x100000n;
export const KERNBASE_AMD64 = 0xffffffff80000000n;
export const KERNBASE_ARM64 = 0xffff000000000000n;

/** Emitted order of the kernel's records, newest EFI bi_load (freebsd-layout.md 4.3); SMAP takes EFI_MAP's place. */
function referenceOrder(arch: 'amd64' | 'arm64'): number[] {
  const M = MODINFOMD;
  const map = arch === 'amd64' ? [MODINFOMD_X86.EFI_MAP, MODINFOMD_X86.SMAP, MODINFOMD_X86.EFI_FB, M.KEYBUF, MODINFOMD_X86.EFI_ARCH]
    : [MODINFOMD_ARM64.EFI_MAP, MODINFOMD_ARM64.EFI_FB, M.KEYBUF];
  const dtbp = arch === 'amd64' ? MODINFOMD_X86.DTBP : MODINFOMD_ARM64.DTBP;
  return [...map, M.FW_HANDLE, ...(arch === 'amd64' ? [MODINFOMD_X86.MODULEP] : []), M.KERNEND, dtbp, M.ENVP, M.HOWTO, 0x10, M.SPLASH, M.FONT,
    M.ELFHDR, M.DYNAMIC, M.ESYM, M.SSYM, M.CTORS_SIZE, M.CTORS_ADDR, M.SHDR];
}

const strcmp = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));

export interface BootExpect {
  env: Record<string, string>;
  howto: number;
}

/** HOWTO, ENVP + environment, layout env -> modulep -> kernend, KERNEND, MODULEP, memory map record. */
export function checkBootInfo(c: HandoffContext, want: BootExpect): void {
  const k = c.md[0];
  const kernel = c.files[0];
  assert.ok(k !== undefined && kernel !== undefined);
  const ref = referenceOrder(c.arch);
  assert.deepEqual(k.other, [], `kernel metadata has only known record types (order ${k.order.map((t) => hx(BigInt(t))).join(' ')})`);
  assert.deepEqual(k.order, ref.filter((t) => k.order.includes(t)), 'kernel records in the loader\'s emitted order');

  assert.equal(k.howto, want.howto, `HOWTO ${hx(BigInt(k.howto ?? -1))}`);
  assert.equal(BigInt(c.run.h.howto), BigInt(want.howto), 'handoff.howto');
  assert.ok(k.envp !== undefined, 'ENVP record present');
  assert.equal(hx(k.envp), c.run.h.envp, 'ENVP equals handoff.envp');
  const env = readEnvironment(c.run.memory, toPhys(k.envp, c.physOffset));
  const names = env.vars.map(([n]) => n);
  assert.deepEqual(names, [...names].sort(strcmp), 'environment sorted by strcmp, as environment.c keeps it');
  assert.equal(new Set(names).size, names.length, 'no variable twice');
  const vars = Object.fromEntries(env.vars);
  for (const [n, v] of Object.entries(want.env)) assert.equal(vars[n], v, `environment has ${n}=${v}`);
  assert.equal(vars.kernelname, kernel.name, 'kernelname is the kernel\'s MODINFO_NAME');
  assert.deepEqual(vars, c.run.h.env, 'environment in memory equals handoff.env');

  const filesEnd = c.files.reduce((m, f) => (f.addr + f.size > m ? f.addr + f.size : m), 0n);
  const modulep = BigInt(c.run.h.modulep);
  assert.equal(k.envp, roundup(filesEnd, PAGE), 'ENVP is the page after the last file (bi_load)');
  assert.equal(modulep, roundup(k.envp + BigInt(env.size), PAGE), 'modulep is the page after the environment');
  assert.equal(toPhys(modulep, c.physOffset), BigInt(c.run.h.metadata), 'handoff.metadata = modulep + physOffset');
  if (c.arch === 'amd64') assert.equal(k.modulep, modulep, 'MODULEP record equals handoff.modulep');
  else assert.equal(k.modulep, undefined, 'no x86 MODULEP record on arm64');

  assert.ok(k.kernend !== undefined, 'KERNEND record present');
  assert.equal(hx(k.kernend), c.run.h.kernend, 'KERNEND equals handoff.kernend');
  assert.equal(k.kernend % PAGE, 0n, 'KERNEND is page aligned');
  const mdEnd = modulep + (c.block.end - c.block.start);
  assert.equal(k.kernend, roundup(mdEnd, PAGE), 'KERNEND = roundup(modulep + metadata size, PAGE)');
  for (const end of [filesEnd, k.envp + BigInt(env.size), mdEnd]) assert.ok(k.kernend >= end, `KERNEND past ${hx(end)}`);

  const segs = c.run.plan.segments.map((s) => ({start: BigInt(s.mem), end: BigInt(s.mem) + BigInt(s.memsz)}));
  let ram: {start: bigint; end: bigint}[];
  if (c.arch === 'amd64') {
    assert.ok(k.smap !== undefined || k.efiMap !== undefined, 'amd64 needs an SMAP or EFI_MAP record');
    ram = k.efiMap === undefined ? (k.smap ?? []).filter((e) => e.type === 1).map((e) => ({start: e.base, end: e.base + e.length}))
      : efiRam(k.efiMap.descriptors);
  } else {
    assert.ok(k.efiMap !== undefined, 'arm64 EFI_MAP (0x1001) record present');
    ram = efiRam(k.efiMap.descriptors);
  }
  assert.ok(ram.length > 0, 'the memory record describes some RAM');
  const inRam = (lo: bigint, hi: bigint): boolean => ram.some((r) => lo >= r.start && hi <= r.end);
  for (const s of segs) assert.ok(inRam(s.start, s.end), `segment [${hx(s.start)}, ${hx(s.end)}) is RAM in the memory record`);
  // The kernel allocates early after kernend (amd64: from kernphys + kernend, 2 MiB past the image; A4).
  const after = toPhys(k.kernend, c.physOffset);
  const slack = c.arch === 'amd64' ? 16n * MIB : 4n * MIB;
  assert.ok(inRam(after, after + slack), `[${hx(after)}, +${hx(slack)}) after kernend is RAM the kernel may use`);
  if (c.arch === 'amd64') {
    for (const s of segs) assert.ok(s.end <= after || s.start >= after + slack, `segment [${hx(s.start)}, ${hx(s.end)}) is clear of the early-allocation area`);
  }
}

function efiRam(ds: {type: number; physStart: bigint; pages: bigint}[]): {start: bigint; end: bigint}[] {
  return ds.filter((d) => [1, 2, 3, 4, 7].includes(d.type)).map((d) => ({start: d.physStart, end: d.physStart + d.pages * PAGE}));
}

interface Template {
  bytes: Uint8Array;
  symbols: Record<string, number>;
}

export function loadTemplate(arch: 'amd64' | 'arm64'): Template {
  const j = JSON.parse(readFileSync(`${PROJECT_ROOT}templates/trampolines/${arch}.json`, 'utf8')) as {arch: string; bytes: string; symbols: Record<string, number>};
  assert.equal(j.arch, arch);
  return {bytes: new Uint8Array(Buffer.from(j.bytes, 'hex')), symbols: j.symbols};
}

function sym(t: Template, name: string): bigint {
  const v = t.symbols[name];
  assert.ok(v !== undefined, `template has symbol ${name}`);
  return BigInt(v);
}

/** The trampoline in memory is the template, byte for byte, outside [from, to) (the parameter block). */
function checkTemplateCode(mem: PhysicalMemory, pa: bigint, t: Template, from: number, to: number): void {
  const got = mem.read(pa, t.bytes.length);
  t.bytes.forEach((b, i) => {
    if (i < from || i >= to) assert.equal(got[i], b, `trampoline byte ${i} at ${hx(pa + BigInt(i))} is the template's`);
  });
}

/** e_entry's bytes in the file (through its PT_LOAD) equal memory at `pa`. */
function checkEntryBytes(c: HandoffContext, pa: bigint): void {
  const elf = c.elfs[0];
  assert.ok(elf !== undefined);
  const p = elf.ph.find((x) => x.type === PT_LOAD && elf.eh.entry >= x.vaddr && elf.eh.entry < x.vaddr + x.filesz);
  assert.ok(p !== undefined, 'e_entry lies in a PT_LOAD');
  const off = Number(p.offset + elf.eh.entry - p.vaddr);
  assert.deepEqual(c.run.memory.read(pa, 16), elf.bytes.subarray(off, off + 16), `kernel entry bytes at ${hx(pa)}`);
}

const PG_P = 1n;
const PG_PS = 0x80n;
const FRAME = 0x000ffffffffff000n;

/** 4-level translation of `va` through the tables at `cr3` in `mem`; the table pages visited are returned too. */
export function translate(mem: PhysicalMemory, cr3: bigint, va: bigint): {pa: bigint; tables: bigint[]} | undefined {
  const tables = [cr3];
  let table = cr3;
  for (const [shift, size] of [[39n, 0n], [30n, 1n << 30n], [21n, 1n << 21n], [12n, 1n << 12n]] as const) {
    const e = mem.u64(table + ((va >> shift) & 511n) * 8n);
    if ((e & PG_P) === 0n) return undefined;
    if (shift === 12n || (size !== 0n && (e & PG_PS) !== 0n)) {
      const s = shift === 12n ? PAGE : size;
      return {pa: (e & FRAME & ~(s - 1n)) + (va & (s - 1n)), tables};
    }
    table = e & FRAME;
    tables.push(table);
  }
  return undefined;
}

/** amd64: trampoline, its parameter block, the page tables (amd64_loadaddr walk, identity map), below 4 GiB. */
export function checkAmd64Entry(c: HandoffContext): void {
  const h = c.run.h;
  const mem = c.run.memory;
  const entry = BigInt(h.entry);
  const loadBase = BigInt(h.loadBase);
  const kernphys = BigInt(h.kernphys ?? '0x0');
  const elf = c.elfs[0];
  assert.ok(elf !== undefined);
  assert.equal(c.run.plan.entry, h.entry, 'the plan enters at the trampoline');
  assert.equal(loadBase % (2n * MIB), 0n, 'loadBase is 2 MiB aligned');
  assert.equal(kernphys, loadBase + 2n * MIB, 'kernphys = loadBase + 2 MiB');
  assert.equal(BigInt(h.physOffset), loadBase, 'amd64 physOffset is loadBase (loader address 0 = loadBase)');
  assert.ok(mem.end <= 1n << 32n, `everything loaded below 4 GiB (ends ${hx(mem.end)})`);
  assert.ok(kernphys + BigInt(h.kernend) + 16n * MIB <= 1n << 32n, 'kernend and the early allocations stay below 4 GiB');
  assert.equal(BigInt(h.kernelEntryVirtual), elf.eh.entry, 'kernelEntryVirtual is e_entry (btext)');
  assert.equal(BigInt(h.kernelEntry), loadBase + (elf.eh.entry - KERNBASE_AMD64), 'kernelEntry = loadBase + (e_entry - KERNBASE)');
  checkEntryBytes(c, BigInt(h.kernelEntry));

  const t = loadTemplate('amd64');
  assert.ok(mem.contains(entry, t.bytes.length) && entry + BigInt(t.bytes.length) <= 1n << 32n, 'trampoline in loaded memory below 4 GiB');
  const gdtBase = sym(t, 'param_gdt_base');
  checkTemplateCode(mem, entry, t, Number(gdtBase), Number(sym(t, 'tramp_end')));
  assert.equal(mem.u64(entry + gdtBase), entry + sym(t, 'tramp_gdt'), 'param_gdt_base = PA of tramp_gdt');
  const pt4 = mem.u64(entry + sym(t, 'param_pt4'));
  assert.equal(mem.u64(entry + sym(t, 'param_entry')), BigInt(h.kernelEntryVirtual), 'param_entry = btext VA');
  const frame = entry + sym(t, 'param_frame');
  assert.equal(sym(t, 'param_entry') + 8n, sym(t, 'param_frame'), 'ret leaves %rsp at the btext frame');
  assert.equal(frame % 8n, 0n, 'btext frame 8-byte aligned');
  assert.equal(mem.u32(frame), 0, '0(%rsp): return address slot 0');
  assert.equal(sym(t, 'param_modulep'), sym(t, 'param_frame') + 4n, 'modulep at 4(%rsp)');
  assert.equal(sym(t, 'param_kernend'), sym(t, 'param_frame') + 8n, 'kernend at 8(%rsp)');
  assert.equal(BigInt(mem.u32(entry + sym(t, 'param_modulep'))), BigInt(h.modulep), 'param_modulep = modulep');
  assert.equal(BigInt(mem.u32(entry + sym(t, 'param_kernend'))), BigInt(h.kernend), 'param_kernend = kernend');
  assert.equal(mem.u32(entry + sym(t, 'param_kernend') + 4n), 0, 'kernend high word 0');

  assert.equal(pt4 % PAGE, 0n, 'PML4 page aligned, no CR3 flag bits');
  assert.ok(pt4 + PAGE <= 1n << 32n && mem.contains(pt4, PAGE), 'PML4 loaded below 4 GiB');
  // amd64_loadaddr(): PML4[511] -> PDPT[510] -> PD[1] for KERNSTART, a 2 MiB leaf whose frame is kernphys.
  const KERNSTART = KERNBASE_AMD64 + 2n * MIB;
  assert.deepEqual([(KERNSTART >> 39n) & 511n, (KERNSTART >> 30n) & 511n, (KERNSTART >> 21n) & 511n], [511n, 510n, 1n]);
  const pml4e = mem.u64(pt4 + 511n * 8n);
  assert.equal(pml4e & PG_P, PG_P, 'PML4[511] present');
  const pdpe = mem.u64((pml4e & FRAME) + 510n * 8n);
  assert.equal(pdpe & (PG_P | PG_PS), PG_P, 'PDPT[510] present and not a 1 GiB page');
  const pde = mem.u64((pdpe & FRAME) + 8n);
  assert.equal(pde & (PG_P | PG_PS), PG_P | PG_PS, 'PD[1] is a present 2 MiB leaf');
  assert.equal(pde & FRAME, kernphys, 'amd64_loadaddr() finds kernphys');
  assert.equal(mem.u64(pt4) & PG_P, PG_P, 'PML4[0] present (identity map)');
  const ident = (pa: bigint, what: string): void => assert.equal(translate(mem, pt4, pa)?.pa, pa, `${what} ${hx(pa)} identity-mapped`);
  ident(entry, 'trampoline');
  ident(frame, 'btext stack frame');
  for (const tbl of translate(mem, pt4, KERNSTART)?.tables ?? []) ident(tbl, 'page-table page');
  assert.equal(translate(mem, pt4, BigInt(h.kernelEntryVirtual))?.pa, BigInt(h.kernelEntry), 'btext VA maps to kernelEntry');
  for (const a of [...c.files.map((f) => f.addr), BigInt(h.envp), BigInt(h.modulep), BigInt(h.kernend) - 1n]) {
    assert.equal(translate(mem, pt4, KERNBASE_AMD64 + a)?.pa, toPhys(a, c.physOffset), `KERNBASE + ${hx(a)} maps to its loaded copy`);
  }
  const first = elf.ph.find((p) => p.type === PT_LOAD && p.vaddr === KERNSTART);
  assert.ok(first !== undefined, 'a PT_LOAD starts at KERNSTART');
  assert.deepEqual(mem.read(kernphys, first.filesz), elf.bytes.subarray(Number(first.offset), Number(first.offset + first.filesz)), 'kernphys holds the first PT_LOAD');
}

/** arm64: x0 = modulep (a KVA), branch to the kernel's PA; 2 MiB aligned; KERNEND present; one 1 GiB block. */
export function checkArm64Entry(c: HandoffContext): void {
  const h = c.run.h;
  const mem = c.run.memory;
  const entry = BigInt(h.entry);
  const loadBase = BigInt(h.loadBase);
  const modulep = BigInt(h.modulep);
  const elf = c.elfs[0];
  assert.ok(elf !== undefined);
  assert.equal(c.run.plan.entry, h.entry, 'the plan enters at the trampoline');
  assert.equal(loadBase % (2n * MIB), 0n, 'loadBase is 2 MiB aligned');
  assert.equal(BigInt(h.physOffset), (loadBase - KERNBASE_ARM64) & ((1n << 64n) - 1n), 'physOffset = loadBase - KERNBASE mod 2^64');
  assert.equal(BigInt(h.kernelEntry), loadBase + (elf.eh.entry - KERNBASE_ARM64), 'kernelEntry = loadBase + (e_entry - KERNBASE)');
  checkEntryBytes(c, BigInt(h.kernelEntry));
  assert.ok(modulep >= KERNBASE_ARM64, 'modulep is a KVA >= KERNBASE (x0 below KERNBASE would be taken for an FDT)');
  assert.ok(c.md[0]?.kernend !== undefined, 'KERNEND record present (mandatory on arm64)');
  const t = loadTemplate('arm64');
  assert.ok(mem.contains(entry, t.bytes.length), 'trampoline in loaded memory');
  assert.equal(entry % 4n, 0n, 'trampoline 4-byte aligned');
  const pe = Number(sym(t, 'param_entry'));
  const pm = Number(sym(t, 'param_modulep'));
  checkTemplateCode(mem, entry, t, Math.min(pe, pm), Math.max(pe, pm) + 8);
  assert.equal(mem.u64(entry + BigInt(pe)), BigInt(h.kernelEntry), 'param_entry = kernelEntry (PA)');
  assert.equal(mem.u64(entry + BigInt(pm)), modulep, 'param_modulep = modulep (KVA)');
  const endPa = toPhys(BigInt(h.kernend), c.physOffset);
  assert.equal(loadBase >> 30n, (endPa - 1n) >> 30n, 'the image does not cross a 1 GiB boundary (one L2 table)');
  const mapped = ((modulep - KERNBASE_ARM64 + 6n * MIB - 1n) >> 21n) << 21n;
  assert.ok(BigInt(h.kernend) - KERNBASE_ARM64 <= mapped, 'locore\'s KERNBASE map (computed from modulep) covers up to kernend');
}
