/**
 * From pieces (bytes at physical addresses) to page-aligned segment extents, u-root's AlignAndMerge made strict:
 *   1. pieces that overlap must agree byte for byte (data, or the zero fill past it); a difference is an error
 *      naming the exact byte range;
 *   2. extents are rounded out to pages; pieces sharing a page are one segment, pieces on touching pages are one
 *      segment when the union lies in one RAM range;
 *   3. every extent must lie inside one RAM range (FreeBSD's segment_fits: one vm_phys_seg, never two);
 *   4. while more than KEXEC_SEGMENT_MAX remain, the two neighbours with the smallest gap inside one RAM range are
 *      joined (the gap becomes zeros) and the merge is reported; only then is the plan refused.
 */
import {KexecError, hex} from '../errors.js';
import type {Piece} from '../image/types.js';
import {ramRangeContaining, type MemoryMap} from '../memory/memory-map.js';
import {Range, U64_LIMIT, alignDown, alignUp, compareBigint} from '../memory/range.js';
import type {Bytes} from '../io/file-bytes.js';
import {firstDifferenceOf, lastDifferenceOf} from './byte-compare.js';
import {KEXEC_SEGMENT_MAX} from './types.js';

export interface Extent {
  start: bigint;
  end: bigint;
  pieces: Piece[];
}

function planError(reason: string, message: string, hint?: string): KexecError {
  return new KexecError('plan', message, hint === undefined ? {reason} : {reason, hint});
}

const describe = (p: Piece): string => `${p.label} [${hex(p.mem)}, ${hex(p.mem + p.memsz)})`;

/** Sorted, non-empty pieces; refuses address-space overflow. */
export function normalizePieces(pieces: readonly Piece[]): Piece[] {
  for (const p of pieces) {
    if (BigInt(p.data.length) > p.memsz) {
      throw planError('piece-invalid', `${p.label}: ${hex(p.data.length)} bytes of data do not fit its memory size ${hex(p.memsz)}`);
    }
    if (p.mem < 0n || p.mem + p.memsz > U64_LIMIT) {
      throw planError('overflow', `${p.label}: [${hex(p.mem)} + ${hex(p.memsz)}] runs past the end of the 64-bit address space`);
    }
  }
  return pieces.filter((p) => p.memsz > 0n).sort((a, b) => compareBigint(a.mem, b.mem) || compareBigint(b.memsz, a.memsz));
}

/** The bytes a piece puts over [from, to) that are data (the rest is its zero fill): a view, possibly empty. */
function dataOver(p: Piece, from: bigint, to: bigint): Bytes {
  const dataEnd = p.mem + BigInt(p.data.length);
  if (from >= dataEnd) return p.data.subarray(0, 0);
  return p.data.subarray(Number(from - p.mem), Number((to < dataEnd ? to : dataEnd) - p.mem));
}

/**
 * The first and last differing byte of two pieces over [from, to), or undefined when they agree. Work is linear in
 * the data bytes involved (buffers compared with memcmp in chunks); zero fill against zero fill costs nothing, so a
 * terabyte of overlapping bss is checked as fast as an empty one.
 */
function difference(a: Piece, b: Piece, from: bigint, to: bigint): {first: bigint; last: bigint} | undefined {
  const da = dataOver(a, from, to);
  const db = dataOver(b, from, to);
  // Over [from, from + max(len)) at least one has data; past that both are zero fill and agree.
  const first = firstDifferenceOf(da, db);
  if (first < 0) return undefined;
  return {first: from + BigInt(first), last: from + BigInt(lastDifferenceOf(da, db))};
}

/**
 * Refuses overlapping pieces whose bytes differ; summarises the overlaps that agree in one note. Pieces are
 * compared against the first piece to claim each byte: since they come sorted by start, the bytes claimed so far
 * beyond a piece's start are one run at the end of the claim list, found by binary search, so the work is
 * O(n log n) plus the overlapping data bytes, never quadratic in the number of pieces.
 */
export function checkOverlaps(sorted: readonly Piece[]): string[] {
  const claims: {start: bigint; end: bigint; piece: Piece}[] = [];
  let frontier = 0n;
  let agreeing = 0;
  let example: string | undefined;
  for (const p of sorted) {
    const end = p.mem + p.memsz;
    if (claims.length > 0 && p.mem < frontier) {
      let lo = 0;
      let hi = claims.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((claims[mid] as (typeof claims)[number]).end <= p.mem) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < claims.length; i++) {
        const c = claims[i] as (typeof claims)[number];
        if (c.start >= end) break;
        const from = c.start > p.mem ? c.start : p.mem;
        const to = c.end < end ? c.end : end;
        const diff = difference(c.piece, p, from, to);
        if (diff !== undefined) {
          throw planError(
            'overlap-conflict',
            `${describe(c.piece)} and ${describe(p)} overlap with different bytes at [${hex(diff.first)}, ${hex(diff.last + 1n)})`,
            'two parts of the image claim the same physical memory; check p_paddr of the PT_LOADs (or use --use-vaddr)',
          );
        }
      }
      agreeing++;
      const under = claims[lo] as (typeof claims)[number];
      example ??= `${describe(under.piece)} and ${describe(p)} overlap at [${hex(p.mem)}, ${hex(under.piece.mem + under.piece.memsz < end ? under.piece.mem + under.piece.memsz : end)}) with identical bytes`;
    }
    if (end > frontier) {
      claims.push({start: p.mem > frontier ? p.mem : frontier, end, piece: p});
      frontier = end;
    }
  }
  if (agreeing === 0) return [];
  return [`${agreeing} piece${agreeing === 1 ? ' overlaps' : 's overlap'} earlier ones byte for byte; first: ${example ?? ''}`];
}

/** Groups sorted pieces into page-aligned extents (shared page: always; touching pages: when in one RAM range). */
export function groupExtents(sorted: readonly Piece[], pageSize: bigint, map: MemoryMap): Extent[] {
  const out: Extent[] = [];
  for (const p of sorted) {
    const start = alignDown(p.mem, pageSize);
    const end = alignUp(p.mem + p.memsz, pageSize);
    const last = out[out.length - 1];
    if (last !== undefined && (start < last.end || (start === last.end && ramRangeContaining(map, new Range(last.start, end)) !== undefined))) {
      if (end > last.end) last.end = end;
      last.pieces.push(p);
    } else {
      out.push({start, end, pieces: [p]});
    }
  }
  return out;
}

/** Every extent must sit inside one RAM range; the error says which rule it breaks and for what. */
export function checkInsideRam(extents: readonly Extent[], map: MemoryMap): void {
  for (const e of extents) {
    const r = new Range(e.start, e.end);
    if (ramRangeContaining(map, r) !== undefined) continue;
    const what = e.pieces.map(describe).join(', ');
    const touching = map.ranges.filter((m) => m.range.overlaps(r));
    const ram = touching.filter((m) => m.type === 'ram');
    if (ram.length === 0) {
      const others = touching.map((m) => `${m.type}${m.label === undefined ? '' : ` (${m.label})`} ${m.range.toString()}`);
      throw planError(
        'outside-memory',
        `segment ${r.toString()} (${what}) is outside every RAM range of ${map.source}` +
          (others.length > 0 ? `: it lies in ${others.join(', ')}` : ''),
        'the image must be loaded where the target has RAM that kexec_load may use; check --memmap/--profile, or the image\'s physical addresses',
      );
    }
    if (ram.length > 1) {
      throw planError(
        'spans-ranges',
        `segment ${r.toString()} (${what}) spans ${ram.length} RAM ranges of ${map.source} (${ram.map((m) => m.range.toString()).join(', ')}); ` +
          'FreeBSD requires each segment inside one vm.phys_segs range',
      );
    }
    throw planError(
      'outside-memory',
      `segment ${r.toString()} (${what}) runs outside RAM range ${(ram[0] as {range: Range}).range.toString()} of ${map.source}`,
      'the image must be loaded where the target has RAM that kexec_load may use',
    );
  }
}

/** Joins the closest neighbours within one RAM range until at most 16 extents remain. */
export function fitBudget(extents: Extent[], map: MemoryMap): string[] {
  const notes: string[] = [];
  while (extents.length > KEXEC_SEGMENT_MAX) {
    let best = -1;
    let bestGap = 0n;
    for (let i = 0; i + 1 < extents.length; i++) {
      const a = extents[i] as Extent;
      const b = extents[i + 1] as Extent;
      if (ramRangeContaining(map, new Range(a.start, b.end)) === undefined) continue;
      const gap = b.start - a.end;
      if (best < 0 || gap < bestGap) {
        best = i;
        bestGap = gap;
      }
    }
    if (best < 0) {
      throw planError(
        'too-many-segments',
        `the image needs ${extents.length} segments and FreeBSD's kexec_load takes at most ${KEXEC_SEGMENT_MAX}; ` +
          'no two neighbouring segments lie in the same RAM range, so they cannot be joined',
        'load fewer modules, or give a memory map with larger RAM ranges',
      );
    }
    const a = extents[best] as Extent;
    const b = extents[best + 1] as Extent;
    notes.push(`joined segments [${hex(a.start)}, ${hex(a.end)}) and [${hex(b.start)}, ${hex(b.end)}) across ${hex(bestGap)} bytes of zeros to stay within ${KEXEC_SEGMENT_MAX} segments`);
    extents.splice(best, 2, {start: a.start, end: b.end, pieces: [...a.pieces, ...b.pieces]});
  }
  return notes;
}
