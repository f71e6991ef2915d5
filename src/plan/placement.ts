/**
 * Placement of a movable group: the lowest (bottom-up) or highest (top-down) aligned base at which `size` bytes
 * fit inside ONE RAM range, within [min, max), clear of every range in `avoid`. A preferred base (ET_DYN link
 * address) wins when it fits. Unlike kexec-tools' locate_hole, a top-down base that alignment would push below
 * the free range's start is never returned (it is simply not a fit).
 */
import {KexecError, hex} from '../errors.js';
import type {MovableGroup} from '../image/types.js';
import {ramRanges, type MemoryMap} from '../memory/memory-map.js';
import {Range, U64_LIMIT, alignDown, alignUp, compareBigint} from '../memory/range.js';

export type PlacementStrategy = 'bottom-up' | 'top-down';

/** A movable group's constraints (src/image/types.ts MovableGroup) plus the strategy chosen for this plan. */
export type PlacementRequest = Pick<MovableGroup, 'label' | 'size' | 'align' | 'min' | 'max' | 'preferred' | 'boundary'> & {
  readonly strategy: PlacementStrategy;
};

/** RAM minus the `avoid` ranges (widened to pages), as sorted free ranges. */
function freeRanges(map: MemoryMap, avoid: readonly Range[], pageSize: bigint): Range[] {
  const holes = avoid
    .map((r) => new Range(alignDown(r.start, pageSize), alignUp(r.end, pageSize)))
    .sort((a, b) => compareBigint(a.start, b.start));
  const out: Range[] = [];
  for (const ram of ramRanges(map)) {
    let cursor = ram.start;
    for (const h of holes) {
      if (h.end <= cursor || h.start >= ram.end) continue;
      if (h.start > cursor) out.push(new Range(cursor, h.start));
      cursor = h.end > cursor ? h.end : cursor;
    }
    if (cursor < ram.end) out.push(new Range(cursor, ram.end));
  }
  return out;
}

export function findPlacement(map: MemoryMap, req: PlacementRequest, avoid: readonly Range[], pageSize: bigint): bigint {
  const align = req.align > pageSize ? req.align : pageSize;
  const min = req.min ?? 0n;
  const max = req.max ?? U64_LIMIT;
  const free = freeRanges(map, avoid, pageSize);
  const b = req.boundary;
  const crosses = (base: bigint): boolean => b !== undefined && req.size > 0n && base / b !== (base + req.size - 1n) / b;
  const fitsUnaligned = (base: bigint): boolean =>
    base >= min && base + req.size <= max && !crosses(base) && free.some((f) => f.containsRange(new Range(base, base + req.size)));
  // The preferred base is where the group is linked: it needs no relocation, so its own alignment is no concern.
  if (req.preferred !== undefined && fitsUnaligned(req.preferred)) return req.preferred;

  let best: bigint | undefined;
  for (const f of free) {
    const lo = f.start > min ? f.start : min;
    const hi = f.end < max ? f.end : max;
    if (hi <= lo || hi - lo < req.size) continue;
    if (req.strategy === 'bottom-up') {
      let base = alignUp(lo, align);
      if (b !== undefined && crosses(base)) base = alignUp(alignUp(base + 1n, b), align);
      if (base + req.size <= hi && !crosses(base)) return base;
    } else {
      let base = alignDown(hi - req.size, align);
      if (b !== undefined && crosses(base)) base = alignDown(alignDown(base + req.size - 1n, b) - req.size, align);
      if (base >= lo && !crosses(base) && (best === undefined || base > best)) best = base;
    }
  }
  if (best !== undefined) return best;
  const limits = `${req.min === undefined ? '' : ` at or above ${hex(min)}`}${req.max === undefined ? '' : ` below ${hex(max)}`}` +
    `${b === undefined ? '' : ` without crossing a ${hex(b)} boundary`}`;
  throw new KexecError(
    'plan',
    `${req.label}: no free RAM range of ${map.source} holds ${hex(req.size)} bytes aligned to ${hex(align)}${limits} ` +
      `(largest free range: ${largest(free)})`,
    {reason: 'no-space', hint: 'give a larger memory map (--memmap/--profile), fewer modules, or relax --min/--max'},
  );
}

function largest(free: Range[]): string {
  if (free.length === 0) return 'none';
  const big = free.reduce((a, b) => (b.size > a.size ? b : a));
  return `${hex(big.size)} bytes at ${big.toString()}`;
}
