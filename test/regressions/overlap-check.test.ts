/**
 * The differing-overlap check is linear in the data and free over zero fill (issue 11, bug 1; issue 13 item 3):
 * two 64 MiB pieces at one address that differ in one byte are refused with exactly that byte's range; two
 * pieces whose 1 TiB zero fills overlap are checked without touching the terabyte; 4,000 identical pieces give
 * one summarised note, not 4,000 (nor 8 million pair checks). The test timeouts here are hang guards (the old
 * byte-by-byte bigint loop took hours on the terabyte case), not speed checks: `npm run bench:limits` times these
 * cases against their targets.
 * Every refusal comes before any work proportional to memory sizes (hashing the zero fill).
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {KexecError} from '../../src/errors.js';
import type {Image, Piece} from '../../src/image/types.js';
import {makeMemoryMap} from '../../src/memory/memory-map.js';
import {getProfile} from '../../src/memory/profiles.js';
import {Range} from '../../src/memory/range.js';
import {plan} from '../../src/plan/planner.js';

const MiB = 1 << 20;
const TiB = 1n << 40n;
const HUGE = makeMemoryMap('test 4 TiB', [{range: new Range(0n, 4n * TiB), type: 'ram'}]);
const image = (fixed: Piece[], entry: bigint): Image => ({kind: 'elf', arch: 'amd64', machine: 62, files: ['t.elf'], fixed, entry});

function refusedWith(fn: () => unknown, reason: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof KexecError && e.code === 4 && e.reason === reason && message.test(e.message));
}

test('two 64 MiB pieces at one address differing in one byte: refused with exactly that byte', {timeout: 30000}, () => {
  const a = new Uint8Array(64 * MiB).fill(0x5a);
  const b = a.slice();
  b[40 * MiB + 3] = 0x00;
  const base = 0x1000000n;
  const at = base + BigInt(40 * MiB + 3);
  refusedWith(
    () => plan(image([{label: 'a', mem: base, data: a, memsz: BigInt(a.length)}, {label: 'b', mem: base, data: b, memsz: BigInt(b.length)}], base), HUGE, {pageSize: 0x1000n}),
    'overlap-conflict', new RegExp(`overlap with different bytes at \\[0x${at.toString(16)}, 0x${(at + 1n).toString(16)}\\)`),
  );
});

test('two PT_LOADs whose 1 TiB zero fills overlap: checked without touching the terabyte, then refused by the RAM check', {timeout: 30000}, () => {
  const data = new Uint8Array(4096).fill(1);
  const p = (label: string, d: Uint8Array): Piece => ({label, mem: 0x100000n, data: d, memsz: TiB});
  const amd64 = getProfile('amd64-4g').memoryMap;
  refusedWith(() => plan(image([p('a', data), p('b', data)], 0x100000n), amd64, {pageSize: 0x1000n}), 'spans-ranges', /segment \[0x100000, 0x10000100000\) .* spans 3 RAM ranges/);
  const longer = new Uint8Array(8192).fill(1);
  longer[8191] = 2;
  refusedWith(() => plan(image([p('a', data), p('b', longer)], 0x100000n), amd64, {pageSize: 0x1000n}), 'overlap-conflict', /at \[0x101000, 0x102000\)/);
  const ok = plan(image([{...p('a', data), memsz: 0x4000000n}, {...p('b', data), memsz: 0x4000000n}], 0x100000n), HUGE, {pageSize: 0x1000n});
  assert.equal(ok.segments.length, 1);
  assert.match(ok.notes.join('\n'), /1 piece overlaps earlier ones byte for byte; first: a \[0x100000, 0x4100000\) and b/);
});

test('4,000 identical pieces: one summarised note', {timeout: 30000}, () => {
  const data = new Uint8Array(256).fill(7);
  const pieces = Array.from({length: 4000}, (_, i): Piece => ({label: `PT_LOAD ${i}`, mem: 0x100000n, data, memsz: 0x1000n}));
  const p = plan(image(pieces, 0x100000n), HUGE, {pageSize: 0x1000n});
  const notes = p.notes.filter((n) => /overlap/.test(n));
  assert.deepEqual(notes.length, 1);
  assert.match(notes[0] ?? '', /^3999 pieces overlap earlier ones byte for byte; first: PT_LOAD 0 \[0x100000, 0x101000\) and PT_LOAD 1/);
});
