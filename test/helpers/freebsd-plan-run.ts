/**
 * Inputs and a runner for the FreeBSD hand-off tests: test kernels written to a temporary directory (amd64 for
 * the freebsd-14 corpus with the built-in modules its linker.hints attributes to "kernel", amd64 1001000 for
 * freebsd-10.1, arm64), a small arm64 ET_DYN module, and `kexec-ts plan --json --export DIR` run through the
 * compiled CLI, returning the plan, its hand-off and the physical memory rebuilt from the segment files.
 */
import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {buildElf, symbolTable} from '../fixtures/elf-builder.js';
import {buildFreeBsdKernel, type KernelSpec} from '../fixtures/freebsd-kernel.js';
import {corpusFile, runCli, type CliResult} from './corpus.js';
import {PhysicalMemory} from './physical-memory.js';

export const FB14_DIR = corpusFile('freebsd-14-amd64');
export const FB101_DIR = corpusFile('freebsd-10.1-amd64');

export interface HandoffFile {
  name: string; type: string; addr: string; size: string; physical: string; modules: string[]; args?: string;
}

/** `handoff` of `plan --json` for a FreeBSD kernel (src/image/freebsd/freebsd-image.ts documents it). */
export interface Handoff {
  kind: string; arch: 'amd64' | 'arm64'; entry: string; kernelEntry: string; kernelEntryVirtual: string; loadBase: string;
  kernphys?: string; modulep: string; kernend: string; metadata: string; metadataSize: string; envp: string;
  physOffset: string; howto: string; env: Record<string, string>; files: HandoffFile[];
  dependencies: {file: string; module: string; neededBy: string; how: string}[];
}

export interface PlanJson {
  kind: string; arch: string; entry: string; pageSize: string; files: string[];
  segments: {index: number; mem: string; memsz: string; bufsz: string; contents: {label: string; mem: string; filesz: string; memsz: string}[]}[];
  budget: {used: number; max: number};
  memoryMap: {ranges: {start: string; end: string; type: string}[]};
  handoff: Handoff;
}

export interface PlanRun {
  dir: string;
  plan: PlanJson;
  h: Handoff;
  memory: PhysicalMemory;
}

/** MDT_VERSION records of a linker.hints file (kldxref format, version 1) whose kldfile is `kldfile`. */
export function hintsVersions(path: string, kldfile: string): {name: string; version: number}[] {
  const b = readFileSync(path);
  assert.equal(b.readInt32LE(0), 1, `${path}: linker.hints version 1`);
  const out: {name: string; version: number}[] = [];
  let at = 4;
  while (at + 4 <= b.length) {
    const len = b.readInt32LE(at);
    const end = at + 4 + len;
    let p = at + 4;
    const int = (): number => {
      p = (p + 3) & ~3;
      const v = b.readInt32LE(p);
      p += 4;
      return v;
    };
    const str = (): string => {
      const n = b[p] ?? 0;
      const s = b.subarray(p + 1, p + 1 + n).toString('latin1');
      p += 1 + n;
      return s;
    };
    if (int() === 3) {
      const name = str();
      const version = int();
      if (str() === kldfile) out.push({name, version});
    }
    at = end;
  }
  return out;
}

export function writeKernel(dir: string, name: string, spec: KernelSpec): string {
  const path = join(dir, name);
  writeFileSync(path, buildFreeBsdKernel(spec));
  return path;
}

/** The amd64 1402000 kernel that provides every module freebsd-14-amd64/linker.hints puts in "kernel". */
export function writeFb14Kernel(dir: string): string {
  const builtins = hintsVersions(join(FB14_DIR, 'linker.hints'), 'kernel').filter((m) => m.name !== 'kernel');
  assert.ok(builtins.length > 50, `linker.hints names ${builtins.length} built-in modules`);
  return writeKernel(dir, 'kernel', {arch: 'amd64', version: 1402000, builtins});
}

/** The amd64 1001000 kernel for freebsd-10.1-amd64 (linux.ko needs sysvmsg/sysvsem/sysvshm built in). */
export function writeFb101Kernel(dir: string): string {
  const builtins = ['sysvmsg', 'sysvsem', 'sysvshm'].map((name) => ({name, version: 1}));
  return writeKernel(dir, 'kernel', {arch: 'amd64', version: 1001000, builtins});
}

/** An arm64 ET_DYN module (p_vaddr from 0, data + bss, a symbol table outside the PT_LOADs), as a .ko file. */
export function writeArm64DynModule(dir: string, name: string): string {
  const text = Uint8Array.from({length: 0x1800}, (_, i) => (i * 29 + 3) & 0xff);
  const data = Uint8Array.from({length: 0x180}, (_, i) => (i * 7 + 11) & 0xff | 1);
  const {symtab, strtab} = symbolTable([{name: `${name}_modevent`, value: 0x40n, size: 0x20n, type: 2, shndx: 1}]);
  const bytes = buildElf({
    type: 3, osabi: 9, machine: 183, entry: 0n,
    segments: [
      {type: 1, vaddr: 0n, data: text, flags: 5, align: 0x1000n},
      {type: 1, vaddr: 0x2000n, data, memsz: 0x500n, flags: 6, align: 0x1000n},
    ],
    sections: [
      {name: '.text', type: 1, flags: 6n, addr: 0n, data: text, addralign: 16n},
      {name: '.data', type: 1, flags: 3n, addr: 0x2000n, data, addralign: 8n},
      {name: '.bss', type: 8, flags: 3n, addr: 0x2180n, size: 0x380n, addralign: 16n},
      {name: '.symtab', type: 2, data: symtab, link: 5, info: 1, addralign: 8n, entsize: 24n},
      {name: '.strtab', type: 3, data: strtab},
    ],
  });
  const path = join(dir, `${name}.ko`);
  writeFileSync(path, bytes);
  return path;
}

/** `kexec-ts plan --json ARGS`, exit 0 expected; returns the parsed plan and the raw result. */
export async function planJsonOk(args: string[]): Promise<{r: CliResult; plan: PlanJson}> {
  const r = await runCli(['plan', '--json', ...args]);
  assert.equal(r.code, 0, `plan ${args.join(' ')} failed (exit ${r.code}): ${r.stdout.slice(0, 600)} ${r.stderr.slice(0, 600)}`);
  return {r, plan: JSON.parse(r.stdout) as PlanJson};
}

/** `kexec-ts plan --json --export DIR ARGS` and the physical memory rebuilt from DIR. */
export async function planExport(dir: string, args: string[]): Promise<PlanRun> {
  const {plan} = await planJsonOk(['--export', dir, ...args]);
  assert.equal(plan.kind, 'freebsd', 'planned as a FreeBSD kernel');
  assert.ok(plan.handoff !== undefined && plan.handoff.kind === 'freebsd', 'plan has a FreeBSD hand-off');
  const {plan: exported, memory} = PhysicalMemory.fromExport(dir);
  assert.deepEqual(exported, plan, 'DIR/plan.json equals the --json output');
  return {dir, plan, h: plan.handoff, memory};
}
