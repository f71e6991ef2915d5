/**
 * A permission problem on a path the user named is an ordinary condition, not "internal error" (exit 1): status
 * on a state directory inside a root-only directory and init into one, run as nobody, exit 2 with the path and
 * the errno (src/cli/base-command.ts errnoFailure). Needs root (to become nobody) and util-linux runuser.
 */
import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {chmodSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {CLI_BUILT, PROJECT_ROOT} from '../helpers/corpus.js';

const runuser = spawnSync('runuser', ['--help'], {stdio: 'ignore'}).status === 0;
const readable = runuser && spawnSync('runuser', ['-u', 'nobody', '--', 'test', '-r', join(PROJECT_ROOT, 'dist', 'kexec-ts.cjs')], {stdio: 'ignore'}).status === 0;
const skip = process.getuid?.() !== 0 ? 'needs root to run as nobody' : !runuser ? 'runuser (util-linux) is missing'
  : !CLI_BUILT ? 'dist/ is not built' : !readable ? 'nobody cannot read this checkout' : false;
const dir = mkdtempSync(join(tmpdir(), 'kexec-rootonly-'));
after(() => rmSync(dir, {recursive: true, force: true}));

function asNobody(args: string[]): {status: number | null; stderr: string} {
  const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, '--', join(PROJECT_ROOT, 'bin', 'run.js'), ...args], {encoding: 'utf8', env: {PATH: process.env.PATH ?? '/usr/bin:/bin', CI: 'true', HOME: '/nonexistent'}, cwd: '/'});
  return {status: r.status, stderr: r.stderr};
}

test('EACCES on a named directory: exit 2, the path and the errno, no "internal error"', {skip}, () => {
  chmodSync(dir, 0o700);
  const status = asNobody(['status', '--backend', 'sim', '--state-dir', join(dir, 'state')]);
  assert.equal(status.status, 2, status.stderr);
  assert.match(status.stderr, new RegExp(`^kexec-ts: ${join(dir, 'state')}: lstat failed \\(EACCES\\)$`, 'm'));
  const init = asNobody(['init', '--dir', join(dir, 'cfg')]);
  assert.equal(init.status, 2, init.stderr);
  assert.match(init.stderr, new RegExp(`^kexec-ts: ${join(dir, 'cfg')}: mkdir failed \\(EACCES\\)$`, 'm'));
  assert.ok(!/internal error/.test(status.stderr + init.stderr));
});
