/**
 * Inputs for the `plan` CLI tests: ELF images written with test/fixtures/elf-builder.ts, memory map files, and a
 * runner that returns the parsed `plan --json` output (or the JSON error) with the raw result.
 */
import assert from 'node:assert/strict';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {buildElf, type BuildOptions} from '../fixtures/elf-builder.js';
import {runCli, type CliResult} from './corpus.js';
import type {ErrorOut, PlanOut} from './plan-check.js';

export const EM = {PPC: 20, X86_64: 62, AARCH64: 183, RISCV: 243} as const;

/** `n` bytes of a deterministic non-zero pattern that differs per seed (so misplaced bytes are caught). */
export function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = (x & 0xff) | 1;
  }
  return out;
}

export function fill(n: number, byte: number): Uint8Array {
  return new Uint8Array(n).fill(byte);
}

/** Writes an ELF built from `o` as DIR/NAME and returns the path. */
export function writeElf(dir: string, name: string, o: BuildOptions): string {
  const path = join(dir, name);
  writeFileSync(path, buildElf(o));
  return path;
}

export function writeText(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

export interface MapRange {
  start: bigint;
  end: bigint;
  type?: string;
  label?: string;
}

/** A JSON map file, one range per line. */
export function writeJsonMap(dir: string, name: string, ranges: MapRange[]): string {
  const lines = ranges.map((r) => JSON.stringify({
    start: `0x${r.start.toString(16)}`, end: `0x${r.end.toString(16)}`, type: r.type ?? 'ram', ...(r.label === undefined ? {} : {label: r.label}),
  }));
  return writeText(dir, name, `{\n  "ranges": [\n    ${lines.join(',\n    ')}\n  ]\n}\n`);
}

/** `sysctl vm.phys_segs` as FreeBSD prints it (vm_phys.c): blank line, SEGMENT n:, blank line, start, end, domain, free list. */
export function physSegsText(segs: {start: bigint; end: bigint; domain: number}[]): string {
  const blocks = segs.map((s, i) =>
    `SEGMENT ${i}:\n\nstart:     0x${s.start.toString(16)}\nend:       0x${s.end.toString(16)}\n` +
    `domain:    ${s.domain}\nfree list: 0xffffffff81c${(0x6b8c0 + i * 0x2e8).toString(16)}\n`);
  return `vm.phys_segs: \n${blocks.join('\n')}`;
}

export interface PlanRun {
  r: CliResult;
  plan?: PlanOut;
  error?: ErrorOut['error'];
}

/** `kexec-ts plan --json ARGS`: stdout must be JSON (a plan on exit 0, {"error"} otherwise), stderr has no stack. */
export async function planJson(args: string[]): Promise<PlanRun> {
  const r = await runCli(['plan', '--json', ...args]);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace on stderr');
  assert.doesNotMatch(r.stdout, /^\s+at .*:\d+:\d+\)?$/m, 'no stack trace on stdout');
  let parsed: unknown;
  assert.doesNotThrow(() => (parsed = JSON.parse(r.stdout)), `stdout is JSON (exit ${r.code}): ${r.stdout.slice(0, 300)} stderr: ${r.stderr.slice(0, 300)}`);
  if (r.code === 0) {
    assert.equal(r.stderr, '', 'stderr is empty on success');
    return {r, plan: parsed as PlanOut};
  }
  const e = (parsed as ErrorOut).error;
  assert.equal(e.code, r.code, 'error.code equals the exit code');
  return {r, error: e};
}

/** A plan that must succeed. */
export async function mustPlan(args: string[]): Promise<PlanOut> {
  const {r, plan} = await planJson(args);
  assert.equal(r.code, 0, `plan should succeed: ${r.stdout.slice(0, 500)}`);
  return plan as PlanOut;
}

/** A run that must fail with `code`; returns the JSON error. */
export async function mustFail(args: string[], code: number): Promise<ErrorOut['error']> {
  const {r, error} = await planJson(args);
  assert.equal(r.code, code, `exit ${code} expected: ${r.stdout.slice(0, 500)}`);
  assert.ok(error !== undefined);
  return error;
}
