/**
 * The SHA-256 of every segment of a plan, on worker threads when it pays: with at least two segments, two cores
 * and enough bytes that starting workers (tens of milliseconds) costs less than it saves. Each segment is one job
 * (its data runs, gaps and zero fill, as segmentRuns walks them), so the digests are exactly segmentSha256's.
 * Only segments whose data is still in files go to workers (they read it themselves); a segment mostly held in
 * memory (parsed modules, generated blocks) is hashed here meanwhile, since sending it would copy it.
 */
import {availableParallelism} from 'node:os';
import {FileBytes} from '../io/file-bytes.js';
import {sha256Parallel, type HashRun} from '../io/hash-pool.js';
import {segmentRuns, segmentSha256} from './segment-bytes.js';
import type {Segment} from './types.js';

/** Below this many bytes in all, hashing inline is faster than starting workers. */
export const PARALLEL_HASH_MIN_BYTES = 32 << 20;
/** A segment with more bytes in memory than this is hashed on the main thread, not copied to a worker. */
const WORKER_MAX_MEMORY_BYTES = 1 << 20;

type Hashable = Pick<Segment, 'parts' | 'bufsz' | 'memsz'>;

function jobOf(seg: Hashable): HashRun[] {
  return segmentRuns(seg, true).map((r): HashRun => {
    if (typeof r === 'number') return {kind: 'zeros', length: r};
    if (r instanceof FileBytes) return {kind: 'file', file: {path: r.file.path, identity: r.file.identity, options: r.file.options}, offset: r.offset, length: r.length};
    return {kind: 'bytes', data: r};
  });
}

const inMemory = (job: readonly HashRun[]): number => job.reduce((n, r) => n + (r.kind === 'bytes' ? r.data.length : 0), 0);

export async function segmentDigests(segments: readonly Hashable[], threads = availableParallelism()): Promise<string[]> {
  const jobs = segments.map(jobOf);
  const remote = segments.map((_, i) => i).filter((i) => inMemory(jobs[i] ?? []) <= WORKER_MAX_MEMORY_BYTES);
  const remoteBytes = remote.reduce((n, i) => n + Number(segments[i]?.memsz ?? 0n), 0);
  const workers = Math.min(threads, remote.length);
  if (workers < 2 || remoteBytes < PARALLEL_HASH_MIN_BYTES) return segments.map(segmentSha256);
  const pending = sha256Parallel(remote.map((i) => jobs[i] ?? []), workers);
  const out = segments.map((s, i) => (remote.includes(i) ? '' : segmentSha256(s)));
  (await pending).forEach((d, k) => {
    out[remote[k] as number] = d;
  });
  return out;
}
