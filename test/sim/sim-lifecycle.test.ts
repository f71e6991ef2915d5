/**
 * The simulated machine's life cycle with plans from the real planner: load, status, exec (digests verified,
 * booted recorded, nothing staged afterwards), unload, replacement by a second load, exec with nothing staged,
 * a tampered segment file, and a tampered plan.json (every digest-covered field named when changed).
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync, readdirSync, readlinkSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {SimBackend} from '../../src/backend/sim/index.js';
import {getProfile} from '../../src/memory/profiles.js';
import {planFiles} from '../../src/pipeline/plan-files.js';
import type {Plan} from '../../src/plan/types.js';
import {refusal, smallPlan, tempStateDir} from './sim-fixtures.js';
import {materializeBytes} from '../../src/io/file-bytes.js';

/** The committed amd64 probe kernel with its module, planned for amd64-4g. */
async function freebsdPlan(_t: unknown): Promise<Plan> {
  const dir = fileURLToPath(new URL('../../examples/probe-kernel/build/amd64/', import.meta.url));
  return (await planFiles({image: join(dir, 'kernel'), modules: ['probe_hello'], modulePath: dir, loaderConf: [], profile: 'amd64-4g'})).plan;
}

const gens = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('gen-'));

test('load stages the image; status shows it; the generation holds plan.json, segment files and record.json', async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir});
  const p = smallPlan();
  const rec = await sim.load(p);
  assert.equal(rec.backend, 'sim');
  assert.equal(rec.digest, p.digest);
  assert.equal(rec.segments, p.segments.length);
  assert.equal(rec.entry, '0x200010');
  assert.equal(rec.memsz, `0x${p.segments.reduce((n, s) => n + s.memsz, 0n).toString(16)}`);
  const st = await sim.status();
  assert.deepEqual(st.staged, rec);
  assert.equal(st.booted, null);
  assert.equal(st.stateDir, stateDir);
  const [gen] = gens(stateDir);
  assert.ok(gen !== undefined);
  assert.equal(readlinkSync(join(stateDir, 'current')), gen);
  assert.deepEqual(readdirSync(join(stateDir, gen)).sort(), ['plan.json', 'record.json', 'segment-00.bin', 'segment-01.bin']);
  const seg0 = readFileSync(join(stateDir, gen, 'segment-00.bin'));
  assert.equal(BigInt(seg0.length), p.segments[0]?.bufsz);
  assert.deepEqual(JSON.parse(readFileSync(join(stateDir, gen, 'record.json'), 'utf8')), rec);
  assert.ok(!readdirSync(stateDir).includes('lock'), 'the lock is released');
});

test('exec verifies the digests, boots the image, records booted.json and leaves nothing staged', async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir});
  const p = smallPlan(3, {files: ['/boot/test/kernel', '/boot/test/extra.ko']});
  await sim.load(p);
  const report = await sim.exec({});
  assert.equal(report.backend, 'sim');
  assert.equal(report.digest, p.digest);
  assert.equal(report.entry, '0x200010');
  assert.equal(report.segmentsVerified, 2);
  const text = report.lines.join('\n');
  assert.match(text, /^backend: sim/);
  assert.match(text, /image: elf amd64: \/boot\/test\/kernel, \/boot\/test\/extra\.ko/);
  assert.match(text, new RegExp(`plan digest verified: ${p.digest}`));
  assert.match(text, /2 segments verified/);
  assert.match(text, /entry 0x200010 in segment 0/);
  assert.match(text, /kernel PT_LOAD 1 \(file 0x800, memory 0x800\)/);
  const regions = report.handoff.regions as {start: string; contents: {label: string}[]}[];
  assert.deepEqual(regions.map((r) => r.start), ['0x200000', '0x210000']);
  // The bytes at the entry are the planned bytes at offset 0x10 of the first piece.
  const expected = Buffer.from(materializeBytes(p.segments[0]?.parts[0]?.data.subarray(0x10, 0x20) ?? new Uint8Array(0))).toString('hex').replace(/(..)(?=.)/g, '$1 ');
  assert.equal(report.handoff.entryBytes, expected);
  const st = await sim.status();
  assert.equal(st.staged, null);
  assert.equal(st.booted?.digest, p.digest);
  assert.equal(st.booted?.kernel, '/boot/test/kernel');
  assert.ok(!Number.isNaN(Date.parse(st.booted?.bootedAt ?? '')));
  assert.deepEqual(gens(stateDir), []);
  assert.ok(!readdirSync(stateDir).includes('current'));
});

test('unload clears the staged image; exec then fails with exit 7, and --force reboots normally', async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir});
  await sim.load(smallPlan());
  await sim.exec({});
  await sim.load(smallPlan(2));
  await sim.unload();
  assert.equal((await sim.status()).staged, null);
  assert.deepEqual(gens(stateDir), []);
  await refusal(sim.exec({}), 7, 'nothing-staged', /sim: nothing is staged in .*kexec-sim-/);
  assert.notEqual((await sim.status()).booted, null, 'a refused exec changes nothing');
  const report = await sim.exec({force: true});
  assert.equal(report.segmentsVerified, 0);
  assert.match(report.lines.join('\n'), /reboots normally/);
  assert.equal((await sim.status()).booted, null);
  await sim.unload(); // unloading nothing is fine, as kexec_load(0, 0, NULL, 0) is
});

test('a second load replaces the first; only one generation remains', async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir});
  const a = smallPlan(1);
  const b = smallPlan(9, {base: 0x400000n});
  await sim.load(a);
  await sim.load(b);
  assert.notEqual(a.digest, b.digest);
  assert.equal((await sim.status()).staged?.digest, b.digest);
  assert.equal(gens(stateDir).length, 1);
  assert.equal((await sim.exec({})).digest, b.digest);
});

test('a tampered segment file makes exec fail with a digest mismatch naming the segment (exit 5)', async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir});
  await sim.load(smallPlan());
  const file = join(stateDir, readlinkSync(join(stateDir, 'current')), 'segment-01.bin');
  const bytes = readFileSync(file);
  bytes[0x100] = (bytes[0x100] ?? 0) ^ 0xff;
  writeFileSync(file, bytes);
  await refusal(sim.exec({}), 5, 'digest-mismatch', /sim: exec: segment 1 \(segment-01\.bin\): SHA-256 mismatch/);
  writeFileSync(file, bytes.subarray(0, 0x10));
  await refusal(sim.exec({}), 5, 'digest-mismatch', /segment 1 \(segment-01\.bin\): is 0x10 bytes, plan\.json says bufsz 0x800/);
  assert.notEqual((await sim.status()).staged, null, 'a failed exec leaves the image staged');
  assert.equal((await sim.status()).booted, null);
});

/** Edits the staged plan.json of `stateDir` with `edit`. */
function editStagedPlan(stateDir: string, edit: (plan: Record<string, unknown>) => void): void {
  const file = join(stateDir, readlinkSync(join(stateDir, 'current')), 'plan.json');
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(json);
  writeFileSync(file, JSON.stringify(json));
}

test('an edited plan.json is refused at exec (exit 5) with the edited field named', async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir});
  await sim.load(smallPlan());
  editStagedPlan(stateDir, (p) => void (p.entry = '0x200020'));
  await refusal(sim.exec({}), 5, 'plan-tampered', /plan\.json: "entry" changed since the image was loaded/);
  await sim.load(smallPlan());
  editStagedPlan(stateDir, (p) => void (p.files = ['other.elf']));
  await refusal(sim.exec({}), 5, 'plan-tampered', /"files" changed/);
  await sim.load(smallPlan());
  editStagedPlan(stateDir, (p) => void (p.entry = '0x00200010'));
  assert.equal((await sim.exec({})).entry, '0x200010', 'the same value written differently is the same plan');
});

test('a FreeBSD plan.json whose kind, files or hand-off is edited is refused naming the field; a malformed hand-off is exit 5, not 1', async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir, profile: getProfile('amd64-4g')});
  const p = await freebsdPlan(t);
  const cases: [string, (j: Record<string, unknown>) => void, string, RegExp][] = [
    ['kind to elf', (j) => void ((j.kind = 'elf'), ((j.handoff as Record<string, unknown>).kind = 'elf')), 'plan-tampered', /"kind", "handoff" changed/],
    ['kind alone', (j) => void (j.kind = 'elf'), 'plan-malformed', /kind: is "elf" but handoff\.kind is "freebsd"/],
    ['files', (j) => void (j.files as string[]).push('extra.ko'), 'plan-tampered', /"files" changed/],
    ['hand-off howto', (j) => void ((j.handoff as Record<string, unknown>).howto = '0x1'), 'plan-tampered', /"handoff" changed/],
    ['hand-off env', (j) => void (((j.handoff as Record<string, unknown>).env as Record<string, string>).kernelname = '/boot/evil'), 'plan-tampered', /"handoff" changed/],
    ['metadata not a number', (j) => void ((j.handoff as Record<string, unknown>).metadata = 'here'), 'plan-malformed', /handoff\.metadata: is "here", expected a 0x… hex number/],
    ['metadata beyond 64 bits', (j) => void ((j.handoff as Record<string, unknown>).metadata = '0x10000000000000000'), 'plan-malformed', /handoff\.metadata/],
  ];
  for (const [name, edit, reason, message] of cases) {
    await sim.load(p);
    editStagedPlan(stateDir, edit);
    const e = await refusal(sim.exec({}), 5, reason, message);
    assert.ok(e.message.length > 0, name);
    assert.notEqual((await sim.status()).staged, null, `${name}: a refused exec leaves the image staged`);
  }
});

