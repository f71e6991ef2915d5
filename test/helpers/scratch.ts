/**
 * Temp directories for helpers that have no test context to hang a clean-up on: each is removed when the test
 * file's process exits, however its tests ended. Where a test context is at hand, prefer removing the directory
 * when that test ends (`tempDir(t)` in lifecycle-cli.ts).
 */
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, {recursive: true, force: true});
});

/** A new directory in $TMPDIR named `prefix` + random characters. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
