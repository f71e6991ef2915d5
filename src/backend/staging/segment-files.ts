/**
 * Segment files: `segment-NN.bin` holds exactly bufsz bytes of segment NN (the kernel zero-fills the rest up to
 * memsz). Written by staging (sim and qemu keep what copyin would capture) and by `plan --export`, the same way:
 * each file created exclusively (never through a planted symlink or over an existing file), streamed from the
 * segment's views (all-zero runs left as holes) and fsynced before the caller makes it visible.
 */
import {join} from 'node:path';
import {forEachChunk} from '../../plan/segment-bytes.js';
import type {Segment} from '../../plan/types.js';
import {writeFileDurable} from './durable-fs.js';

export function segmentFileName(index: number): string {
  return `segment-${String(index).padStart(2, '0')}.bin`;
}

/** Writes segment-NN.bin for every segment into `dir` (which must exist); returns the paths in order. */
export function writeSegmentFiles(dir: string, segments: readonly Pick<Segment, 'parts' | 'bufsz' | 'memsz'>[]): string[] {
  return segments.map((seg, i) => {
    const path = join(dir, segmentFileName(i));
    writeFileDurable(path, (write) => forEachChunk(seg, false, write), true);
    return path;
  });
}
