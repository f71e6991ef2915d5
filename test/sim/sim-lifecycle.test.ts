/**
 * The simulated machine's life cycle with plans from the real planner: load, status, exec (digests verified,
 * booted recorded, nothing staged afterwards), unload, replacement by a second load, exec with nothing staged,
 * a tampered segment file, and hand-off decoding (generic, missing and registered decoders).
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync, readdirSync, readlinkSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {SimBackend, registerHandoffDecoder} from '../../src/backend/sim/index.js';
import type {Plan} from '../../src/plan/types.js';
import {refusal, smallPlan, tempStateDir} from './sim-fixtures.js';

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
  const expected = Buffer.from(p.segments[0]?.parts[0]?.data.subarray(0x10, 0x20) ?? []).toString('hex').replace(/(..)(?=.)/g, '$1 ');
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

test('an edited plan.json fails the plan digest check', async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir});
  await sim.load(smallPlan());
  const file = join(stateDir, readlinkSync(join(stateDir, 'current')), 'plan.json');
  const json = JSON.parse(readFileSync(file, 'utf8')) as {entry: string};
  json.entry = '0x200020';
  writeFileSync(file, JSON.stringify(json));
  await refusal(sim.exec({}), 5, 'plan-digest-mismatch', /plan digest mismatch: plan\.json says [0-9a-f]{64}, its fields give/);
});

test('hand-off decoders: a kind without one is reported with the generic view; a registered one is used', async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir});
  const p: Plan = {...smallPlan(), kind: 'test-kind' as string as Plan['kind']};
  await sim.load(p);
  const generic = await sim.exec({});
  assert.match(generic.lines.join('\n'), /no hand-off decoder for kind 'test-kind' \(registered: .*elf.*\); generic view:/);
  assert.equal(generic.handoff.decoded, false);
  registerHandoffDecoder('test-kind', (plan, memory) => ({
    handoff: {first: memory.readUint(BigInt(plan.entry), 4).toString(16)},
    lines: [`test decoder saw ${plan.segments.length} segments`],
  }));
  await sim.load(p);
  const decoded = await sim.exec({});
  assert.ok(decoded.lines.includes('test decoder saw 2 segments'));
  assert.equal(typeof decoded.handoff.first, 'string');
});
