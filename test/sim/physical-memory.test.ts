/**
 * The sparse physical memory: unwritten RAM reads as zeros, writes and zero fills cross page boundaries, only
 * touched pages are stored, and every access outside RAM (holes, reserved ranges, past the end) throws.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {KexecError} from '../../src/errors.js';
import {PhysicalMemory} from '../../src/backend/sim/index.js';
import {makeMemoryMap} from '../../src/memory/memory-map.js';
import {getProfile} from '../../src/memory/profiles.js';
import {Range} from '../../src/memory/range.js';

const MAP = makeMemoryMap('test', [
  {range: new Range(0x1000n, 0x9f000n), type: 'ram'},
  {range: new Range(0x9f000n, 0x100000n), type: 'reserved', label: 'hole'},
  {range: new Range(0x100000n, 0x200000n), type: 'ram'},
  {range: new Range(0x200000n, 0x300000n), type: 'ram'},
  {range: new Range(0x100000000n, 0x140000000n), type: 'ram'},
]);

const notRam = (fn: () => unknown): void => {
  assert.throws(fn, (e: unknown) => e instanceof KexecError && e.reason === 'not-ram' && e.code === 5 && /outside RAM \(test\)/.test(e.message));
};

test('unwritten RAM reads as zeros and stores nothing', () => {
  const m = new PhysicalMemory(MAP);
  assert.deepEqual(m.read(0x13ffff000n, 0x1000), new Uint8Array(0x1000));
  assert.equal(m.residentPages, 0);
});

test('writes cross page boundaries and touching RAM ranges; reads see them; only touched pages are stored', () => {
  const m = new PhysicalMemory(MAP);
  const data = Uint8Array.from({length: 0x2003}, (_, i) => (i % 251) + 1);
  m.write(0x1fffffn, data); // spans the touching ranges [0x100000,0x200000) and [0x200000,0x300000)
  assert.deepEqual(m.read(0x1fffffn, data.length), data);
  assert.deepEqual(m.read(0x1ffffen, 2), Uint8Array.of(0, 1));
  assert.equal(m.residentPages, 4);
  m.write(0x13ffffff0n, new Uint8Array(16).fill(7));
  assert.equal(m.readUint(0x13ffffff8n, 8), 0x0707070707070707n);
  assert.equal(m.residentPages, 5);
});

test('zero fill clears partial pages and drops whole ones', () => {
  const m = new PhysicalMemory(MAP);
  m.write(0x100000n, new Uint8Array(0x3000).fill(0xaa));
  m.zero(0x100800n, 0x2000n);
  assert.equal(m.residentPages, 2);
  assert.deepEqual(m.read(0x1007ffn, 2), Uint8Array.of(0xaa, 0));
  assert.deepEqual(m.read(0x1027ffn, 2), Uint8Array.of(0, 0xaa));
});

test('accesses outside RAM throw: below, in a reserved hole, between ranges, past the end', () => {
  const m = new PhysicalMemory(MAP);
  notRam(() => m.read(0n, 1));
  notRam(() => m.read(0x9f000n, 1));
  notRam(() => m.read(0x9effen, 4)); // starts in RAM, runs into the hole
  notRam(() => m.write(0x300000n, Uint8Array.of(1)));
  notRam(() => m.zero(0x13ffff000n, 0x2000n));
  notRam(() => m.read(0x140000000n, 1));
  assert.equal(m.isRam(0x1000n, 0x9e000n), true);
  assert.equal(m.isRam(0x1000n, 0x9e001n), false);
  assert.deepEqual(m.read(0x9effen, 0), new Uint8Array(0));
});

test('loaded regions: the entry check and decoders find which segment holds an address; strings are read', () => {
  const m = new PhysicalMemory(getProfile('amd64-4g').memoryMap);
  m.write(0x200000n, new TextEncoder().encode('kernel\0ignored'));
  m.addRegion({start: 0x200000n, end: 0x201000n, label: 'segment 0'});
  assert.equal(m.regionContaining(0x200fffn)?.label, 'segment 0');
  assert.equal(m.regionContaining(0x201000n), undefined);
  assert.deepEqual(m.readCBytes(0x200000n), new TextEncoder().encode('kernel'));
  assert.throws(() => m.addRegion({start: 0xb0000000n, end: 0xb0001000n, label: 'running kernel'}), KexecError);
});
