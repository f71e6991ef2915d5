/**
 * Shared by the QEMU backend's tests: temporary directories, whether QEMU and the assemblers are installed (tests
 * skip cleanly otherwise), FreeBSD-shaped plans built with the real planner against the backend's memory map,
 * zlib's CRC-32 (from the gzip trailer, an implementation independent of the backend's) for the probe model
 * (probe-model.ts), and a fake QEMU: a shell script that records its arguments and prints a given console, so the
 * exec path and the verdict can be tested without an emulator.
 */
import {planToJSON} from '../../src/plan/codec.js';
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {gzipSync} from 'node:zlib';
import {findExecutable} from '../../src/backend/qemu/find-executable.js';
import {QEMU_MACHINES, type QemuArch} from '../../src/backend/qemu/qemu-machines.js';
import type {Image, Piece} from '../../src/image/types.js';
import {planFiles} from '../../src/pipeline/plan-files.js';
import {plan as planImage} from '../../src/plan/planner.js';
import type {Plan} from '../../src/plan/types.js';
import {buildFreeBsdKernel} from '../fixtures/freebsd-kernel.js';
import {buildFreeBsdModule} from '../fixtures/freebsd-module.js';

export function tempDir(t: {after: (fn: () => void) => void}, prefix = 'kexec-qemu-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, {recursive: true, force: true}));
  return dir;
}

/** Why a real-QEMU test of `arch` cannot run here, or false. */
export function qemuSkip(arch: QemuArch): string | false {
  const m = QEMU_MACHINES[arch];
  return findExecutable(m.binary) === undefined ? `${m.binary} is not installed (Debian package ${m.debianPackage})` : false;
}

/** zlib's CRC-32 (the gzip trailer's CRC32 field, RFC 1952). */
export function zlibCrc32(data: Uint8Array): number {
  const gz = gzipSync(data);
  return gz.readUInt32LE(gz.length - 8);
}

/** The bytes of the plan at physical [phys, phys + size): zeros where no part covers it. */
export function planBytes(p: Plan, phys: bigint, size: bigint): Uint8Array {
  const out = new Uint8Array(Number(size));
  for (const s of p.segments) {
    for (const part of s.parts) {
      const start = s.mem + part.offset;
      const end = start + BigInt(part.data.length);
      const lo = start > phys ? start : phys;
      const hi = end < phys + size ? end : phys + size;
      if (lo < hi) out.set(part.data.subarray(Number(lo - start), Number(hi - start)), Number(lo - phys));
    }
  }
  return out;
}

interface HandoffView {
  modulep: string; kernend: string; howto: string; physOffset: string; env: Record<string, string>;
  files: {name: string; type: string; addr: string; size: string}[];
}

export function handoffOf(p: Plan): HandoffView {
  if (p.handoff.kind !== 'freebsd') throw new Error('plan has no FreeBSD hand-off');
  return planToJSON(p).handoff as unknown as HandoffView;
}

/**
 * The probe's MEMMAP line for a plan: the kernel's first memory map record (EFI_MAP, else SMAP on amd64; numbers
 * from sys/x86/include/metadata.h and sys/arm64/include/metadata.h), found by walking the planned metadata bytes.
 */
export function memmapLine(p: Plan): string {
  if (p.handoff.kind !== 'freebsd') throw new Error('plan has no FreeBSD hand-off');
  const md = planBytes(p, p.handoff.metadata, p.handoff.metadataSize);
  const dv = new DataView(md.buffer, md.byteOffset, md.byteLength);
  const wanted = p.arch === 'amd64' ? [[0x1004, 'EFI_MAP'], [0x1001, 'SMAP']] as const : [[0x1001, 'EFI_MAP']] as const;
  const kernel: {type: number; data: Uint8Array}[] = [];
  for (let at = 0, names = 0; at + 8 <= md.length; at += 8 + Math.ceil(dv.getUint32(at + 4, true) / 8) * 8) {
    const type = dv.getUint32(at, true);
    const size = dv.getUint32(at + 4, true);
    if ((type === 0 && size === 0) || (type === 1 && ++names > 1)) break;
    kernel.push({type, data: md.subarray(at + 8, at + 8 + size)});
  }
  for (const [type, name] of wanted) {
    const r = kernel.find((k) => k.type === (0x8000 | type));
    if (r === undefined) continue;
    const rd = new DataView(r.data.buffer, r.data.byteOffset, r.data.byteLength);
    const entries = name === 'SMAP' ? Math.floor(r.data.length / 20) : Number(rd.getBigUint64(0, true) / rd.getBigUint64(8, true));
    const crc = zlibCrc32(r.data).toString(16).padStart(8, '0');
    return `PROBE MEMMAP name=${name} type=0x${type.toString(16)} size=0x${r.data.length.toString(16)} entries=0x${entries.toString(16)} crc32=0x${crc}`;
  }
  throw new Error('the plan passes no memory map record');
}

/** What a correct probe prints for a FreeBSD plan, line by line, ending with PROBE OK. */
export function probeConsole(p: Plan): string[] {
  const h = handoffOf(p);
  const off = BigInt(h.physOffset);
  const U64 = (1n << 64n) - 1n;
  const hex8 = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
  return [
    `PROBE BEGIN arch=${p.arch} modulep=${h.modulep} kernend=${p.arch === 'arm64' ? '0x0' : h.kernend}`,
    ...h.files.map((f) => {
      const bytes = planBytes(p, (BigInt(f.addr) + off) & U64, BigInt(f.size));
      return `PROBE FILE name=${f.name} type=${f.type} addr=${f.addr} size=${f.size} crc32=${hex8(zlibCrc32(bytes))}`;
    }),
    ...Object.entries(h.env).map(([k, v]) => `PROBE ENV ${k}=${v}`),
    memmapLine(p),
    `PROBE HOWTO ${h.howto}`,
    `PROBE KERNEND ${h.kernend}`,
    'PROBE OK',
  ];
}

/**
 * A FreeBSD-shaped amd64 kernel (test/fixtures/freebsd-kernel.ts) with one module, hello.ko, planned against the
 * QEMU amd64 machine's map with an environment and howto. arm64 gets the kernel alone (the module fixture is
 * amd64 ET_REL).
 */
export async function fixtureFreeBsdPlan(dir: string, arch: QemuArch): Promise<Plan> {
  const kernel = join(dir, 'kernel');
  writeFileSync(kernel, buildFreeBsdKernel({arch, version: 1500000, textSize: 0x5000}));
  const modules: string[] = [];
  if (arch === 'amd64') {
    writeFileSync(join(dir, 'hello.ko'), buildFreeBsdModule({name: 'hello', version: 1, textSize: 0x900}));
    modules.push('hello');
  }
  const {plan} = await planFiles({
    image: kernel, modules, modulePath: dir, loaderConf: [], howto: {howto: 0x800, env: [], ignored: []},
    env: [{name: 'hw.qemu_test', value: 'yes', source: 'test'}, {name: 'test.spaces', value: 'a b=c', source: 'test'}],
    target: {arch, pageSize: 0x1000n, memoryMap: QEMU_MACHINES[arch].profile.memoryMap, source: 'the emulated machine'},
  });
  return plan;
}

/** A generic (kind 'elf') plan of raw code placed at `at` and entered there. */
export function rawCodePlan(arch: QemuArch, code: Uint8Array, at: bigint, label = `${arch} test code`): Plan {
  const piece: Piece = {label, mem: at, data: code, memsz: BigInt(code.length)};
  const image: Image = {kind: 'elf', arch, machine: arch === 'amd64' ? 62 : 183, files: [label], fixed: [piece], entry: at};
  return planImage(image, QEMU_MACHINES[arch].profile.memoryMap, {pageSize: 0x1000n});
}

export interface FakeQemu {
  readonly binary: string;
  /** Where the script writes its arguments, one per line. */
  readonly argsFile: string;
}

/** A stand-in for qemu-system-*: prints `lines`, then sleeps `sleepSeconds`, then exits with `exit`. */
export function fakeQemu(dir: string, lines: readonly string[], o: {exit?: number; sleepSeconds?: number; name?: string} = {}): FakeQemu {
  const name = o.name ?? 'fake-qemu';
  const consoleFile = join(dir, `${name}.console`);
  const argsFile = join(dir, `${name}.args`);
  writeFileSync(consoleFile, lines.map((l) => `${l}\r\n`).join(''));
  const binary = join(dir, name);
  const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
  writeFileSync(binary, [
    '#!/bin/sh',
    `printf '%s\\n' "$@" > ${q(argsFile)}`,
    `cat ${q(consoleFile)}`,
    ...(o.sleepSeconds === undefined ? [] : [`exec sleep ${o.sleepSeconds}`]),
    `exit ${o.exit ?? 0}`,
    '',
  ].join('\n'));
  chmodSync(binary, 0o755);
  return {binary, argsFile};
}
