/**
 * The one plan validator every backend runs before staging. It enforces what FreeBSD's kern_kexec.c checks
 * (count, bufsz <= memsz, each segment inside one vm_phys_seg) and everything it does not check but needs
 * (page alignment, memsz > 0, no overflow, no overlap, sorted order, entry inside a segment, flags 0), because a
 * malformed kexec_load can panic the kernel. Each rule has its own reason and message.
 */
import {KexecError, hex} from '../errors.js';
import {ramRangeContaining, type MemoryMap} from '../memory/memory-map.js';
import {Range, U64_LIMIT, isPowerOfTwo} from '../memory/range.js';
import {KEXEC_SEGMENT_MAX, type Plan, type Segment, type SegmentDescription} from './types.js';

export interface Violation {
  readonly rule: string;
  readonly message: string;
}

/** A plan's checked fields; segments with their bytes (a fresh plan) or without (a staged one). */
export type Checkable = Pick<Plan<Segment | SegmentDescription>, 'segments' | 'pageSize' | 'entry' | 'flags'>;

export function planViolations(plan: Checkable, map: MemoryMap): Violation[] {
  const v: Violation[] = [];
  const add = (rule: string, message: string): void => void v.push({rule, message});
  const ps = plan.pageSize;
  if (!isPowerOfTwo(ps) || ps < 0x1000n) add('page-size', `page size ${hex(ps)} is not a power of two of at least 0x1000`);
  if (plan.flags !== 0n) add('flags', `flags ${hex(plan.flags)} must be 0`);
  if (plan.segments.length > KEXEC_SEGMENT_MAX) add('too-many-segments', `${plan.segments.length} segments, at most ${KEXEC_SEGMENT_MAX} allowed`);
  plan.segments.forEach((s, i) => {
    const name = `segment ${i} [${hex(s.mem)}, ${hex(s.mem + s.memsz)})`;
    if (s.memsz <= 0n) add('memsz-zero', `${name}: memsz is 0 (FreeBSD stops copying at the first empty segment)`);
    if (s.mem % ps !== 0n) add('mem-unaligned', `${name}: mem ${hex(s.mem)} is not aligned to the page size ${hex(ps)}`);
    if (s.memsz % ps !== 0n) add('memsz-unaligned', `${name}: memsz ${hex(s.memsz)} is not a multiple of the page size ${hex(ps)}`);
    if (s.bufsz > s.memsz) add('bufsz', `${name}: bufsz ${hex(s.bufsz)} is larger than memsz ${hex(s.memsz)}`);
    if (s.mem < 0n || s.mem + s.memsz > U64_LIMIT) add('overflow', `${name}: mem + memsz overflows 64 bits`);
    const parts = 'parts' in s ? s.parts : [];
    const dataEnd = parts.reduce((m, p) => (p.offset + BigInt(p.data.length) > m ? p.offset + BigInt(p.data.length) : m), 0n);
    if (dataEnd > s.bufsz) add('bufsz', `${name}: data runs to ${hex(dataEnd)} past bufsz ${hex(s.bufsz)}`);
    if (s.memsz > 0n && s.mem + s.memsz <= U64_LIMIT && ramRangeContaining(map, new Range(s.mem, s.mem + s.memsz)) === undefined) {
      add('phys-seg', `${name}: not inside one RAM range of ${map.source}`);
    }
    const prev = plan.segments[i - 1];
    if (prev !== undefined) {
      if (prev.mem > s.mem) add('unsorted', `segment ${i - 1} at ${hex(prev.mem)} comes before segment ${i} at ${hex(s.mem)}: segments must be sorted by mem`);
      else if (prev.mem + prev.memsz > s.mem) {
        add('overlap', `segment ${i - 1} [${hex(prev.mem)}, ${hex(prev.mem + prev.memsz)}) overlaps ${name}`);
      }
    }
  });
  if (!plan.segments.some((s) => plan.entry >= s.mem && plan.entry < s.mem + s.memsz)) {
    add('entry-outside', `entry ${hex(plan.entry)} is not inside any segment`);
  }
  return v;
}

/** Throws (exit 4) on the first violation, mentioning how many more there are. */
export function assertValidPlan(plan: Checkable, map: MemoryMap): void {
  const v = planViolations(plan, map);
  const first = v[0];
  if (first === undefined) return;
  const more = v.length > 1 ? ` (and ${v.length - 1} more violation${v.length > 2 ? 's' : ''})` : '';
  throw new KexecError('plan', `invalid plan: ${first.message}${more}`, {reason: `invalid-${first.rule}`, details: {violations: v}});
}
