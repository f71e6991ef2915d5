/**
 * The machine model's persistence: options apply over machine.json for one run, only a successful load saves
 * them, and nothing else (probe, target, status, a refused or failed load, a QEMU status over the same directory)
 * ever writes machine.json. Also the default state directory for root and for users, and corrupt machine files.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {homedir} from 'node:os';
import {join} from 'node:path';
import {createQemuBackend} from '../../src/backend/qemu/index.js';
import {SimBackend, defaultStateDir} from '../../src/backend/sim/index.js';
import {makeMemoryMap} from '../../src/memory/memory-map.js';
import {getProfile} from '../../src/memory/profiles.js';
import {Range} from '../../src/memory/range.js';
import {refusal, smallPlan, tempStateDir} from './sim-fixtures.js';

interface MachineFile {
  profile: string | null; arch: string; pageSize: string; privileged: boolean; securelevel: number;
  memoryMap: {source: string; ranges: {start: string; end: string; type: string}[]};
}
const machinePath = (dir: string): string => join(dir, 'machine.json');
const readMachine = (dir: string): MachineFile => JSON.parse(readFileSync(machinePath(dir), 'utf8')) as MachineFile;

test('a successful load saves the machine; later options apply for their run and are saved by their load', async (t) => {
  const stateDir = tempStateDir(t);
  const first = new SimBackend({stateDir, profile: getProfile('amd64-4g'), securelevel: 0});
  assert.deepEqual(await first.probe(), {backend: 'sim', available: true, arch: 'amd64', pageSize: 0x1000n});
  assert.equal(existsSync(machinePath(stateDir)), false, 'probe writes nothing');
  await first.load(smallPlan());
  let m = readMachine(stateDir);
  assert.deepEqual([m.profile, m.arch, m.pageSize, m.privileged, m.securelevel], ['amd64-4g', 'amd64', '0x1000', true, 0]);
  assert.equal(m.memoryMap.ranges.length, 7);
  assert.deepEqual(m.memoryMap.ranges[2], {start: '0x100000', end: '0xb0000000', type: 'ram'});

  const unprivileged = new SimBackend({stateDir, privileged: false});
  assert.equal((await unprivileged.target()).memoryMap.source, 'profile amd64-4g', 'the stored machine is reloaded');
  await refusal(unprivileged.load(smallPlan()), 5, 'EPERM', /not root/);
  assert.equal(readMachine(stateDir).privileged, true, 'a refused load does not save its options');

  const map = makeMemoryMap('map file test.json', [{range: new Range(0x100000n, 0x800000n), type: 'ram'}]);
  const withMap = new SimBackend({stateDir, memoryMap: map});
  assert.equal((await withMap.target()).memoryMap.source, 'map file test.json');
  assert.equal(readMachine(stateDir).profile, 'amd64-4g', 'target() writes nothing');
  await withMap.load(smallPlan());
  m = readMachine(stateDir);
  assert.equal(m.profile, null);
  assert.equal(m.arch, 'amd64', 'a memory map alone keeps the architecture');
  assert.deepEqual(m.memoryMap, {source: 'map file test.json', ranges: [{start: '0x100000', end: '0x800000', type: 'ram'}]});
});

test('a dry run (target only), a failed load and a qemu status leave machine.json byte for byte as it was', async (t) => {
  const stateDir = tempStateDir(t);
  await new SimBackend({stateDir, profile: getProfile('amd64-4g')}).load(smallPlan());
  const before = readFileSync(machinePath(stateDir));
  const other = new SimBackend({stateDir, profile: getProfile('arm64-virt-2g')});
  await other.target();
  await refusal(other.load(smallPlan()), 5, 'EINVAL', /not inside one physical segment/);
  await refusal(createQemuBackend({stateDir, arch: 'arm64'}).status(), 5, 'staged-by-other-backend', /loaded by the sim backend/);
  assert.deepEqual(readFileSync(machinePath(stateDir)), before);
  assert.equal((await new SimBackend({stateDir}).exec({})).backend, 'sim', 'the previous stage still execs');
});

test('a new machine without options is the flat-4g profile, privileged, securelevel -1', async (t) => {
  const stateDir = tempStateDir(t);
  await new SimBackend({stateDir}).load(smallPlan());
  const m = readMachine(stateDir);
  assert.deepEqual([m.profile, m.arch, m.privileged, m.securelevel], ['flat-4g', 'any', true, -1]);
});

test('a corrupt machine.json is a state-corrupt error (exit 5) naming the file and field, never exit 1', async (t) => {
  const stateDir = tempStateDir(t);
  writeFileSync(machinePath(stateDir), '{"arch": 1}');
  await refusal(new SimBackend({stateDir}).target(), 5, 'state-corrupt', /machine\.json: arch is missing/);
  const good = {profile: null, arch: 'amd64', pageSize: '0x1000', privileged: true, securelevel: -1, memoryMap: {source: 'x', ranges: [{start: '0x0', end: '0x10000000000000000', type: 'ram'}]}};
  writeFileSync(machinePath(stateDir), JSON.stringify(good));
  assert.equal((await new SimBackend({stateDir}).target()).memoryMap.ranges[0]?.range.end, 1n << 64n, 'end = 2^64 is the top of the address space');
  const beyond = {...good, memoryMap: {source: 'x', ranges: [{start: '0x0', end: '0x10000000000000001', type: 'ram'}]}};
  writeFileSync(machinePath(stateDir), JSON.stringify(beyond));
  await refusal(new SimBackend({stateDir}).target(), 5, 'state-corrupt', /memoryMap\.ranges\[0\]\.end is "0x10000000000000001"/);
  writeFileSync(machinePath(stateDir), '{"arch": "amd64", "privileged": true, "securelevel": 0, "profile": null, "memoryMap": {"source": "x", "ranges": [{"start": "0x2000", "end": "0x1000"}]}, "pageSize": "0x1000"}');
  await refusal(new SimBackend({stateDir}).target(), 5, 'state-corrupt', /ends before it starts/);
  writeFileSync(machinePath(stateDir), '{not json');
  await refusal(new SimBackend({stateDir}).target(), 5, 'state-corrupt', /not valid JSON/);
});

test('defaultStateDir: /var/db/kexec-ts for root, XDG_STATE_HOME or ~/.local/state for users', () => {
  assert.equal(defaultStateDir({XDG_STATE_HOME: '/x/state'}, 0), '/var/db/kexec-ts');
  assert.equal(defaultStateDir({XDG_STATE_HOME: '/x/state'}, 1000), '/x/state/kexec-ts');
  assert.equal(defaultStateDir({}, 1000), join(homedir(), '.local', 'state', 'kexec-ts'));
  assert.equal(defaultStateDir({XDG_STATE_HOME: 'relative'}, 1000), join(homedir(), '.local', 'state', 'kexec-ts'));
  assert.equal(typeof defaultStateDir(), 'string');
});
