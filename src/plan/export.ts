/**
 * `plan --export DIR`: DIR/plan.json (the plan's JSON) and DIR/segment-NN.bin (exactly bufsz bytes of segment NN),
 * so an emulator's loader or a reviewer can use the exact bytes the kernel would receive. Segment files are
 * streamed from the views (no whole-segment copies) and written to a temporary name, then renamed.
 */
import {closeSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync} from 'node:fs';
import {join} from 'node:path';
import {KexecError} from '../errors.js';
import {planToJSON} from './plan-json.js';
import {forEachChunk} from './segment-bytes.js';
import type {Plan} from './types.js';

export function segmentFileName(index: number): string {
  return `segment-${String(index).padStart(2, '0')}.bin`;
}

export function exportPlan(plan: Plan, dir: string): string[] {
  const written: string[] = [];
  try {
    mkdirSync(dir, {recursive: true});
    plan.segments.forEach((seg, i) => {
      const path = join(dir, segmentFileName(i));
      const tmp = `${path}.tmp-${process.pid}`;
      const fd = openSync(tmp, 'w');
      try {
        forEachChunk(seg, false, (chunk) => {
          let off = 0;
          while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
        });
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
      written.push(path);
    });
    const planPath = join(dir, 'plan.json');
    writeFileSync(planPath, `${JSON.stringify(planToJSON(plan), null, 2)}\n`);
    written.push(planPath);
  } catch (e) {
    if (e instanceof KexecError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new KexecError('usage', `--export ${dir}: cannot write (${code}): ${(e as Error).message}`, {reason: 'export-failed'});
  }
  return written;
}
