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
import {materializeBytes} from '../../src/io/file-bytes.js';

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
      if (lo < hi) out.set(materializeBytes(part.data.subarray(Number(lo - start), Number(hi - start))), Number(lo - phys));
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
