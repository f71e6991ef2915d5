/**
 * STATEDIR/lock: a lock held by a live process is EBUSY (exit 6) naming the pid and the lock; a lock left by a
 * dead process is taken over; stray files of interrupted operations are cleaned up under the lock; and two
 * loads racing in separate processes give one success per moment, never a mixed image.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {SimBackend} from '../../src/backend/sim/index.js';
import {refusal, smallPlan, tempStateDir} from './sim-fixtures.js';

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

test('a lock held by a live process: load, unload and exec are EBUSY (exit 6); status still works', async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir});
  const staged = await sim.load(smallPlan());
  const holder = spawn(process.execPath, ['-e', 'setTimeout(()=>{},5000)'], {stdio: 'ignore'});
  t.after(() => holder.kill('SIGKILL'));
  const pid = holder.pid;
  assert.ok(pid !== undefined);
  const lock = join(stateDir, 'lock');
  writeFileSync(lock, `${pid}\n`);
  const message = new RegExp(`^EBUSY: another load is in progress \\(pid ${pid} holds ${lock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`);
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
  const gone = spawn(process.execPath, ['-e', '0'], {stdio: 'ignore'});
  await exited(gone);
  assert.ok(gone.pid !== undefined);
  writeFileSync(join(stateDir, 'lock'), `${gone.pid}\n`);
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
  const half = join(stateDir, 'gen-1-999999-abcdef');
  mkdirSync(half);
  writeFileSync(join(half, 'segment-00.bin'), new Uint8Array(10));
  symlinkSync(half, join(stateDir, '.current.tmp-999999-abcdef'));
  writeFileSync(join(stateDir, '.machine.json.tmp-999999-abcdef'), '{');
  assert.deepEqual((await sim.status()).staged, rec, 'status (no lock) ignores strays');
  const report = await sim.exec({});
  assert.equal(report.digest, rec.digest);
  assert.deepEqual(readdirSync(stateDir).sort(), ['booted.json', 'machine.json']);
});

test('two processes loading at once: each load either succeeds or is EBUSY, and the result is one whole image', async (t) => {
  const stateDir = tempStateDir(t);
  await new SimBackend({stateDir}).load(smallPlan(1));
  const script = join(import.meta.dirname, 'load-large-child.ts');
  const runs = [0, 1].map(() => spawn(process.execPath, ['--import', 'tsx', script, stateDir, 'small'], {cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe']}));
  const outputs = await Promise.all(runs.map((c) => new Promise<{code: number | null; out: string}>((resolve) => {
    let out = '';
    c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', (code) => resolve({code, out}));
  })));
  for (const o of outputs) assert.ok(o.code === 0 || (o.code === 6 && /EBUSY/.test(o.out)), o.out);
  assert.ok(outputs.some((o) => o.code === 0), outputs.map((o) => o.out).join('\n'));
  const sim = new SimBackend({stateDir});
  const staged = (await sim.status()).staged;
  assert.equal(staged?.files[0], 'small-child.elf');
  assert.equal((await sim.exec({})).digest, staged?.digest);
});
