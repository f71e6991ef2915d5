/**
 * plan(image, memoryMap, options) -> Plan. Places the movable group (if any), merges pieces into page-aligned
 * segments inside single RAM ranges, keeps within the 16-segment budget, digests every segment and the whole
 * plan, and finally runs the shared validator so no backend ever receives a plan it would refuse. The only I/O is
 * reading the bytes still in input files to hash them: `plan` does it inline, `planHashedInParallel` on worker
 * threads (src/plan/segment-digests.ts), for the command line's large inputs.
 */
import {KexecError, hex} from '../errors.js';
import type {Handoff, Image, Piece} from '../image/types.js';
import type {MemoryMap} from '../memory/memory-map.js';
import {Range, isPowerOfTwo, maxBigint, minBigint} from '../memory/range.js';
import {planDigest} from './digest.js';
import {checkInsideRam, checkOverlaps, fitBudget, groupExtents, normalizePieces} from './merge.js';
import {findPlacement, type PlacementStrategy} from './placement.js';
import {segmentDigests} from './segment-digests.js';
import {partsFor, segmentSha256} from './segment-bytes.js';
import type {Plan, Segment} from './types.js';
import {assertValidPlan} from './validate.js';

export interface PlanOptions {
  readonly pageSize: bigint;
  readonly strategy?: PlacementStrategy;
  /** Physical entry override (--entry). */
  readonly entry?: bigint;
  /** Bounds for the movable group (--min/--max). */
  readonly min?: bigint;
  readonly max?: bigint;
}

type UnhashedSegment = Omit<Segment, 'sha256'>;

/** A plan whose segments are laid out and checked; `finish` takes their digests (in order) and returns the Plan. */
interface PlanLayout {
  readonly segments: readonly UnhashedSegment[];
  finish(sha256: readonly string[]): Plan;
}

export function plan(image: Image, map: MemoryMap, options: PlanOptions): Plan {
  const l = layoutPlan(image, map, options);
  return l.finish(l.segments.map(segmentSha256));
}

/** The same plan, with the segment digests computed on worker threads when there is enough to hash. */
export async function planHashedInParallel(image: Image, map: MemoryMap, options: PlanOptions): Promise<Plan> {
  const l = layoutPlan(image, map, options);
  return l.finish(await segmentDigests(l.segments));
}

function layoutPlan(image: Image, map: MemoryMap, options: PlanOptions): PlanLayout {
  const pageSize = options.pageSize;
  if (!isPowerOfTwo(pageSize) || pageSize < 0x1000n) {
    throw new KexecError('usage', `page size ${hex(pageSize)} is not a power of two of at least 0x1000 (4 KiB)`, {reason: 'page-size'});
  }
  let pieces: Piece[] = [...image.fixed];
  let entry = image.entry;
  let handoff: Handoff = {kind: 'elf'};
  const placementNotes: string[] = [];
  if (image.movable !== undefined) {
    const g = image.movable;
    const avoid = image.fixed.filter((p) => p.memsz > 0n).map((p) => new Range(p.mem, p.mem + p.memsz));
    const base = findPlacement(
      map,
      {
        label: g.label, size: g.size, align: g.align, strategy: options.strategy ?? 'bottom-up',
        ...(g.preferred === undefined ? {} : {preferred: g.preferred}),
        ...(g.boundary === undefined ? {} : {boundary: g.boundary}),
        ...maxOf(g.min, options.min, 'min'),
        ...maxOf(g.max, options.max, 'max'),
      },
      avoid,
      pageSize,
    );
    if (g.preferred !== undefined && base !== g.preferred) {
      placementNotes.push(`${g.label}: its link address ${hex(g.preferred)} is not free RAM of ${map.source}, so it was moved to ${hex(base)}`);
    }
    const m = g.materialize(base);
    pieces = [...pieces, ...m.pieces];
    entry = m.entry;
    handoff = m.handoff;
  }
  if (options.entry !== undefined) entry = options.entry;
  if (entry === undefined) throw new KexecError('plan', `${image.files[0] ?? 'image'}: no entry address`, {reason: 'entry-outside'});

  const sorted = normalizePieces(pieces);
  if (sorted.length === 0) {
    throw new KexecError('plan', `${image.files[0] ?? 'image'}: nothing to load (no PT_LOAD with a non-zero memory size)`, {reason: 'empty-image'});
  }
  const notes = [...placementNotes, ...checkOverlaps(sorted)];
  const extents = groupExtents(sorted, pageSize, map);
  checkInsideRam(extents, map);
  const merges = fitBudget(extents, map);

  const segments: UnhashedSegment[] = extents.map((e) => {
    const {parts, bufsz} = partsFor(e.start, e.pieces);
    return {
      mem: e.start, memsz: e.end - e.start, bufsz, parts,
      contents: e.pieces.map((p) => ({label: p.label, mem: p.mem, filesz: BigInt(p.data.length), memsz: p.memsz})),
    };
  });
  const e = entry;
  if (!segments.some((s) => e >= s.mem && e < s.mem + s.memsz)) {
    throw new KexecError(
      'plan',
      `entry ${hex(e)} is outside the image: it lies in none of the ${segments.length} segments ` +
        `(${segments.map((s) => `[${hex(s.mem)}, ${hex(s.mem + s.memsz)})`).join(', ')})`,
      {reason: 'entry-outside', hint: 'check e_entry, or give the physical entry with --entry'},
    );
  }
  if (handoff.kind !== image.kind) {
    throw new KexecError('internal', `${image.files[0] ?? 'image'}: a ${image.kind} image produced a ${handoff.kind} hand-off`);
  }
  const finish = (sha256: readonly string[]): Plan => {
    const hashed: Segment[] = segments.map((s, i) => ({...s, sha256: sha256[i] ?? ''}));
    const body = {arch: image.arch, machine: image.machine, kind: image.kind, pageSize, entry: e, flags: 0n, segments: hashed, files: image.files, handoff};
    assertValidPlan(body, map);
    return {...body, memoryMap: map, merges, notes: [...(image.notes ?? []), ...notes], digest: planDigest(body)};
  };
  return {segments, finish};
}

/** The tighter of an image's own bound and the user's. */
function maxOf(a: bigint | undefined, b: bigint | undefined, key: 'min' | 'max'): Record<string, bigint> {
  if (a === undefined && b === undefined) return {};
  if (a === undefined) return {[key]: b as bigint};
  if (b === undefined) return {[key]: a};
  return {[key]: key === 'min' ? maxBigint(a, b) : minBigint(a, b)};
}
