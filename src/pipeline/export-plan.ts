/**
 * `plan --export DIR`: DIR/plan.json (the plan's JSON) and DIR/segment-NN.bin (exactly bufsz bytes of segment NN),
 * so an emulator's loader or a reviewer can use the exact bytes the kernel would receive. DIR may belong to
 * someone else (kexec-ts often runs as root), so nothing is ever opened there by a predictable name: the files
 * are written exclusively into a fresh private directory inside DIR (mkdtemp, 0700; files 0600), then renamed
 * onto their names. A rename replaces whatever entry had that name, a planted symlink included, and never
 * writes through it.
 */
import {makeDirs} from '../io/make-dirs.js';
import {mkdtempSync, renameSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import {KexecError} from '../errors.js';
import {errnoCode} from '../io/read-input.js';
import {writeFileDurable} from '../backend/staging/durable-fs.js';
import {segmentFileName, writeSegmentFiles} from '../backend/staging/segment-files.js';
import {planToJSON} from '../plan/codec.js';
import type {Plan} from '../plan/types.js';

export function exportPlan(plan: Plan, dir: string): string[] {
  let tmp: string | undefined;
  try {
    makeDirs(dir, 0o700);
    tmp = mkdtempSync(join(dir, '.kexec-ts-export-'));
    writeSegmentFiles(tmp, plan.segments);
    writeFileDurable(join(tmp, 'plan.json'), (write) => write(Buffer.from(`${JSON.stringify(planToJSON(plan), null, 2)}\n`, 'utf8')));
    const names = [...plan.segments.map((_, i) => segmentFileName(i)), 'plan.json'];
    for (const name of names) renameSync(join(tmp, name), join(dir, name));
    return names.map((n) => join(dir, n));
  } catch (e) {
    if (e instanceof KexecError) throw e;
    const code = errnoCode(e) ?? 'EIO';
    throw new KexecError('usage', `--export ${dir}: cannot write (${code})`, {reason: 'export-failed', hint: 'give a directory you can write to'});
  } finally {
    if (tmp !== undefined) rmSync(tmp, {recursive: true, force: true});
  }
}
