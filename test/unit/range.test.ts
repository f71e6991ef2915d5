import {test} from 'node:test';
import assert from 'node:assert/strict';
import {Range, alignDown, alignUp, isPowerOfTwo} from '../../src/memory/range.js';

test('Range is [start, end) with an inclusive last', () => {
  const r = Range.ofSize(0x1000n, 0x2000n);
  assert.equal(r.end, 0x3000n);
  assert.equal(r.last, 0x2fffn);
  assert.ok(r.contains(0x2fffn));
  assert.ok(!r.contains(0x3000n));
  assert.equal(r.toString(), '[0x1000, 0x3000)');
});

test('ranges that only touch do not overlap', () => {
  assert.ok(!new Range(0n, 0x1000n).overlaps(new Range(0x1000n, 0x2000n)));
  assert.ok(new Range(0n, 0x1001n).overlaps(new Range(0x1000n, 0x2000n)));
});

test('alignment helpers', () => {
  assert.equal(alignDown(0x1fffn, 0x1000n), 0x1000n);
  assert.equal(alignUp(0x1001n, 0x1000n), 0x2000n);
  assert.equal(alignUp(0x1000n, 0x1000n), 0x1000n);
  assert.ok(isPowerOfTwo(0x4000n));
  assert.ok(!isPowerOfTwo(0x3000n));
  assert.throws(() => new Range(0x2000n, 0x1000n), RangeError);
});
