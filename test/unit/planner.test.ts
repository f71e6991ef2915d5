/**
 * Planner rules as tables of named boundary cases: merging, overlap, memory ranges, budget, entry, placement,
 * and the validator's one message per rule.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {KexecError} from '../../src/errors.js';
import type {Image, Piece} from '../../src/image/types.js';
import {makeMemoryMap, type MemoryMap} from '../../src/memory/memory-map.js';
import {findPlacement} from '../../src/plan/placement.js';
import {plan} from '../../src/plan/planner.js';
import {Range} from '../../src/memory/range.js';
import {planViolations} from '../../src/plan/validate.js';
import type {Segment} from '../../src/plan/types.js';

const ram = (start: bigint, end: bigint, type = 'ram'): {range: Range; type: string} => ({range: new Range(start, end), type});
const MAP = makeMemoryMap('test map', [ram(0x0n, 0x100000n), ram(0x100000n, 0x200000n), ram(0x200000n, 0x300000n, 'reserved'), ram(0x300000n, 0x10000000n)]);
const bytes = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);
const piece = (label: string, mem: bigint, data: Uint8Array, memsz = BigInt(data.length)): Piece => ({label, mem, data, memsz});
const image = (pieces: Piece[], entry: bigint): Image => ({kind: 'elf', arch: 'amd64', machine: 62, files: ['t.elf'], fixed: pieces, entry});
const opts = {pageSize: 0x1000n};

function refusal(fn: () => unknown, reason: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof KexecError, String(e));
    assert.equal(e.reason, reason, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

test('pieces sharing a page become one segment; data offsets and bufsz follow the pieces', () => {
  const p = plan(image([piece('a', 0x400005n, bytes(5, 1)), piece('b', 0x40000an, bytes(5, 2)), piece('c', 0x400f00n, bytes(4, 3), 0x200n)], 0x400005n), MAP, opts);
  assert.equal(p.segments.length, 1);
  const s = p.segments[0] as Segment;
  assert.equal(s.mem, 0x400000n);
  assert.equal(s.memsz, 0x2000n); // 0x400f00 + 0x200 crosses into the next page
  assert.equal(s.bufsz, 0xf04n);
  assert.deepEqual(s.parts.map((x) => x.offset), [5n, 0xan, 0xf00n]);
});

test('u-root AlignAndMerge example: {0,5} {10,5} {15,4} {0x1000,10} {0x2000,1} -> touching pages join in one RAM range', () => {
  const pcs = [piece('a', 0x300000n, bytes(5, 1)), piece('b', 0x30000an, bytes(5, 1)), piece('c', 0x30000fn, bytes(4, 1)),
    piece('d', 0x301000n, bytes(10, 1)), piece('e', 0x302000n, bytes(1, 1))];
  const p = plan(image(pcs, 0x300000n), MAP, opts);
  assert.deepEqual(p.segments.map((s) => [s.mem, s.memsz]), [[0x300000n, 0x3000n]]);
});

test('touching pages in two different RAM ranges stay two segments', () => {
  const p = plan(image([piece('low', 0xff000n, bytes(0x1000, 1)), piece('high', 0x100000n, bytes(0x10, 2))], 0xff000n), MAP, opts);
  assert.deepEqual(p.segments.map((s) => s.mem), [0xff000n, 0x100000n]);
});

test('identical overlapping bytes are allowed and noted; bytes are written once', () => {
  const p = plan(image([piece('a', 0x400000n, bytes(0x20, 7)), piece('b', 0x400010n, bytes(0x20, 7))], 0x400000n), MAP, opts);
  assert.equal(p.segments[0]?.bufsz, 0x30n);
  assert.match(p.notes.join('\n'), /overlap at \[0x400010, 0x400020\) with identical bytes/);
  const total = p.segments[0]?.parts.reduce((n, x) => n + x.data.length, 0);
  assert.equal(total, 0x30);
});

test('overlap of data with zero fill is identical only when the data is zero', () => {
  plan(image([piece('bss', 0x400000n, bytes(0, 0), 0x100n), piece('zeros', 0x400080n, bytes(0x10, 0))], 0x400000n), MAP, opts);
  refusal(() => plan(image([piece('bss', 0x400000n, bytes(0, 0), 0x100n), piece('data', 0x400080n, Uint8Array.of(0, 0, 9, 0, 9))], 0x400000n), MAP, opts),
    'overlap-conflict', /different bytes at \[0x400082, 0x400085\)/);
});

test('refusals: each rule has its own reason and message', async (t) => {
  const cases: [string, () => unknown, string, RegExp][] = [
    ['outside every RAM range', () => plan(image([piece('a', 0x200000n, bytes(16, 1))], 0x200000n), MAP, opts), 'outside-memory', /outside every RAM range.*reserved/],
    ['past the end of RAM', () => plan(image([piece('a', 0xffff000n, bytes(0x2000, 1))], 0xffff000n), MAP, opts), 'outside-memory', /runs outside RAM range/],
    ['spanning two RAM ranges', () => plan(image([piece('a', 0xff800n, bytes(0x1000, 1))], 0xff800n), MAP, opts), 'spans-ranges', /spans 2 RAM ranges/],
    ['entry outside', () => plan(image([piece('a', 0x400000n, bytes(16, 1))], 0x500000n), MAP, opts), 'entry-outside', /entry 0x500000 is outside the image/],
    ['overflow', () => plan(image([piece('a', 0xfffffffffffff000n, bytes(16, 1), 0x2000n)], 0n), MAP, opts), 'overflow', /64-bit address space/],
    ['data larger than memsz', () => plan(image([piece('a', 0x400000n, bytes(16, 1), 8n)], 0x400000n), MAP, opts), 'piece-invalid', /do not fit/],
    ['nothing to load', () => plan(image([piece('a', 0x400000n, bytes(0, 0), 0n)], 0x400000n), MAP, opts), 'empty-image', /nothing to load/],
    ['bad page size', () => plan(image([piece('a', 0x400000n, bytes(1, 1))], 0x400000n), MAP, {pageSize: 0x3000n}), 'page-size', /power of two/],
  ];
  for (const [name, fn, reason, pattern] of cases) await t.test(name, () => refusal(fn, reason, pattern));
});

test('budget: 17 pages in one RAM range are joined across the smallest gap and reported', () => {
  const pcs = Array.from({length: 17}, (_, i) => piece(`p${i}`, 0x400000n + BigInt(i) * 0x3000n + (i === 9 ? 0x1000n : 0n), bytes(16, i + 1)));
  const p = plan(image(pcs, 0x400000n), MAP, opts);
  assert.equal(p.segments.length, 16);
  assert.equal(p.merges.length, 1);
  assert.match(p.merges[0] ?? '', /across 0x1000 bytes of zeros/);
});

test('budget: 17 segments in 17 RAM ranges cannot be joined', () => {
  const ranges = Array.from({length: 17}, (_, i) => ram(BigInt(i) * 0x10000n, BigInt(i) * 0x10000n + 0x8000n));
  const map = makeMemoryMap('17 ranges', ranges);
  const pcs = Array.from({length: 17}, (_, i) => piece(`p${i}`, BigInt(i) * 0x10000n, bytes(16, 1)));
  refusal(() => plan(image(pcs, 0n), map, opts), 'too-many-segments', /needs 17 segments.*at most 16/);
});

test('placement: bottom-up takes the lowest fit, top-down the highest, both inside one range and clear of fixed pieces', () => {
  const map: MemoryMap = makeMemoryMap('m', [ram(0x100000n, 0x400000n), ram(0x400000n, 0x800000n)]);
  const req = {label: 'g', size: 0x200000n, align: 0x200000n};
  assert.equal(findPlacement(map, {...req, strategy: 'bottom-up'}, [], 0x1000n), 0x200000n);
  assert.equal(findPlacement(map, {...req, strategy: 'top-down'}, [], 0x1000n), 0x600000n);
  assert.equal(findPlacement(map, {...req, strategy: 'bottom-up'}, [new Range(0x250000n, 0x251000n)], 0x1000n), 0x400000n);
  assert.equal(findPlacement(map, {...req, strategy: 'bottom-up', min: 0x500000n}, [], 0x1000n), 0x600000n);
  assert.equal(findPlacement(map, {...req, strategy: 'top-down', max: 0x600000n}, [], 0x1000n), 0x400000n);
  // A block that only fits across the boundary of two ranges does not fit.
  refusal(() => findPlacement(map, {label: 'big', size: 0x500000n, align: 0x1000n, strategy: 'bottom-up'}, [], 0x1000n), 'no-space', /no free RAM range/);
});

test('placement: top-down never aligns below the start of a range that is only just big enough', () => {
  const map = makeMemoryMap('m', [ram(0x101000n, 0x301000n)]);
  refusal(() => findPlacement(map, {label: 'g', size: 0x200000n, align: 0x200000n, strategy: 'top-down'}, [], 0x1000n), 'no-space', /aligned to 0x200000/);
});

test('validator: one violation per broken rule', async (t) => {
  const seg = (mem: bigint, memsz: bigint, bufsz = 0n): Segment => ({mem, memsz, bufsz, parts: [], contents: [], sha256: ''});
  const base = {pageSize: 0x1000n, entry: 0x400000n, flags: 0n};
  const cases: [string, Segment[], Partial<typeof base>, string][] = [
    ['mem unaligned', [seg(0x400800n, 0x1000n)], {entry: 0x400800n}, 'mem-unaligned'],
    ['memsz unaligned', [seg(0x400000n, 0x1800n)], {}, 'memsz-unaligned'],
    ['memsz zero', [seg(0x400000n, 0n), seg(0x401000n, 0x1000n)], {entry: 0x401000n}, 'memsz-zero'],
    ['bufsz > memsz', [seg(0x400000n, 0x1000n, 0x1001n)], {}, 'bufsz'],
    ['overlap', [seg(0x400000n, 0x2000n), seg(0x401000n, 0x1000n)], {}, 'overlap'],
    ['unsorted', [seg(0x401000n, 0x1000n), seg(0x400000n, 0x1000n)], {}, 'unsorted'],
    ['outside RAM', [seg(0x200000n, 0x1000n)], {entry: 0x200000n}, 'phys-seg'],
    ['entry outside', [seg(0x400000n, 0x1000n)], {entry: 0x900000n}, 'entry-outside'],
    ['flags', [seg(0x400000n, 0x1000n)], {flags: 1n}, 'flags'],
    ['too many', Array.from({length: 17}, (_, i) => seg(0x400000n + BigInt(i) * 0x1000n, 0x1000n)), {}, 'too-many-segments'],
  ];
  for (const [name, segments, extra, rule] of cases) {
    await t.test(name, () => {
      const v = planViolations({...base, ...extra, segments}, MAP);
      assert.deepEqual(v.map((x) => x.rule), [rule], JSON.stringify(v));
    });
  }
  assert.deepEqual(planViolations({...base, segments: [seg(0x400000n, 0x1000n)]}, MAP), []);
});

test('the plan digest changes when any segment byte changes', () => {
  const a = plan(image([piece('a', 0x400000n, bytes(16, 1))], 0x400000n), MAP, opts);
  const b = plan(image([piece('a', 0x400000n, Uint8Array.of(...bytes(15, 1), 2))], 0x400000n), MAP, opts);
  assert.notEqual(a.segments[0]?.sha256, b.segments[0]?.sha256);
  assert.notEqual(a.digest, b.digest);
});
