/**
 * What the probe kernel (examples/probe-kernel/kernel/probe.c, probe_main) prints on the console when QEMU enters a
 * plan at its entry, computed from the plan's memory bytes alone, as the CPU and the probe would find them, never
 * from the plan's hand-off summary (which is what the QEMU backend's verdict compares the console with): a fake
 * QEMU that prints this transcript tests the verdict against an independent reading, not against the plan
 * repeating itself.
 *
 * amd64 only (the fake-QEMU tests boot amd64). The trampoline (templates/trampolines/amd64.json, symbol offsets of
 * the committed template) leaves modulep at 4(%rsp) and kernend at 8(%rsp) for btext and loads CR3 from its
 * parameter block; the probe reads every recorded address through KERNBASE (sys/amd64/amd64/machdep.c
 * native_parse_preload_data), here translated with the page tables found in memory. The metadata is walked with
 * the test decoder (stand/common/modinfo.c layout), the environment read as md_copyenv wrote it, and each file's
 * CRC-32 taken with zlib's (the probe's is the same reflected 0xedb88320 CRC).
 */
import assert from 'node:assert/strict';
import type {Plan} from '../../src/plan/types.js';
import {KERNBASE_AMD64, loadTemplate, translate} from '../helpers/handoff-entry-checks.js';
import {decodeMetadata, readEnvironment, walkPreload} from '../helpers/modinfo-decoder.js';
import {PhysicalMemory} from '../helpers/physical-memory.js';
import {zlibCrc32} from './qemu-fixtures.js';

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

/** The console lines of a successful probe boot of `plan` (amd64), from BEGIN to OK. */
export function probeTranscript(plan: Pick<Plan, 'arch' | 'entry' | 'segments'>): string[] {
  assert.equal(plan.arch, 'amd64', 'the probe model reads the amd64 trampoline only');
  const mem = PhysicalMemory.ofSegments(plan.segments);
  const t = loadTemplate('amd64');
  const param = (name: string): bigint => {
    const off = t.symbols[name];
    assert.ok(off !== undefined, `the trampoline template has ${name}`);
    return plan.entry + BigInt(off);
  };
  const modulep = BigInt(mem.u32(param('param_modulep')));
  const kernend = mem.u64(param('param_kernend'));
  const cr3 = mem.u64(param('param_pt4'));
  /** The physical address the probe reads for recorded address `a` (KERNBASE + a through the page tables). */
  const phys = (a: bigint): bigint => {
    const pa = translate(mem, cr3, KERNBASE_AMD64 + a)?.pa;
    assert.ok(pa !== undefined, `KERNBASE + ${hex(a)} is mapped`);
    return pa;
  };
  /** `size` bytes at recorded address `a`, page by page as the probe's loads would go through the tables. */
  const bytesAt = (a: bigint, size: bigint): Uint8Array => {
    const out = new Uint8Array(Number(size));
    for (let done = 0n; done < size;) {
      const pageLeft = 0x1000n - ((a + done) & 0xfffn);
      const n = size - done < pageLeft ? size - done : pageLeft;
      out.set(mem.read(phys(a + done), n), Number(done));
      done += n;
    }
    return out;
  };

  const physOffset = phys(modulep) - modulep;
  const md = walkPreload(mem, phys(modulep));
  const kernel = md.files[0];
  assert.ok(kernel !== undefined, 'the metadata names a kernel');
  const k = decodeMetadata(kernel, 'amd64');
  assert.ok(k.envp !== undefined && k.howto !== undefined && k.kernend !== undefined, 'ENVP, HOWTO and KERNEND records');
  assert.equal(phys(k.envp), k.envp + physOffset, 'the environment is mapped linearly with the metadata');
  const env = readEnvironment(mem, phys(k.envp));
  return [
    `PROBE BEGIN arch=amd64 modulep=${hex(modulep)} kernend=${hex(kernend)}`,
    ...md.files.map((f) => `PROBE FILE name=${f.name} type=${f.type} addr=${hex(f.addr)} size=${hex(f.size)} ` +
      `crc32=0x${zlibCrc32(bytesAt(f.addr, f.size)).toString(16).padStart(8, '0')}`),
    ...env.vars.map(([name, value]) => `PROBE ENV ${name}=${value}`),
    ...itemLines(env.vars),
    memmapLine(kernel.records),
    ...(k.fwHandle === undefined ? [] : [`PROBE FW_HANDLE ${hex(k.fwHandle)}`]),
    `PROBE HOWTO ${hex(k.howto)}`,
    `PROBE KERNEND ${hex(k.kernend)}`,
    'PROBE OK',
  ];
}

/**
 * examples/probe-kernel/kernel/handoff_items.c, from the environment as the kernel reads it: one ROOT line per
 * whitespace-separated vfs.root.mountfrom token (vfs_mountroot_conf0), acpi.rsdp through getenv_quad (strtoq base
 * 0, one k/m/g/t suffix), and each hint.* string in environment order.
 */
function itemLines(vars: readonly (readonly [string, string])[]): string[] {
  const get = (n: string): string | undefined => vars.find(([k]) => k === n)?.[1];
  const out = (get('vfs.root.mountfrom') ?? '').split(/[ \t\n]+/).filter((t) => t !== '').map((t) => `PROBE ROOT ${t}`);
  const rsdp = get('acpi.rsdp');
  if (rsdp !== undefined) {
    const v = getenvQuad(rsdp);
    out.push(`PROBE ACPI rsdp=${v === undefined ? 'invalid' : hex(v)}`);
  }
  for (const [k, v] of vars) if (k.startsWith('hint.')) out.push(`PROBE HINT ${k}=${v}`);
  return out;
}

/**
 * sys/kern/kern_environment.c getenv_quad(): strtoq(value, &end, 0) (leading blanks, a sign, 0x or 0 for the
 * base, clamped to QUAD_MAX / QUAD_MIN), then at most one k/m/g/t suffix multiplying by 1024 per step; undefined
 * when the kernel ignores the value (no digits, or anything else after them). The result as a u64.
 */
export function getenvQuad(value: string): bigint | undefined {
  const m = /^[ \t\n\v\f\r]*([-+]?)(0[xX](?=[0-9a-fA-F])|0?)([0-9a-zA-Z]*)$/.exec(value);
  if (m === null) return undefined;
  const [, sign, prefix, rest] = m as unknown as [string, string, string, string];
  const base = /^0[xX]/.test(prefix) ? 16 : prefix === '0' ? 8 : 10;
  let i = 0;
  let acc = 0n;
  while (i < rest.length && parseInt(rest[i] as string, 36) < base) acc = acc * BigInt(base) + BigInt(parseInt(rest[i++] as string, 36));
  if (i === 0 && prefix !== '0') return undefined; // strtoq consumed nothing
  const limit = sign === '-' ? 1n << 63n : (1n << 63n) - 1n;
  if (acc > limit) acc = limit;
  const suffix = rest.slice(i);
  const steps = suffix === '' ? 0 : suffix.length === 1 ? 'kmgt'.indexOf(suffix.toLowerCase()) + 1 : 0;
  if (suffix !== '' && steps === 0) return undefined;
  return ((sign === '-' ? -acc : acc) << BigInt(10 * steps)) & ((1n << 64n) - 1n);
}

/** The kernel's memory record (MODINFOMD_EFI_MAP 0x1004, else MODINFOMD_SMAP 0x1001: sys/x86/include/metadata.h). */
function memmapLine(records: readonly {type: number; data: Uint8Array}[]): string {
  const crc = (b: Uint8Array): string => `0x${zlibCrc32(b).toString(16).padStart(8, '0')}`;
  const efi = records.find((r) => r.type === (0x8000 | 0x1004));
  if (efi !== undefined) {
    const dv = new DataView(efi.data.buffer, efi.data.byteOffset, efi.data.byteLength);
    return `PROBE MEMMAP name=EFI_MAP type=0x1004 size=${hex(efi.data.length)} entries=${hex(dv.getBigUint64(0, true) / dv.getBigUint64(8, true))} crc32=${crc(efi.data)}`;
  }
  const smap = records.find((r) => r.type === (0x8000 | 0x1001));
  assert.ok(smap !== undefined, 'the kernel has a memory record (native_parse_memmap panics without one)');
  return `PROBE MEMMAP name=SMAP type=0x1001 size=${hex(smap.data.length)} entries=${hex(Math.floor(smap.data.length / 20))} crc32=${crc(smap.data)}`;
}
