/**
 * The target's physical memory map: which ranges are RAM the kexec segments may occupy, and which are not.
 * Every source (FreeBSD `vm.phys_segs` output, a map file, a built-in profile) ends up as one MemoryMap, built
 * only through makeMemoryMap so the planner can rely on it being sorted, non-empty-ranged and non-overlapping.
 * Adjacent RAM ranges are deliberately NOT merged: FreeBSD's kexec_load requires each segment to lie inside
 * one vm_phys_seg, so a segment straddling two touching segs is refused by the kernel and must be by us too.
 */
import {KexecError, hex} from '../errors.js';
import {Range, compareBigint} from './range.js';

export interface MemoryRange {
  readonly range: Range;
  /** 'ram' (usable for segments), 'reserved', or any other free-form type (never usable). */
  readonly type: string;
  readonly label?: string;
}

export interface MemoryMap {
  /** Where the map came from, e.g. 'profile amd64-4g', 'vm.phys_segs (/path)', 'map file /path'. */
  readonly source: string;
  /** Sorted by start, no overlaps, no empty ranges. */
  readonly ranges: readonly MemoryRange[];
}

function describe(r: MemoryRange): string {
  return `${r.type} range ${r.range.toString()}${r.label === undefined ? '' : ` (${r.label})`}`;
}

/** Builds a MemoryMap: sorts by start; refuses empty and overlapping ranges with a usage error naming the source. */
export function makeMemoryMap(source: string, ranges: MemoryRange[]): MemoryMap {
  for (const r of ranges) {
    if (r.range.size === 0n) {
      throw new KexecError('usage', `${source}: ${describe(r)} is empty`, {reason: 'memory-map-empty-range'});
    }
  }
  const sorted = [...ranges].sort((a, b) => compareBigint(a.range.start, b.range.start));
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (prev !== undefined && cur !== undefined && prev.range.overlaps(cur.range)) {
      throw new KexecError('usage', `${source}: ${describe(prev)} overlaps ${describe(cur)}`, {
        reason: 'memory-map-overlap',
        hint: 'every address may appear in at most one range of a memory map',
      });
    }
  }
  const frozen = sorted.map((r) =>
    Object.freeze(r.label === undefined ? {range: r.range, type: r.type} : {range: r.range, type: r.type, label: r.label}),
  );
  return Object.freeze({source, ranges: Object.freeze(frozen)});
}

/** The RAM ranges (type 'ram') in address order, unmerged. */
export function ramRanges(map: MemoryMap): Range[] {
  return map.ranges.filter((r) => r.type === 'ram').map((r) => r.range);
}

/**
 * The one RAM range wholly containing `r`, or undefined. Touching RAM ranges are not merged, so a range that
 * spans the boundary between two of them is contained by neither. An empty `r` belongs to the range holding its
 * start address.
 */
export function ramRangeContaining(map: MemoryMap, r: Range): Range | undefined {
  for (const m of map.ranges) {
    if (m.type !== 'ram') continue;
    if (r.size === 0n ? m.range.contains(r.start) : m.range.containsRange(r)) return m.range;
  }
  return undefined;
}

export interface MemoryMapJSON {
  source: string;
  ranges: {start: string; end: string; type: string; label?: string}[];
}

/** JSON form: addresses as hex strings (see hex()). */
export function memoryMapToJSON(map: MemoryMap): MemoryMapJSON {
  return {
    source: map.source,
    ranges: map.ranges.map((r) => ({
      start: hex(r.range.start),
      end: hex(r.range.end),
      type: r.type,
      ...(r.label === undefined ? {} : {label: r.label}),
    })),
  };
}
