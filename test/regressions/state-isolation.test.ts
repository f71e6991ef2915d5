/**
 * One backend's commands never change another's state, and the simulated machine changes only on a successful
 * load under the lock (issue 11, bugs 5 and 6; issue 13 item 5): `status --backend qemu` over a sim state
 * directory, a load refused as EBUSY, a dry run and a failed load leave machine.json byte for byte as it was; a
 * corrupted machine.json (a range ending past 2^64) is a state-corrupt error with exit 5, never exit 1.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {IN_PROCESS_SKIP, cli} from '../helpers/cli.js';

const K = fileURLToPath(new URL('../../examples/probe-kernel/build/amd64/', import.meta.url));

function temp(t: {after: (fn: () => void) => void}): string {
  const d = mkdtempSync(join(tmpdir(), 'kexec-iso-'));
  t.after(() => rmSync(d, {recursive: true, force: true}));
  return d;
}

test('status --backend qemu, an EBUSY load, a dry run and a failed load leave machine.json unchanged', {skip: IN_PROCESS_SKIP}, async (t) => {
  const state = temp(t);
  const sim = ['--backend', 'sim', '--state-dir', state];
  assert.equal((await cli(['load', ...sim, '--profile', 'amd64-4g', '--module-path', K, join(K, 'kernel')])).code, 0);
  const machine = join(state, 'machine.json');
  const before = readFileSync(machine);
  await cli(['status', '--backend', 'qemu', '--arch', 'arm64', '--state-dir', state]);
  assert.deepEqual(readFileSync(machine), before, 'status --backend qemu');
  writeFileSync(join(state, 'lock'), `${process.pid}\nheld-by-this-test\n`);
  const busy = await cli(['load', ...sim, '--profile', 'arm64-virt-2g', join(K, 'kernel')]);
  rmSync(join(state, 'lock'));
  assert.notEqual(busy.code, 0);
  assert.deepEqual(readFileSync(machine), before, 'a load that could not take the lock');
  const dry = await cli(['load', ...sim, '--profile', 'flat-4g', '--dry-run', '--module-path', K, join(K, 'kernel')]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(readFileSync(machine), before, 'a dry run');
  const failed = await cli(['load', ...sim, '--profile', 'arm64-virt-2g', '--module-path', K, join(K, 'kernel')]);
  assert.equal(failed.code, 4, failed.stderr);
  assert.deepEqual(readFileSync(machine), before, 'a failed load');
  const exec = await cli(['exec', ...sim, '--yes']);
  assert.equal(exec.code, 0, `the staged image still boots: ${exec.stderr}`);
});

test('a machine.json range ending past 2^64 is exit 5 (state corrupt), not an internal error', {skip: IN_PROCESS_SKIP}, async (t) => {
  const state = temp(t);
  writeFileSync(join(state, 'machine.json'), JSON.stringify({
    profile: null, arch: 'amd64', pageSize: '0x1000', privileged: true, securelevel: -1,
    memoryMap: {source: 'x', ranges: [{start: '0x0', end: '0x20000000000000000', type: 'ram'}]},
  }));
  const r = await cli(['status', '--backend', 'sim', '--state-dir', state, '--json']);
  const load = await cli(['load', '--backend', 'sim', '--state-dir', state, '--module-path', K, join(K, 'kernel'), '--json']);
  for (const x of [load]) {
    assert.equal(x.code, 5, x.stdout + x.stderr);
    assert.equal((JSON.parse(x.stdout) as {error: {reason: string}}).error.reason, 'state-corrupt');
  }
  assert.notEqual(r.code, 1, r.stdout + r.stderr);
});
