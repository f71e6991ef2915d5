/**
 * Node 20's mkdirSync({recursive: true}) never returns for a path under /proc (mkdir says ENOENT for a parent
 * that exists), so `load --state-dir /proc/1/x` spun at 100% CPU forever. makeDirs (src/io/make-dirs.ts) creates
 * one component at a time and fails with the errno. Run in a child with a time limit: a loop would block this
 * process's own timers.
 */
import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {makeDirs} from '../../src/io/make-dirs.js';
import {CLI_BUILT, PROJECT_ROOT} from '../helpers/corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'kexec-make-dirs-'));
after(() => rmSync(dir, {recursive: true, force: true}));

test('makeDirs creates every missing component with the mode; a file in the way is ENOTDIR', () => {
  makeDirs(join(dir, 'a', 'b', 'c'), 0o700);
  assert.equal(statSync(join(dir, 'a', 'b', 'c')).mode & 0o777, 0o700 & ~process.umask());
  makeDirs(join(dir, 'a', 'b', 'c'));
  writeFileSync(join(dir, 'file'), '');
  assert.throws(() => makeDirs(join(dir, 'file', 'x')), (e: NodeJS.ErrnoException) => e.code === 'ENOTDIR');
  assert.equal(existsSync(join(dir, 'file', 'x')), false);
});

test('load --state-dir under /proc fails at once, naming the directory (exit 5)', {skip: process.platform !== 'linux' ? 'needs Linux /proc' : CLI_BUILT ? false : 'dist/ is not built'}, () => {
  const r = spawnSync(process.execPath, ['--', join(PROJECT_ROOT, 'bin', 'run.js'), 'load', '--backend', 'sim', '--state-dir', '/proc/1/kexec-ts-x',
    join(PROJECT_ROOT, 'examples', 'probe-kernel', 'build', 'amd64', 'kernel')], {encoding: 'utf8', timeout: 30_000, env: {...process.env, CI: 'true'}});
  assert.equal(r.signal, null, 'it returned (Node\'s recursive mkdir never does here)');
  assert.equal(r.status, 5, r.stderr);
  assert.match(r.stderr, /^kexec-ts: state directory \/proc\/1\/kexec-ts-x: ENOENT/m);
});
