/**
 * Crash safety: a load killed with SIGKILL while it writes its generation (64 MiB in 1 MiB pieces, in a child
 * process) must leave the previous image staged and bootable; the half-written generation and the dead
 * process's lock are cleaned up by the next operation, and a new load succeeds.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {existsSync, readdirSync, readlinkSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {SimBackend} from '../../src/backend/sim/index.js';
import {smallPlan, tempStateDir} from './sim-fixtures.js';

interface Interrupted {
  /** The generation directory the child was writing when it was killed. */
  readonly gen: string;
  readonly files: string[];
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Runs the child and kills it as soon as a generation with a partly written segment file but no plan.json appears. */
async function loadAndKill(stateDir: string): Promise<Interrupted | undefined> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'load-large-child.ts'), stateDir], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let done = false;
  void exited.then(() => (done = true));
  let caught: Interrupted | undefined;
  while (!done && caught === undefined) {
    for (const gen of readdirSync(stateDir).filter((n) => n.startsWith('gen-'))) {
      let files: string[];
      try {
        files = readdirSync(join(stateDir, gen));
      } catch {
        continue;
      }
      const partial = files.filter((f) => f.startsWith('segment-') && sizeOf(join(stateDir, gen, f)) > 0);
      if (partial.length > 0 && !files.includes('plan.json')) {
        child.kill('SIGKILL');
        caught = {gen, files: files.map((f) => `${f} (${sizeOf(join(stateDir, gen, f))} bytes)`)};
        break;
      }
    }
    if (caught === undefined) await new Promise((r) => setImmediate(r));
  }
  await exited;
  if (caught === undefined) assert.match(out, /loaded/, `child failed:\n${out}`);
  return caught;
}

test('a load killed by SIGKILL mid-write leaves the previous image staged, bootable, and replaceable', {timeout: 120_000}, async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir});
  const previous = smallPlan(5);
  let interrupted: Interrupted | undefined;
  for (let attempt = 0; attempt < 5 && interrupted === undefined; attempt++) {
    await sim.load(previous);
    interrupted = await loadAndKill(stateDir);
  }
  assert.ok(interrupted !== undefined, 'the child was never caught mid-write');
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
