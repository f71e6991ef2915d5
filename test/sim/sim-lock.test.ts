/**
 * STATEDIR/lock: a lock held by a live process is EBUSY (exit 6) naming the pid and the lock; a lock left by a
 * dead process is taken over; stray files of interrupted operations are cleaned up under the lock; and two loads
 * in separate processes that overlap (the first held inside the lock by the stage gate until the second has been
 * refused) give one refusal and one whole image. Live holders live until the test ends them; "dead" pids are
 * ones no kernel hands out (NO_SUCH_PID), so neither depends on timing or on pid reuse.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {SimBackend} from '../../src/backend/sim/index.js';
import {stageGate} from '../helpers/stage-gate.js';
import {NO_SUCH_PID, refusal, smallPlan, tempStateDir} from './sim-fixtures.js';

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** A process that lives until its stdin closes or it is killed: a lock holder whose life the test decides. */
function liveHolder(t: {after: (fn: () => void) => void}): ChildProcess {
  const holder = spawn(process.execPath, ['-e', 'process.stdin.resume()'], {stdio: ['pipe', 'ignore', 'ignore']});
  t.after(() => holder.kill('SIGKILL'));
  return holder;
}

interface ChildLoad {
  readonly child: ChildProcess;
  readonly done: Promise<{code: number | null; out: string}>;
}

/** load-large-child.ts loading a small plan into `stateDir`, with extra node options and environment. */
function childLoad(stateDir: string, nodeArgs: readonly string[] = [], env: Record<string, string> = {}): ChildLoad {
  const script = join(import.meta.dirname, 'load-large-child.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', ...nodeArgs, script, stateDir, 'small'], {
    cwd: process.cwd(), env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<{code: number | null; out: string}>((resolve) => child.on('close', (code) => resolve({code, out})));
  return {child, done};
}

test('a lock held by a live process: load, unload and exec are EBUSY (exit 6); status still works', async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir});
  const staged = await sim.load(smallPlan());
  const holder = liveHolder(t);
  const pid = holder.pid;
  assert.ok(pid !== undefined);
  const lock = join(stateDir, 'lock');
  writeFileSync(lock, `${pid}\n`);
  const message = new RegExp(`^EBUSY: another kexec-ts operation is in progress \\(pid ${pid} holds ${lock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`);
  const e = await refusal(sim.load(smallPlan(2)), 6, 'EBUSY', message);
  assert.equal((e.details as {pid?: number}).pid, pid);
  await refusal(sim.unload(), 6, 'EBUSY', message);
  await refusal(sim.exec({}), 6, 'EBUSY', message);
  assert.deepEqual((await sim.status()).staged, staged);
  assert.equal(readFileSync(lock, 'utf8'), `${pid}\n`, 'the live lock is left alone');
  holder.kill('SIGKILL');
  await exited(holder);
  assert.equal((await sim.load(smallPlan(2))).digest, smallPlan(2).digest, 'once the holder is gone its lock is stale');
});

test('a stale lock (dead pid) is taken over and released', async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir});
  writeFileSync(join(stateDir, 'lock'), `${NO_SUCH_PID}\n`);
  const rec = await sim.load(smallPlan());
  assert.equal((await sim.status()).staged?.digest, rec.digest);
  assert.ok(!existsSync(join(stateDir, 'lock')));
  assert.deepEqual(readdirSync(stateDir).filter((n) => n.startsWith('lock')), []);
});

test('an empty lock (owner died between creating and writing it) is taken over after a grace period', async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir});
  writeFileSync(join(stateDir, 'lock'), '');
  await sim.load(smallPlan());
  assert.ok(!existsSync(join(stateDir, 'lock')));
});

test('strays of interrupted operations are removed by the next locked operation, the staged image kept', async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir});
  const rec = await sim.load(smallPlan());
  const half = join(stateDir, `gen-1-${NO_SUCH_PID}-abcdef`);
  mkdirSync(half);
  writeFileSync(join(half, 'segment-00.bin'), new Uint8Array(10));
  symlinkSync(half, join(stateDir, `.current.tmp-${NO_SUCH_PID}-abcdef`));
  writeFileSync(join(stateDir, `.machine.json.tmp-${NO_SUCH_PID}-abcdef`), '{');
  assert.deepEqual((await sim.status()).staged, rec, 'status (no lock) ignores strays');
  const report = await sim.exec({});
  assert.equal(report.digest, rec.digest);
  assert.deepEqual(readdirSync(stateDir).sort(), ['booted.json', 'machine.json']);
});

test('two processes loading at once: the one that finds the lock held is EBUSY, the other stages one whole image', async (t) => {
  const stateDir = tempStateDir(t);
  const initial = await new SimBackend({stateDir}).load(smallPlan(1));
  const gate = stageGate(t);
  const first = childLoad(stateDir, gate.nodeArgs, gate.env);
  t.after(() => first.child.kill('SIGKILL'));
  const holder = await gate.inside(first.done);
  assert.equal(holder, first.child.pid, 'the gated process is the first load');
  assert.equal(readFileSync(join(stateDir, 'lock'), 'utf8').split('\n')[0], String(holder), 'it holds the lock, mid-write');

  // The overlap is certain: the second load starts and ends while the first is held inside the lock.
  const second = await childLoad(stateDir).done;
  assert.equal(second.code, 6, second.out);
  assert.match(second.out, new RegExp(`^EBUSY: another load is in progress \\(pid ${holder} holds ${lockPattern(stateDir)}\\)$`, 'm'));
  assert.deepEqual((await new SimBackend({stateDir}).status()).staged, initial, 'status still shows the image staged before');

  await gate.open();
  const won = await first.done;
  assert.equal(won.code, 0, won.out);
  const sim = new SimBackend({stateDir});
  const staged = (await sim.status()).staged;
  assert.notEqual(staged?.digest, initial.digest);
  assert.deepEqual(staged?.files, ['small-child.elf'], 'the first load\'s image is staged');
  const boot = await sim.exec({});
  assert.equal(boot.digest, staged?.digest);
  assert.equal(boot.segmentsVerified, 2, 'every segment of the staged image verifies: one whole image');
  assert.deepEqual(readdirSync(stateDir).filter((n) => n.startsWith('lock') || n.startsWith('gen-')), []);
});

/** `stateDir/lock` as a regular expression. */
function lockPattern(stateDir: string): string {
  return join(stateDir, 'lock').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
