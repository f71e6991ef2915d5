/**
 * The machine model's persistence (machine.json written on first use, later options override and are saved),
 * probe and memoryMap, and the default state directory for root and for users.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {homedir} from 'node:os';
import {join} from 'node:path';
import {SimBackend, defaultStateDir} from '../../src/backend/sim/index.js';
import {makeMemoryMap} from '../../src/plan/memory-map.js';
import {getProfile} from '../../src/plan/profiles.js';
import {Range} from '../../src/plan/range.js';
import {refusal, smallPlan, tempStateDir} from './sim-fixtures.js';

interface MachineFile {
  profile: string | null; arch: string; pageSize: string; privileged: boolean; securelevel: number;
  memoryMap: {source: string; ranges: {start: string; end: string; type: string}[]};
}
const readMachine = (dir: string): MachineFile => JSON.parse(readFileSync(join(dir, 'machine.json'), 'utf8')) as MachineFile;

test('machine.json is written on first use; later options override and are saved; omitted options keep the stored ones', async (t) => {
  const stateDir = tempStateDir(t);
  const first = new SimBackend({stateDir, profile: getProfile('amd64-4g'), securelevel: 0});
  assert.deepEqual(await first.probe(), {backend: 'sim', available: true, arch: 'amd64', pageSize: 0x1000n});
  let m = readMachine(stateDir);
  assert.equal(m.profile, 'amd64-4g');
  assert.equal(m.arch, 'amd64');
  assert.equal(m.pageSize, '0x1000');
  assert.equal(m.privileged, true);
  assert.equal(m.securelevel, 0);
  assert.equal(m.memoryMap.ranges.length, 7);
  assert.deepEqual(m.memoryMap.ranges[2], {start: '0x100000', end: '0xb0000000', type: 'ram'});

  const later = new SimBackend({stateDir, privileged: false});
  assert.equal((await later.memoryMap()).source, 'profile amd64-4g', 'the stored machine is reloaded');
  m = readMachine(stateDir);
  assert.equal(m.privileged, false);
  assert.equal(m.securelevel, 0);
  await refusal(new SimBackend({stateDir}).load(smallPlan()), 5, 'EPERM', /not root/);

  const map = makeMemoryMap('map file test.json', [{range: new Range(0x100000n, 0x800000n), type: 'ram'}]);
  await new SimBackend({stateDir, memoryMap: map, privileged: true}).probe();
  m = readMachine(stateDir);
  assert.equal(m.profile, null);
  assert.equal(m.arch, 'amd64', 'a memory map alone keeps the architecture');
  assert.deepEqual(m.memoryMap, {source: 'map file test.json', ranges: [{start: '0x100000', end: '0x800000', type: 'ram'}]});
  const rec = await new SimBackend({stateDir}).load(smallPlan());
  assert.equal(rec.arch, 'amd64');
});

test('a new machine without options is the flat-4g profile, privileged, securelevel -1', async (t) => {
  const stateDir = tempStateDir(t);
  await new SimBackend({stateDir}).status();
  const m = readMachine(stateDir);
  assert.deepEqual([m.profile, m.arch, m.privileged, m.securelevel], ['flat-4g', 'any', true, -1]);
});

test('a corrupt machine.json is a backend error naming the file', async (t) => {
  const stateDir = tempStateDir(t);
  writeFileSync(join(stateDir, 'machine.json'), '{"arch": 1}');
  await refusal(new SimBackend({stateDir}).status(), 5, 'state-corrupt', /machine\.json: arch is missing/);
});

test('defaultStateDir: /var/db/kexec-ts for root, XDG_STATE_HOME or ~/.local/state for users', () => {
  assert.equal(defaultStateDir({XDG_STATE_HOME: '/x/state'}, 0), '/var/db/kexec-ts');
  assert.equal(defaultStateDir({XDG_STATE_HOME: '/x/state'}, 1000), '/x/state/kexec-ts');
  assert.equal(defaultStateDir({}, 1000), join(homedir(), '.local', 'state', 'kexec-ts'));
  assert.equal(defaultStateDir({XDG_STATE_HOME: 'relative'}, 1000), join(homedir(), '.local', 'state', 'kexec-ts'));
  assert.equal(typeof defaultStateDir(), 'string');
});
