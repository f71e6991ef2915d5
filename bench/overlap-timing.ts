/**
 * The differing-overlap report at 64 MiB, timed in this process (no start-up in the figure): two 64 MiB pieces at
 * one address that differ in their last byte, so the check must compare all of it before it refuses with that
 * byte's range. Returns the wall time of each run in milliseconds, after checking the refusal is the right one.
 */
import {KexecError} from '../src/errors.js';
import type {Image} from '../src/image/types.js';
import {makeMemoryMap} from '../src/memory/memory-map.js';
import {Range} from '../src/memory/range.js';
import {plan} from '../src/plan/planner.js';

const SIZE = 64 << 20;

export function timeOverlapReport(runs: number): number[] {
  const a = new Uint8Array(SIZE).fill(0x5a);
  const b = a.slice();
  b[SIZE - 1] = 0;
  const base = 0x1000000n;
  const map = makeMemoryMap('bench 4 GiB', [{range: new Range(0n, 1n << 32n), type: 'ram'}]);
  const image: Image = {
    kind: 'elf', arch: 'amd64', machine: 62, files: ['overlap.elf'], entry: base,
    fixed: [{label: 'a', mem: base, data: a, memsz: BigInt(SIZE)}, {label: 'b', mem: base, data: b, memsz: BigInt(SIZE)}],
  };
  const want = `[0x${(base + BigInt(SIZE - 1)).toString(16)}, 0x${(base + BigInt(SIZE)).toString(16)})`;
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    try {
      plan(image, map, {pageSize: 0x1000n});
      throw new Error('the differing overlap was not refused');
    } catch (e) {
      if (!(e instanceof KexecError) || e.reason !== 'overlap-conflict' || !e.message.includes(want)) throw e;
    }
    out.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return out;
}
