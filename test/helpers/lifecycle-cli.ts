/**
 * Shared by the end-to-end lifecycle tests (test/lifecycle): runs the compiled CLI (dist/, so `npm run build` first)
 * as a script would, in this process (`runCli`, cli.ts) or, for what only a process shows, in a process of its own
 * (`startCli`, `runCliProcess`, cli-process.ts); the assertions every such test makes on a run; the ELF images
 * the tests load.
 */
import assert from 'node:assert/strict';
import {closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {buildElf} from '../fixtures/elf-builder.js';
import {cli, type InProcessOptions} from './cli.js';
import type {CliRun} from './cli-process.js';

export {CLI_SKIP} from './cli-root.js';
export {runCliProcess, startCli, type CliRun, type RunOptions, type Running} from './cli-process.js';

/** A temp dir removed when the test (or suite) ends. */
export function tempDir(t: {after: (fn: () => void) => void}, prefix = 'kexec-life-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, {recursive: true, force: true}));
  return dir;
}

/** `kexec-ts ARGS` in this process, as a finished run (never a signal); never rejects, whatever the exit code. */
export async function runCli(args: readonly string[], o: InProcessOptions = {}): Promise<CliRun> {
  return {...await cli(args, o), signal: null};
}

/** A short description of a run for assertion messages. */
export function show(r: CliRun): string {
  return `exit ${r.code ?? r.signal}\n--- stdout:\n${r.stdout.slice(0, 2000)}\n--- stderr:\n${r.stderr.slice(0, 2000)}`;
}

/** Asserts the exit code and returns the run. */
export function expectExit(r: CliRun, code: number, what = ''): CliRun {
  assert.equal(r.code, code, `${what} ${show(r)}`);
  return r;
}

/** stdout must be exactly one JSON document (JSON.parse rejects a second one); returns it. */
export function oneJson<T = Record<string, unknown>>(r: CliRun): T {
  let parsed: unknown;
  assert.doesNotThrow(() => (parsed = JSON.parse(r.stdout)), `stdout is not exactly one JSON document: ${show(r)}`);
  assert.equal(typeof parsed, 'object', `stdout holds a JSON object: ${show(r)}`);
  assert.ok(parsed !== null && !Array.isArray(parsed), `stdout holds a JSON object: ${show(r)}`);
  return parsed as T;
}

/** No JavaScript stack frames in a stream. */
export function assertNoStack(text: string, what: string): void {
  assert.doesNotMatch(text, /^\s+at \S.*(?:\(|\s)\S+:\d+:\d+\)?$/m, `${what} holds a stack trace:\n${text}`);
}

/** A text-mode failure: nothing on stdout, exactly one `kexec-ts: ` line on stderr (plus an optional hint line). */
export function assertOneErrorLine(r: CliRun, message: RegExp): string {
  assert.equal(r.stdout, '', `stdout is empty on failure: ${show(r)}`);
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  const errors = lines.filter((l) => l.startsWith('kexec-ts: '));
  assert.equal(errors.length, 1, `one kexec-ts: line on stderr: ${show(r)}`);
  assert.match(errors[0] ?? '', message);
  const others = lines.filter((l) => !l.startsWith('kexec-ts: ') && !/^ {2}hint: /.test(l) && !/^[❯✔✖↓] /.test(l));
  assert.deepEqual(others, [], `stderr holds only the error, its hint and progress lines: ${show(r)}`);
  assertNoStack(r.stderr, 'stderr');
  return errors[0] ?? '';
}

/** The `{error: {...}}` document of a --json failure, checked against the exit code. */
export function jsonError(r: CliRun, code: number): {code: number; reason: string; message: string; hint?: string; details?: Record<string, unknown>} {
  expectExit(r, code);
  const doc = oneJson<{error?: {code: number; reason: string; message: string}}>(r);
  assert.ok(doc.error !== undefined, `an error document: ${show(r)}`);
  assert.equal(doc.error.code, code);
  assert.equal(typeof doc.error.message, 'string');
  return doc.error;
}

/** Deterministic non-zero bytes that differ per seed. */
export function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = ((i * 131 + seed * 17 + (i >> 9)) & 0xff) | 1;
  return out;
}

/**
 * A small ET_EXEC (x86-64 unless `machine` says otherwise): PT_LOAD at 0x400000 (0x100 bytes) listed before PT_LOAD at 0x200000 (0x1800 bytes, bss to
 * 0x3000); entry 0x200010. Inside the RAM of amd64-4g and of a map covering [0x100000, 0x8000000).
 */
export function writeSmallElf(dir: string, name = 'small.elf', seed = 1, machine = 62): string {
  const path = join(dir, name);
  writeFileSync(path, buildElf({
    machine,
    entry: 0x200010n,
    segments: [{vaddr: 0x400000n, data: pattern(0x100, seed + 1)}, {vaddr: 0x200000n, data: pattern(0x1800, seed), memsz: 0x3000n}],
  }));
  return path;
}

/**
 * A large x86-64 ET_EXEC streamed to `path` in 1 MiB chunks (never held in memory): one PT_LOAD of `size` bytes at
 * p_paddr = p_vaddr = `paddr`, entry at its start, no section headers. Chunk i starts with i, so no two match.
 */
export function writeLargeElf(path: string, size: number, paddr = 0x1000000n): void {
  const CHUNK = 1 << 20;
  assert.equal(size % CHUNK, 0);
  const off = 0x1000;
  const h = Buffer.alloc(off);
  h.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  h.writeUInt16LE(2, 16); // ET_EXEC
  h.writeUInt16LE(62, 18); // EM_X86_64
  h.writeUInt32LE(1, 20);
  h.writeBigUInt64LE(paddr, 24); // e_entry
  h.writeBigUInt64LE(64n, 32); // e_phoff
  h.writeUInt16LE(64, 52);
  h.writeUInt16LE(56, 54);
  h.writeUInt16LE(1, 56); // e_phnum
  h.writeUInt16LE(64, 58);
  const p = 64;
  h.writeUInt32LE(1, p); // PT_LOAD
  h.writeUInt32LE(5, p + 4);
  h.writeBigUInt64LE(BigInt(off), p + 8);
  h.writeBigUInt64LE(paddr, p + 16);
  h.writeBigUInt64LE(paddr, p + 24);
  h.writeBigUInt64LE(BigInt(size), p + 32);
  h.writeBigUInt64LE(BigInt(size), p + 40);
  h.writeBigUInt64LE(0x1000n, p + 48);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, h);
    const chunk = Buffer.from(pattern(CHUNK, 9));
    for (let i = 0; i < size / CHUNK; i++) {
      chunk.writeUInt32LE(i, 0);
      writeSync(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
}

/** `--backend sim --state-dir DIR`. */
export function sim(stateDir: string): string[] {
  return ['--backend', 'sim', '--state-dir', stateDir];
}

/** Shapes of the JSON documents the tests read. */
export interface StagedJSON {
  backend: string;
  digest: string;
  kind: string;
  arch: string;
  entry: string;
  files: string[];
  segments: number;
  memsz: string;
}
export interface StatusJSON {
  backend: string;
  staged: StagedJSON | null;
  booted: {digest: string; kernel: string; bootedAt: string} | null;
  stateDir?: string;
}
export interface PlanJSONOut {
  kind: string;
  arch: string;
  entry: string;
  flags: string;
  files: string[];
  digest: string;
  memoryMap: {source: string};
  segments: {index: number; mem: string; memsz: string; bufsz: string; sha256: string}[];
}
export interface LoadJSON {
  backend: string;
  dryRun: boolean;
  staged: StagedJSON | null;
  plan: PlanJSONOut;
}
export interface BootJSON {
  backend: string;
  digest: string;
  entry: string;
  segmentsVerified: number;
  handoff: Record<string, unknown>;
  lines: string[];
}
