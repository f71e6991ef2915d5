/**
 * `plan --export DIR` never writes through a name someone planted in DIR (issue 13 item 2): symlinks named
 * plan.json and segment-00.bin pointing at a root-owned file are replaced by our files, the target keeps its
 * bytes, and what is written is 0600 even under umask 000.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {IN_PROCESS_SKIP, cli} from '../helpers/cli.js';
import {tempDir} from '../helpers/lifecycle-cli.js';

test('planted symlinks in the export directory: replaced, never written through; files 0600 under umask 000', {skip: IN_PROCESS_SKIP}, async (t) => {
  const dir = tempDir(t, 'kexec-export-');
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'precious\n', {mode: 0o644});
  const exp = join(dir, 'export');
  mkdirSync(exp);
  for (const name of ['plan.json', 'segment-00.bin', 'segment-01.bin']) symlinkSync(victim, join(exp, name));
  const old = process.umask(0);
  let r;
  try {
    r = await cli(['plan', '--export', exp, join(process.cwd(), 'examples/probe-kernel/build/amd64/kernel')]);
  } finally {
    process.umask(old);
  }
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
  for (const name of ['plan.json', 'segment-00.bin', 'segment-01.bin']) {
    const st = lstatSync(join(exp, name));
    assert.ok(st.isFile(), `${name} is our file, not the symlink`);
    assert.equal(st.mode & 0o777, 0o600, name);
  }
});
