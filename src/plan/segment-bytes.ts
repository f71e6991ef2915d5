/**
 * Segment contents without copying: parts are views at offsets (in memory, or ranges of input files read in
 * bounded chunks), gaps and the tail are zeros. These helpers walk a segment as a sequence of chunks (views, file
 * chunks and slices of one shared zero buffer), so hashing, exporting and staging never need the whole segment in
 * one buffer unless a backend asks for it.
 */
import {createHash} from 'node:crypto';
import type {Piece} from '../image/types.js';
import {FileBytes, forEachBytesChunk, type Bytes} from '../io/file-bytes.js';
import {compareBigint} from '../memory/range.js';
import type {Segment, SegmentPart} from './types.js';

const ZERO = new Uint8Array(1 << 20);

/** The segment as runs in order: data (in memory or in a file) and counts of zero bytes (gaps, then the fill). */
export function segmentRuns(seg: Pick<Segment, 'parts' | 'bufsz' | 'memsz'>, withFill: boolean): (Bytes | number)[] {
  const runs: (Bytes | number)[] = [];
  let at = 0n;
  for (const p of seg.parts) {
    if (p.offset > at) runs.push(Number(p.offset - at));
    if (p.data.length > 0) runs.push(p.data);
    at = p.offset + BigInt(p.data.length);
  }
  const end = withFill ? seg.memsz : seg.bufsz;
  if (end > at) runs.push(Number(end - at));
  return runs;
}

/** Calls `sink` with the segment's bytes in order: buf[0, bufsz), then, when `withFill`, zeros up to memsz. */
export function forEachChunk(seg: Pick<Segment, 'parts' | 'bufsz' | 'memsz'>, withFill: boolean, sink: (chunk: Uint8Array) => void): void {
  for (const r of segmentRuns(seg, withFill)) {
    if (typeof r !== 'number') {
      forEachBytesChunk(r, sink);
      continue;
    }
    for (let n = r; n > 0; n -= ZERO.length) sink(ZERO.subarray(0, Math.min(ZERO.length, n)));
  }
}

/** SHA-256 of buf[0, bufsz) followed by zeros up to memsz: the one digest of a segment, planned or staged. */
export function segmentSha256(seg: Pick<Segment, 'parts' | 'bufsz' | 'memsz'>): string {
  const h = createHash('sha256');
  forEachChunk(seg, true, (c) => h.update(c));
  return h.digest('hex');
}

/** The segment's buf as one contiguous buffer of bufsz bytes (for backends that must pass a single pointer). */
export function segmentBuffer(seg: Pick<Segment, 'parts' | 'bufsz'>): Uint8Array {
  const only = seg.parts[0];
  if (seg.parts.length === 1 && only !== undefined && only.offset === 0n && BigInt(only.data.length) === seg.bufsz && !(only.data instanceof FileBytes)) {
    return only.data;
  }
  // Allocated once, filled part by part (file parts chunk by chunk straight into place).
  const out = new Uint8Array(Number(seg.bufsz));
  for (const p of seg.parts) {
    let at = Number(p.offset);
    forEachBytesChunk(p.data, (c) => {
      out.set(c, at);
      at += c.length;
    });
  }
  return out;
}

/**
 * Parts of a segment from its pieces: sorted, with overlaps (already proven byte-identical) trimmed so every byte
 * is written once. `bufsz` is where the last data byte ends.
 */
export function partsFor(segStart: bigint, pieces: readonly Piece[]): {parts: SegmentPart[]; bufsz: bigint} {
  const sorted = [...pieces].sort((a, b) => compareBigint(a.mem, b.mem));
  const parts: SegmentPart[] = [];
  let written = 0n;
  for (const p of sorted) {
    const offset = p.mem - segStart;
    const end = offset + BigInt(p.data.length);
    if (end <= written) continue;
    const skip = written > offset ? written - offset : 0n;
    parts.push({offset: offset + skip, data: p.data.subarray(Number(skip))});
    written = end;
  }
  return {parts, bufsz: written};
}
