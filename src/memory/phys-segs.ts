/**
 * Parser for FreeBSD `sysctl vm.phys_segs` output (sys/vm/vm_phys.c, sysctl_vm_phys_segs): the memory map that
 * kexec_load(2) checks every segment against, so it is the most faithful map of a real target. Accepts the plain
 * form (leading `vm.phys_segs:` line) and the `sysctl -n` form. Every malformed line is refused with the line
 * number, the field and the value: a map we half-understood could place a segment over the running kernel.
 *
 * Per segment the kernel prints: blank line, `SEGMENT <n>:`, blank line, `start:`, `end:` (exclusive),
 * `domain:` (NUMA-aware kernels only), `free list:` (a kernel pointer). Values use `%#jx`, so zero prints as `0`.
 */
import {KexecError, hex} from '../errors.js';
import {Range, U64_LIMIT, compareBigint} from './range.js';
import {makeMemoryMap, type MemoryMap, type MemoryRange} from './memory-map.js';

interface SegmentDraft {
  readonly number: number;
  readonly line: number;
  start?: {value: bigint; line: number};
  end?: {value: bigint; line: number};
  domain?: number;
  freeListSeen: boolean;
}

interface ParsedSegment {
  readonly number: number;
  readonly line: number;
  readonly range: Range;
  readonly domain: number | undefined;
}

const HEADER = /^SEGMENT\s+(\d+):$/;
const KEY_LINE = /^([a-z][a-z ]*?)\s*:\s*(.*)$/;
/** `%#jx`: `0x` followed by hex digits, or a bare `0`. */
const JX = /^(?:0[xX][0-9a-fA-F]+|0)$/;

function fail(source: string, line: number, message: string): never {
  throw new KexecError('usage', `${source}:${line}: ${message}`, {
    reason: 'bad-phys-segs',
    hint: 'give the unmodified output of `sysctl vm.phys_segs` (or `sysctl -n vm.phys_segs`)',
  });
}

function parseJx(source: string, line: number, field: string, raw: string): bigint {
  if (!JX.test(raw)) fail(source, line, `${field}: bad number "${raw}" (expected a %#jx value such as 0x1000 or 0)`);
  const value = BigInt(raw);
  if (value >= U64_LIMIT) fail(source, line, `${field}: value ${raw} does not fit in 64 bits`);
  return value;
}

function finish(source: string, d: SegmentDraft): ParsedSegment {
  if (d.start === undefined) fail(source, d.line, `SEGMENT ${d.number}: missing start`);
  if (d.end === undefined) fail(source, d.line, `SEGMENT ${d.number}: missing end`);
  if (d.end.value < d.start.value) {
    fail(source, d.end.line, `SEGMENT ${d.number}: end ${hex(d.end.value)} is below start ${hex(d.start.value)}`);
  }
  if (d.end.value === d.start.value) {
    fail(source, d.end.line, `SEGMENT ${d.number}: end ${hex(d.end.value)} equals start (empty segment)`);
  }
  return {number: d.number, line: d.line, range: new Range(d.start.value, d.end.value), domain: d.domain};
}

/**
 * Parses `sysctl vm.phys_segs` text. `source` names where the text came from (a path, or 'vm.phys_segs') and
 * prefixes every error as `${source}:${line}:`; the map's source is `vm.phys_segs (${source})`. All ranges are 'ram'.
 */
export function parsePhysSegs(text: string, source: string): MemoryMap {
  const lines = text.split('\n');
  const segments: ParsedSegment[] = [];
  const seenNumbers = new Map<number, number>();
  let current: SegmentDraft | undefined;
  let sawPrefix = false;

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = (lines[i] ?? '').replace(/\r$/, '').trim();
    if (!sawPrefix && current === undefined && segments.length === 0 && line.startsWith('vm.phys_segs:')) {
      sawPrefix = true;
      line = line.slice('vm.phys_segs:'.length).trim();
    }
    if (line === '') continue;

    const header = HEADER.exec(line);
    if (header !== null) {
      if (current !== undefined) segments.push(finish(source, current));
      const digits = header[1] ?? '';
      const n = Number(digits);
      if (!Number.isSafeInteger(n)) fail(source, lineNo, `SEGMENT number "${digits}" is out of range`);
      const dup = seenNumbers.get(n);
      if (dup !== undefined) fail(source, lineNo, `SEGMENT ${n} appears twice (first on line ${dup})`);
      seenNumbers.set(n, lineNo);
      current = {number: n, line: lineNo, freeListSeen: false};
      continue;
    }

    const kv = KEY_LINE.exec(line);
    if (kv === null) fail(source, lineNo, `unrecognised line "${line}"`);
    const key = kv[1] ?? '';
    const raw = kv[2] ?? '';
    if (current === undefined) fail(source, lineNo, `"${key}: ${raw}" appears before any "SEGMENT <n>:" line`);
    const seg = current;
    const dupKey = (seen: boolean): void => {
      if (seen) fail(source, lineNo, `SEGMENT ${seg.number}: ${key} given twice ("${raw}")`);
    };
    switch (key) {
      case 'start':
        dupKey(seg.start !== undefined);
        seg.start = {value: parseJx(source, lineNo, key, raw), line: lineNo};
        break;
      case 'end':
        dupKey(seg.end !== undefined);
        seg.end = {value: parseJx(source, lineNo, key, raw), line: lineNo};
        break;
      case 'domain': {
        dupKey(seg.domain !== undefined);
        const d = /^\d+$/.test(raw) ? Number(raw) : NaN;
        if (!Number.isSafeInteger(d)) fail(source, lineNo, `domain: bad number "${raw}" (expected a decimal domain id)`);
        seg.domain = d;
        break;
      }
      case 'free list':
        dupKey(seg.freeListSeen);
        parseJx(source, lineNo, key, raw); // a kernel pointer: checked for shape, otherwise unused
        seg.freeListSeen = true;
        break;
      default:
        fail(source, lineNo, `unknown key "${key}" (value "${raw}"; expected start, end, domain or free list)`);
    }
  }
  if (current !== undefined) segments.push(finish(source, current));
  if (segments.length === 0) {
    fail(source, 1, 'no "SEGMENT <n>:" blocks found; is this `sysctl vm.phys_segs` output?');
  }

  const byStart = [...segments].sort((a, b) => compareBigint(a.range.start, b.range.start));
  for (let i = 1; i < byStart.length; i++) {
    const a = byStart[i - 1];
    const b = byStart[i];
    if (a !== undefined && b !== undefined && a.range.overlaps(b.range)) {
      const [first, second] = a.line < b.line ? [a, b] : [b, a];
      fail(
        source,
        second.line,
        `SEGMENT ${second.number} ${second.range.toString()} overlaps SEGMENT ${first.number} ${first.range.toString()} (line ${first.line})`,
      );
    }
  }

  const ranges: MemoryRange[] = segments.map((s) => ({
    range: s.range,
    type: 'ram',
    label: s.domain === undefined ? `SEGMENT ${s.number}` : `SEGMENT ${s.number} (domain ${s.domain})`,
  }));
  return makeMemoryMap(`vm.phys_segs (${source})`, ranges);
}
