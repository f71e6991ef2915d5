/**
 * Crash safety: a load killed with SIGKILL while it writes its generation (a child process held by the stage gate
 * right after its first segment bytes, so the kill lands mid-write by construction, not by timing) must leave the
 * previous image staged and bootable; the half-written generation and the dead process's lock are cleaned up by
 * the next operation, and a new load succeeds.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {existsSync, readdirSync, readlinkSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {SimBackend} from '../../src/backend/sim/index.js';
import {stageGate} from '../helpers/stage-gate.js';
import {smallPlan, tempStateDir} from './sim-fixtures.js';

interface Interrupted {
  /** The generation directory the child was writing when it was killed. */
  readonly gen: string;
  readonly files: string[];
}

/** Runs the child (a 64 MiB load) up to the gate, inside the lock with a segment file part written, and kills it. */
async function loadAndKill(t: {after: (fn: () => void) => void}, stateDir: string): Promise<Interrupted> {
  const gate = stageGate(t);
  const child = spawn(process.execPath, ['--import', 'tsx', ...gate.nodeArgs, join(import.meta.dirname, 'load-large-child.ts'), stateDir], {
    cwd: process.cwd(), env: {...process.env, ...gate.env}, stdio: 'ignore',
  });
  t.after(() => child.kill('SIGKILL'));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await gate.inside(exited);
  const current = readlinkSync(join(stateDir, 'current'));
  const gens = readdirSync(stateDir).filter((n) => n.startsWith('gen-') && n !== current);
  assert.equal(gens.length, 1, `one generation being written: ${gens.join(', ')}`);
  const gen = gens[0] as string;
  const files = readdirSync(join(stateDir, gen));
  assert.ok(!files.includes('plan.json'), 'the generation is half-written: no plan.json yet');
  assert.ok(files.some((f) => statSync(join(stateDir, gen, f)).size > 0), 'a segment file holds bytes');
  child.kill('SIGKILL');
  await exited;
  return {gen, files: files.map((f) => `${f} (${statSync(join(stateDir, gen, f)).size} bytes)`)};
}

test('a load killed by SIGKILL mid-write leaves the previous image staged, bootable, and replaceable', {timeout: 120_000}, async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir});
  const previous = smallPlan(5);
  await sim.load(previous);
  const interrupted = await loadAndKill(t, stateDir);
  t.diagnostic(`killed while ${interrupted.gen} held ${interrupted.files.join(', ')}`);

  // The killed load's leftovers are there, but `current` still names the previous generation.
  assert.ok(existsSync(join(stateDir, interrupted.gen)));
  assert.ok(existsSync(join(stateDir, 'lock')), 'the killed child still "holds" the lock');
  assert.notEqual(readlinkSync(join(stateDir, 'current')), interrupted.gen);
  const st = await sim.status();
  assert.equal(st.staged?.digest, previous.digest);
  assert.deepEqual(st.staged?.files, previous.files);

  // exec takes over the stale lock, removes the half-written generation and boots the previous image.
  const report = await sim.exec({});
  assert.equal(report.digest, previous.digest);
  assert.equal(report.segmentsVerified, previous.segments.length);
  assert.ok(!existsSync(join(stateDir, interrupted.gen)));
  assert.ok(!existsSync(join(stateDir, 'lock')));

  const next = smallPlan(6);
  assert.equal((await sim.load(next)).digest, next.digest);
  assert.equal((await sim.status()).staged?.digest, next.digest);
  assert.equal(readdirSync(stateDir).filter((n) => n.startsWith('gen-')).length, 1);
});
