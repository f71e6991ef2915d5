/**
 * Speed limits that used to be wall-clock assertions inside unit tests (where a loaded machine made them fail and
 * a fast one made them say nothing): each case is run in this process a few times and its median compared with a
 * target. The unit tests keep the behaviour (what is refused, with which message); this script keeps the speed.
 *
 *   npm run bench:limits               # 5 runs per case (also $BENCH_RUNS)
 *   npm run bench:limits -- --runs 9
 *
 * Prints a markdown table on stdout; exits 1 when a median misses its target, 2 when a case fails outright.
 * Cases:
 *   - the differing-overlap check (issue 11 bug 1): two 64 MiB pieces at one address differing in one byte; two
 *     pieces whose 1 TiB zero fills overlap; 4,000 identical pieces (test/regressions/overlap-check.test.ts);
 *   - an ELF header claiming 2^32 program headers (extended numbering) is rejected before anything is allocated
 *     (test/unit/elf-reader.test.ts);
 *   - the QEMU backend's timeout: exec of a QEMU that never answers returns once the timeout has passed, not when
 *     QEMU would have ended (test/qemu/qemu-exec.test.ts); measured as the time past the timeout.
 */
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {createQemuBackend} from '../src/backend/qemu/index.js';
import {ElfFile} from '../src/elf/elf-file.js';
import {KexecError} from '../src/errors.js';
import type {Image, Piece} from '../src/image/types.js';
import {makeMemoryMap} from '../src/memory/memory-map.js';
import {getProfile} from '../src/memory/profiles.js';
import {Range} from '../src/memory/range.js';
import {plan} from '../src/plan/planner.js';

interface Case {
  readonly name: string;
  /** The limit for the median, in milliseconds. */
  readonly targetMs: number;
  /** One run; returns the milliseconds to count (the whole call unless the case says otherwise). */
  run(): Promise<number> | number;
}

const MiB = 1 << 20;
const TiB = 1n << 40n;
const HUGE = makeMemoryMap('bench 4 TiB', [{range: new Range(0n, 4n * TiB), type: 'ram'}]);
const image = (fixed: Piece[], entry: bigint): Image => ({kind: 'elf', arch: 'amd64', machine: 62, files: ['bench.elf'], fixed, entry});

/** Times `fn`, which must throw a KexecError with exit code `code` whose reason or message matches `what`. */
function timedRefusal(code: number, what: RegExp, fn: () => unknown): number {
  const start = performance.now();
  try {
    fn();
  } catch (e) {
    const ms = performance.now() - start;
    if (e instanceof KexecError && e.code === code && (what.test(e.reason ?? '') || what.test(e.message))) return ms;
    throw e;
  }
  throw new Error(`expected a refusal (exit ${code}, ${what}), the call succeeded`);
}

function timed(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

const a64 = new Uint8Array(64 * MiB).fill(0x5a);
const b64 = a64.slice();
b64[40 * MiB + 3] = 0;

/** An ELF64 header (no tables) whose e_phnum is PN_XNUM and whose section 0 claims 2^32 - 1 program headers. */
function hugePhnumElf(): Uint8Array {
  const b = Buffer.alloc(64 + 64);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(62, 18); // EM_X86_64
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(64n, 32); // e_phoff
  b.writeBigUInt64LE(64n, 40); // e_shoff: section 0 right after the header
  b.writeUInt16LE(64, 52);
  b.writeUInt16LE(56, 54);
  b.writeUInt16LE(0xffff, 56); // e_phnum = PN_XNUM: the count is in section 0's sh_info
  b.writeUInt16LE(64, 58);
  b.writeUInt16LE(1, 60);
  b.writeUInt32LE(0xffffffff, 64 + 44); // sh_info
  return b;
}

/** A fake qemu-system-x86_64 that prints nothing and sleeps a minute, and a backend with a 0.5 s timeout. */
async function hangingQemu(dir: string): Promise<() => Promise<number>> {
  const binary = join(dir, 'fake-qemu');
  writeFileSync(binary, '#!/bin/sh\nexec sleep 60\n');
  chmodSync(binary, 0o755);
  const timeoutMs = 500;
  const data = new Uint8Array(16);
  const p = plan(image([{label: 'code', mem: 0x200000n, data, memsz: 16n}], 0x200000n), getProfile('qemu-amd64-1g').memoryMap, {pageSize: 0x1000n});
  let n = 0;
  return async () => {
    const backend = createQemuBackend({stateDir: join(dir, `state-${n++}`), arch: 'amd64', qemuBinary: binary, timeoutMs, graceMs: 200});
    await backend.load(p);
    const start = performance.now();
    const e = await backend.exec({}).then(() => undefined, (x: unknown) => x);
    const ms = performance.now() - start;
    if (!(e instanceof KexecError) || e.reason !== 'qemu-timeout') throw new Error(`expected qemu-timeout, got ${String(e)}`);
    return ms - timeoutMs;
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] as number : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function runsFromArgs(): number {
  const i = process.argv.indexOf('--runs');
  const raw = i >= 0 ? process.argv[i + 1] : process.env.BENCH_RUNS;
  const n = raw === undefined ? 5 : Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`limits-bench: --runs takes a whole number >= 1, got ${String(raw)}\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<number> {
  const runs = runsFromArgs();
  const dir = mkdtempSync(join(tmpdir(), 'kexec-bench-limits-'));
  try {
    const qemu = await hangingQemu(dir);
    const cases: Case[] = [
      {name: 'overlap: two 64 MiB pieces differing in one byte (refused)', targetMs: 1000, run: () => timedRefusal(4, /^overlap-conflict$/, () =>
        plan(image([{label: 'a', mem: 0x1000000n, data: a64, memsz: BigInt(a64.length)}, {label: 'b', mem: 0x1000000n, data: b64, memsz: BigInt(b64.length)}], 0x1000000n), HUGE, {pageSize: 0x1000n}))},
      {name: 'overlap: 1 TiB zero fills overlapping (refused by the RAM check)', targetMs: 100, run: () => {
        const d = new Uint8Array(4096).fill(1);
        return timedRefusal(4, /^spans-ranges$/, () => plan(image([{label: 'a', mem: 0x100000n, data: d, memsz: TiB}, {label: 'b', mem: 0x100000n, data: d, memsz: TiB}], 0x100000n),
          getProfile('amd64-4g').memoryMap, {pageSize: 0x1000n}));
      }},
      {name: 'overlap: 4,000 identical pieces (one note)', targetMs: 1000, run: () => timed(() => {
        const data = new Uint8Array(256).fill(7);
        plan(image(Array.from({length: 4000}, (_, i): Piece => ({label: `PT_LOAD ${i}`, mem: 0x100000n, data, memsz: 0x1000n})), 0x100000n), HUGE, {pageSize: 0x1000n});
      })},
      {name: 'ELF: a header claiming 2^32 program headers (rejected)', targetMs: 50, run: () => timedRefusal(3, /program header table \(4294967295 entries/, () => ElfFile.parse(hugePhnumElf(), 'huge.elf'))},
      {name: 'qemu: exec past a 0.5 s timeout, QEMU hanging (ms after the timeout)', targetMs: 1500, run: qemu},
    ];
    const rows: string[] = [];
    let missed = 0;
    for (const c of cases) {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) times.push(await c.run());
      const m = median(times);
      const ok = m <= c.targetMs;
      if (!ok) missed++;
      rows.push(`| ${c.name} | ${m.toFixed(1)} | ${Math.max(...times).toFixed(1)} | ${c.targetMs} | ${ok ? 'ok' : 'MISSED'} |`);
      process.stderr.write(`limits-bench: ${c.name}: median ${m.toFixed(1)} ms\n`);
    }
    process.stdout.write(['| case | median ms | max ms | target ms | |', '|---|---:|---:|---:|---|', ...rows, '', `${runs} runs per case, node ${process.version}`, ''].join('\n'));
    return missed === 0 ? 0 : 1;
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

main().then((code) => {
  process.exitCode = code;
}, (e: unknown) => {
  process.stderr.write(`limits-bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 2;
});
