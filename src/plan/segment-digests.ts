/**
 * The SHA-256 of every segment of a plan, on worker threads when it pays: with at least two segments, two cores
 * and enough bytes that starting workers (tens of milliseconds) costs less than it saves. Each segment is one job
 * (its data runs, gaps and zero fill, as segmentRuns walks them), so the digests are exactly segmentSha256's.
 */
import {availableParallelism} from 'node:os';
import {FileBytes} from '../io/file-bytes.js';
import {sha256Parallel, type HashRun} from '../io/hash-pool.js';
import {segmentRuns, segmentSha256} from './segment-bytes.js';
import type {Segment} from './types.js';

/** Below this many bytes in all, hashing inline is faster than starting workers. */
export const PARALLEL_HASH_MIN_BYTES = 32 << 20;

type Hashable = Pick<Segment, 'parts' | 'bufsz' | 'memsz'>;

function jobOf(seg: Hashable): HashRun[] {
  return segmentRuns(seg, true).map((r): HashRun => {
    if (typeof r === 'number') return {kind: 'zeros', length: r};
    if (r instanceof FileBytes) return {kind: 'file', file: {path: r.file.path, identity: r.file.identity, options: r.file.options}, offset: r.offset, length: r.length};
    return {kind: 'bytes', data: r};
  });
}

export async function segmentDigests(segments: readonly Hashable[], threads = availableParallelism()): Promise<string[]> {
  const total = segments.reduce((n, s) => n + Number(s.memsz), 0);
  const workers = Math.min(threads, segments.length);
  if (workers < 2 || total < PARALLEL_HASH_MIN_BYTES) return segments.map(segmentSha256);
  return sha256Parallel(segments.map(jobOf), workers);
}
