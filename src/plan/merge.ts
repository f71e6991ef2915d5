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
import {ramRangeContaining, type MemoryMap} from './memory-map.js';
import {Range, U64_LIMIT, alignDown, alignUp} from './range.js';
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
  return pieces.filter((p) => p.memsz > 0n).sort((a, b) => (a.mem < b.mem ? -1 : a.mem > b.mem ? 1 : 0));
}

/** The byte a piece puts at address `addr` (its data, then zero fill). */
function byteAt(p: Piece, addr: bigint): number {
  const i = addr - p.mem;
  return i < BigInt(p.data.length) ? (p.data[Number(i)] ?? 0) : 0;
}

/** True when a piece's bytes over [from, to) (inside the piece) are all zero. */
function zeroOver(p: Piece, from: bigint, to: bigint): boolean {
  const s = Number(from - p.mem);
  const e = Math.min(Number(to - p.mem), p.data.length);
  for (let i = s; i < e; i++) if (p.data[i] !== 0) return false;
  return true;
}

function sameOver(a: Piece, b: Piece, from: bigint, to: bigint): boolean {
  const aEnd = a.mem + BigInt(a.data.length);
  const bEnd = b.mem + BigInt(b.data.length);
  const bothData = aEnd < bEnd ? aEnd : bEnd;
  const mid = bothData < from ? from : bothData > to ? to : bothData;
  if (mid > from) {
    const va = a.data.subarray(Number(from - a.mem), Number(mid - a.mem));
    const vb = b.data.subarray(Number(from - b.mem), Number(mid - b.mem));
    if (Buffer.compare(va, vb) !== 0) return false;
  }
  // Past `mid` at most one of them has data left; the other is zero fill.
  return zeroOver(a, mid, to) && zeroOver(b, mid, to);
}

/** Refuses overlapping pieces whose bytes differ; returns notes for overlaps that agree. */
export function checkOverlaps(sorted: readonly Piece[]): string[] {
  const notes: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i] as Piece;
    const aEnd = a.mem + a.memsz;
    for (let j = i + 1; j < sorted.length; j++) {
      const b = sorted[j] as Piece;
      if (b.mem >= aEnd) break;
      const to = aEnd < b.mem + b.memsz ? aEnd : b.mem + b.memsz;
      if (sameOver(a, b, b.mem, to)) {
        notes.push(`${describe(a)} and ${describe(b)} overlap at [${hex(b.mem)}, ${hex(to)}) with identical bytes`);
        continue;
      }
      let first = b.mem;
      while (byteAt(a, first) === byteAt(b, first)) first++;
      let last = to - 1n;
      while (byteAt(a, last) === byteAt(b, last)) last--;
      throw planError(
        'overlap-conflict',
        `${describe(a)} and ${describe(b)} overlap with different bytes at [${hex(first)}, ${hex(last + 1n)})`,
        'two parts of the image claim the same physical memory; check p_paddr of the PT_LOADs (or use --use-vaddr)',
      );
    }
  }
  return notes;
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
