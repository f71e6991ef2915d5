/**
 * Property test of the planner: random sets of PT_LOAD-like pieces (addresses, sizes, gaps, overlaps with equal
 * or different bytes), random memory maps and page sizes. Every plan produced must pass the validator and hold
 * exactly the pieces' bytes (data, then zeros to memsz) and nothing else; every refusal must be a documented one.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {KexecError} from '../../src/errors.js';
import type {Image, Piece} from '../../src/image/types.js';
import {makeMemoryMap} from '../../src/memory/memory-map.js';
import {plan} from '../../src/plan/planner.js';
import {Range} from '../../src/memory/range.js';
import {segmentSha256} from '../../src/plan/segment-bytes.js';
import type {Plan} from '../../src/plan/types.js';
import {planViolations} from '../../src/plan/validate.js';
import {materializeBytes} from '../../src/io/file-bytes.js';

const RUNS = Number(process.env.PLAN_RUNS ?? 1500);
const DOCUMENTED = new Set(['outside-memory', 'spans-ranges', 'overlap-conflict', 'too-many-segments', 'entry-outside', 'empty-image']);

const pieceArb = fc.record({
  range: fc.nat(3),
  offset: fc.integer({min: -0x800, max: 0x60000}),
  data: fc.uint8Array({maxLength: 300}),
  extra: fc.oneof(fc.constant(0), fc.nat(0x3000)),
});

const scenarioArb = fc.record({
  pageShift: fc.constantFrom(12, 14, 16),
  ranges: fc.array(fc.record({gap: fc.nat(4), pages: fc.integer({min: 1, max: 200})}), {minLength: 1, maxLength: 4}),
  pieces: fc.array(pieceArb, {minLength: 1, maxLength: 24}),
  /** Copies of earlier pieces' bytes, shifted: identical overlaps (or different, when `flip`). */
  echoes: fc.array(fc.record({of: fc.nat(), shift: fc.nat(64), flip: fc.boolean()}), {maxLength: 3}),
  entryPiece: fc.nat(),
  entryOutside: fc.boolean(),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario): {image: Image; map: ReturnType<typeof makeMemoryMap>; pageSize: bigint; pieces: Piece[]} {
  const pageSize = 1n << BigInt(s.pageShift);
  let cursor = 0x100000n;
  const ranges = s.ranges.map((r) => {
    cursor += BigInt(r.gap) * pageSize;
    const range = new Range(cursor, cursor + BigInt(r.pages) * pageSize);
    cursor = range.end;
    return {range, type: 'ram'};
  });
  const map = makeMemoryMap('random map', ranges);
  const pieces: Piece[] = s.pieces.map((p, i) => {
    const r = (ranges[p.range % ranges.length] as {range: Range}).range;
    const mem = r.start + BigInt(p.offset) < 0n ? 0n : r.start + BigInt(p.offset);
    return {label: `p${i}`, mem, data: p.data, memsz: BigInt(p.data.length + p.extra)};
  });
  for (const e of s.echoes) {
    const src = pieces[e.of % pieces.length] as Piece;
    if (src.data.length <= e.shift) continue;
    const data = materializeBytes(src.data).slice(e.shift);
    if (e.flip && data.length > 0) data[data.length - 1] = (data[data.length - 1] ?? 0) ^ 0x5a;
    pieces.push({label: `echo of ${src.label}`, mem: src.mem + BigInt(e.shift), data, memsz: BigInt(data.length)});
  }
  const ep = pieces[s.entryPiece % pieces.length] as Piece;
  const entry = s.entryOutside ? cursor + 0x10000000n : ep.mem;
  return {image: {kind: 'elf', arch: 'test', machine: 0, files: ['random'], fixed: pieces, entry}, map, pageSize, pieces};
}

/** The byte a plan puts at `addr`, or undefined when no segment covers it. */
function planByte(p: Plan, addr: bigint): number | undefined {
  const seg = p.segments.find((s) => addr >= s.mem && addr < s.mem + s.memsz);
  if (seg === undefined) return undefined;
  const off = addr - seg.mem;
  for (const part of seg.parts) {
    if (off >= part.offset && off < part.offset + BigInt(part.data.length)) return materializeBytes(part.data)[Number(off - part.offset)];
  }
  return 0;
}

function expectedByte(pieces: Piece[], addr: bigint): number | undefined {
  for (const p of pieces) {
    if (addr < p.mem || addr >= p.mem + p.memsz) continue;
    const i = addr - p.mem;
    return i < BigInt(p.data.length) ? materializeBytes(p.data)[Number(i)] : 0;
  }
  return undefined;
}

test(`planner: ${RUNS} random piece sets plan correctly or are refused with a documented error`, () => {
  let planned = 0;
  let refused = 0;
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const {image, map, pageSize, pieces} = build(s);
      let p: Plan;
      try {
        p = plan(image, map, {pageSize});
      } catch (e) {
        assert.ok(e instanceof KexecError, `not a KexecError: ${String(e)}`);
        assert.equal(e.code, 4, e.message);
        assert.ok(DOCUMENTED.has(e.reason), `undocumented refusal ${e.reason}: ${e.message}`);
        refused++;
        return;
      }
      planned++;
      assert.deepEqual(planViolations(p, map), []);
      // Every piece byte is in the plan with its value (data, then zero fill).
      for (const piece of pieces) {
        for (let a = piece.mem; a < piece.mem + piece.memsz; a++) {
          assert.equal(planByte(p, a), expectedByte([piece], a), `${piece.label} byte at 0x${a.toString(16)}`);
        }
      }
      // Every byte the plan writes belongs to some piece; everything else a segment covers is zero.
      for (const seg of p.segments) {
        for (const part of seg.parts) {
          for (let k = 0; k < part.data.length; k++) {
            const a = seg.mem + part.offset + BigInt(k);
            assert.equal(expectedByte(pieces, a), materializeBytes(part.data)[k], `plan byte at 0x${a.toString(16)} belongs to no piece`);
          }
        }
        assert.equal(seg.sha256, segmentSha256(seg));
        assert.ok(seg.contents.every((c) => c.mem >= seg.mem && c.mem + c.memsz <= seg.mem + seg.memsz));
      }
    }),
    {numRuns: RUNS},
  );
  assert.ok(planned > RUNS / 10, `only ${planned} scenarios planned`);
  assert.ok(refused > RUNS / 20, `only ${refused} scenarios refused`);
  process.stdout.write(`# planner property: ${planned} planned, ${refused} refused\n`);
});
