/**
 * Checks on the output of `kexec-ts plan --json --export DIR`, shared by the corpus and CLI plan tests. Everything
 * here works from the CLI's output files and the input file's raw bytes only (never from kexec-ts's own reader or
 * planner), so the tests cannot agree with a bug by construction.
 */
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';

/** The parts of `plan --json` these checks read (see src/plan/plan-json.ts). */
export interface PlanOut {
  kind: string;
  arch: string;
  machine: number;
  pageSize: string;
  entry: string;
  flags: string;
  files: string[];
  segments: {
    index: number; mem: string; memsz: string; bufsz: string; sha256: string;
    contents: {label: string; mem: string; filesz: string; memsz: string}[];
  }[];
  budget: {used: number; max: number};
  merges: string[];
  notes: string[];
  memoryMap: {source: string; ranges: {start: string; end: string; type: string; label?: string}[]};
  digest: string;
}

export interface ErrorOut {
  error: {code: number; reason: string; message: string; hint?: string};
}

/** The refusal reasons documented for `plan` (exit 4). */
export const PLAN_REFUSALS = ['outside-memory', 'spans-ranges', 'overlap-conflict', 'too-many-segments', 'entry-outside', 'no-space', 'empty-image', 'not-bootable', 'arch-mismatch'];

const HEX = /^0x[0-9a-f]+$/;

export function big(s: string): bigint {
  assert.match(s, HEX, `expected a lowercase hex string, got ${JSON.stringify(s)}`);
  return BigInt(s);
}

export function segmentPath(dir: string, index: number): string {
  return join(dir, `segment-${String(index).padStart(2, '0')}.bin`);
}

/** Segment extents: page aligned, memsz > 0, bufsz <= memsz, sorted, non-overlapping, at most 16; budget consistent. */
export function checkSegmentShape(plan: PlanOut): void {
  const ps = big(plan.pageSize);
  assert.ok(ps >= 0x1000n && (ps & (ps - 1n)) === 0n, `page size ${plan.pageSize} is a power of two >= 4 KiB`);
  assert.ok(plan.segments.length >= 1 && plan.segments.length <= 16, `1..16 segments, got ${plan.segments.length}`);
  assert.deepEqual(plan.budget, {used: plan.segments.length, max: 16});
  assert.equal(plan.flags, '0x0');
  assert.match(plan.digest, /^[0-9a-f]{64}$/);
  let prevEnd = -1n;
  plan.segments.forEach((s, i) => {
    assert.equal(s.index, i, 'segment index');
    const mem = big(s.mem);
    const memsz = big(s.memsz);
    const bufsz = big(s.bufsz);
    assert.equal(mem % ps, 0n, `segment ${i} mem ${s.mem} is page aligned`);
    assert.equal(memsz % ps, 0n, `segment ${i} memsz ${s.memsz} is a page multiple`);
    assert.ok(memsz > 0n, `segment ${i} memsz > 0`);
    assert.ok(bufsz <= memsz, `segment ${i} bufsz ${s.bufsz} <= memsz ${s.memsz}`);
    assert.match(s.sha256, /^[0-9a-f]{64}$/);
    assert.ok(mem >= prevEnd, `segment ${i} at ${s.mem} starts after the previous one ends (sorted, no overlap)`);
    prevEnd = mem + memsz;
  });
}

/** Every segment lies inside exactly one 'ram' range of the plan's own memory map. */
export function checkSegmentsInRam(plan: PlanOut): void {
  const ram = plan.memoryMap.ranges.filter((r) => r.type === 'ram').map((r) => ({start: big(r.start), end: big(r.end)}));
  for (const s of plan.segments) {
    const lo = big(s.mem);
    const hi = lo + big(s.memsz);
    const holders = ram.filter((r) => lo >= r.start && hi <= r.end);
    assert.equal(holders.length, 1, `segment [${s.mem}, +${s.memsz}) lies in exactly one RAM range of ${plan.memoryMap.source}`);
  }
}

export function checkEntryInside(plan: PlanOut): void {
  const e = big(plan.entry);
  const hit = plan.segments.some((s) => e >= big(s.mem) && e < big(s.mem) + big(s.memsz));
  assert.ok(hit, `entry ${plan.entry} lies inside a segment`);
}

/** Physical memory rebuilt from the exported segment files: segment bytes, zeros past bufsz up to memsz. */
export class PhysMemory {
  private readonly segs: {start: bigint; end: bigint; bytes: Buffer}[];

  constructor(plan: PlanOut, dir: string) {
    this.segs = plan.segments.map((s) => ({start: big(s.mem), end: big(s.mem) + big(s.memsz), bytes: readFileSync(segmentPath(dir, s.index))}));
  }

  /** `len` bytes from physical address `addr`; fails the test if any of them is in no segment. */
  read(addr: bigint, len: number, what: string): Buffer {
    const out = Buffer.alloc(len);
    let at = 0;
    while (at < len) {
      const a = addr + BigInt(at);
      const seg = this.segs.find((s) => a >= s.start && a < s.end);
      assert.ok(seg !== undefined, `${what}: physical address 0x${a.toString(16)} is in no segment`);
      const n = Math.min(len - at, Number(seg.end - a));
      const off = Number(a - seg.start);
      const avail = Math.max(0, Math.min(n, seg.bytes.length - off));
      if (avail > 0) seg.bytes.copy(out, at, off, off + avail);
      at += n; // the rest of this stretch stays zero (past bufsz)
    }
    return out;
  }

  /** Fails if any segment byte outside the `data` ranges (physical start, length) is non-zero: no stray bytes. */
  assertOnly(data: readonly {start: bigint; length: number}[]): void {
    for (const s of this.segs) {
      const copy = Buffer.from(s.bytes);
      for (const d of data) {
        const lo = d.start > s.start ? d.start : s.start;
        const hi = d.start + BigInt(d.length) < s.end ? d.start + BigInt(d.length) : s.end;
        if (hi > lo) copy.fill(0, Math.min(copy.length, Number(lo - s.start)), Math.min(copy.length, Number(hi - s.start)));
      }
      const nz = copy.findIndex((b) => b !== 0);
      assert.equal(nz, -1, `segment at 0x${s.start.toString(16)} has a stray non-zero byte at 0x${(s.start + BigInt(nz)).toString(16)}`);
    }
  }
}

/** The PT_LOAD's file bytes are at `paddr`, then zeros up to memsz. */
export function assertLoaded(mem: PhysMemory, paddr: bigint, fileBytes: Uint8Array, memsz: bigint, what: string): void {
  const data = mem.read(paddr, fileBytes.length, what);
  if (Buffer.compare(data, fileBytes) !== 0) {
    let i = 0;
    while (data[i] === fileBytes[i]) i++;
    assert.fail(`${what}: byte at 0x${(paddr + BigInt(i)).toString(16)} is 0x${data[i]?.toString(16)}, file has 0x${fileBytes[i]?.toString(16)}`);
  }
  const tail = Number(memsz) - fileBytes.length;
  if (tail > 0) {
    const zeros = mem.read(paddr + BigInt(fileBytes.length), tail, `${what} (zero fill)`);
    const nz = zeros.findIndex((b) => b !== 0);
    assert.equal(nz, -1, `${what}: zero fill has a non-zero byte at 0x${(paddr + BigInt(fileBytes.length) + BigInt(nz)).toString(16)}`);
  }
}

/** DIR/plan.json equals the stdout plan; each segment file is bufsz bytes whose SHA-256 (plus zeros to memsz) matches. */
export function checkExport(plan: PlanOut, dir: string): void {
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')), plan, 'DIR/plan.json equals the --json plan');
  for (const s of plan.segments) {
    const bytes = readFileSync(segmentPath(dir, s.index));
    assert.equal(BigInt(bytes.length), big(s.bufsz), `segment-${s.index} file has exactly bufsz bytes`);
    const h = createHash('sha256').update(bytes);
    let fill = big(s.memsz) - big(s.bufsz);
    const zero = Buffer.alloc(1 << 20);
    while (fill > 0n) {
      const k = fill > BigInt(zero.length) ? zero.length : Number(fill);
      h.update(zero.subarray(0, k));
      fill -= BigInt(k);
    }
    assert.equal(h.digest('hex'), s.sha256, `segment ${s.index}: sha256 over its file plus zero fill`);
  }
  assert.ok(!existsSync(segmentPath(dir, plan.segments.length)), 'no segment file beyond the last segment');
}

/** All of the above that does not need the input: shape, RAM, entry, export files. */
export function checkPlanOutput(plan: PlanOut, dir: string): PhysMemory {
  checkSegmentShape(plan);
  checkSegmentsInRam(plan);
  checkEntryInside(plan);
  checkExport(plan, dir);
  return new PhysMemory(plan, dir);
}

/** What a refusal message must name, per reason. */
const REFUSAL_WORDS: Record<string, RegExp> = {
  'outside-memory': /segment \[0x[0-9a-f]+, 0x[0-9a-f]+\).*outside/,
  'spans-ranges': /segment \[0x[0-9a-f]+, 0x[0-9a-f]+\).*spans \d+ RAM ranges/,
  'overlap-conflict': /overlap with different bytes at \[0x[0-9a-f]+, 0x[0-9a-f]+\)/,
  'too-many-segments': /needs \d+ segments.*at most 16/,
  'entry-outside': /entry 0x[0-9a-f]+.*outside/,
  'no-space': /no free RAM range.*0x[0-9a-f]+ bytes/,
  'empty-image': /nothing to load/,
  'kernel-not-relocatable': /kernphys/,
};

/** Exit 4 with `{"error": {code 4, a documented reason, a one-line message naming the rule and addresses}}`. */
export function checkRefusal(code: number, stdout: string, stderr: string, alsoAllowed: readonly string[] = []): ErrorOut['error'] {
  assert.equal(code, 4, `exit code 4 for a refusal (stdout: ${stdout.slice(0, 400)} stderr: ${stderr.slice(0, 400)})`);
  assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
  const parsed = JSON.parse(stdout) as ErrorOut;
  assert.deepEqual(Object.keys(parsed), ['error']);
  const e = parsed.error;
  assert.equal(e.code, 4);
  const allowed = [...PLAN_REFUSALS, ...alsoAllowed];
  assert.ok(allowed.includes(e.reason), `reason ${JSON.stringify(e.reason)} is one of ${allowed.join(', ')}`);
  assert.ok(!e.message.includes('\n'), 'message is one line');
  const words = REFUSAL_WORDS[e.reason];
  if (words !== undefined) assert.match(e.message, words, `message for ${e.reason} names the rule and addresses: ${e.message}`);
  return e;
}
