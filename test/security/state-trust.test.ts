/**
 * State that anyone can change is never trusted (issue 13 items 4 and 8), files kexec-ts creates are 0600 in
 * 0700 directories whatever the umask, and a lock names its operation and knows a reused pid. Run in-process
 * against the simulated backend (the trust rules live in src/io/trust.ts and are the same for every backend);
 * ownership cases need root (chown), which CI has, and skip otherwise.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, symlinkSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {SimBackend} from '../../src/backend/sim/index.js';
import {writeRecord} from '../../src/backend/native/record.js';
import {processStartTime} from '../../src/backend/staging/process-start.js';
import {stagedRecord} from '../../src/backend/staging/staged-record.js';
import {KexecError} from '../../src/errors.js';
import {assertTrusted} from '../../src/io/trust.js';
import {smallPlan, tempStateDir} from '../sim/sim-fixtures.js';

const ROOT_SKIP = process.geteuid?.() === 0 ? false : 'needs root (chown)';
const OTHER = 1234;

async function refused(p: Promise<unknown>, message: RegExp): Promise<KexecError> {
  let caught: unknown;
  await p.then(() => assert.fail('expected a refusal'), (e: unknown) => void (caught = e));
  assert.ok(caught instanceof KexecError, String(caught));
  assert.equal(caught.code, 5, caught.message);
  assert.equal(caught.reason, 'untrusted-path', caught.message);
  assert.match(caught.message, message);
  return caught;
}

test('as root: a foreign-owned, group- or world-writable or symlinked state directory is refused, naming path and owner', {skip: ROOT_SKIP}, async (t) => {
  const base = tempStateDir(t);
  const foreign = join(base, 'foreign');
  mkdirSync(foreign, {mode: 0o700});
  chownSync(foreign, OTHER, OTHER);
  await refused(new SimBackend({stateDir: foreign}).load(smallPlan()), new RegExp(`state directory ${foreign}: is not owned by root \\(owner uid ${OTHER}, mode 0700\\)`));
  await refused(new SimBackend({stateDir: foreign}).status(), /is not owned by root/);
  for (const mode of [0o777, 0o770]) {
    const open = join(base, `open-${mode.toString(8)}`);
    mkdirSync(open);
    chmodSync(open, mode);
    await refused(new SimBackend({stateDir: open}).load(smallPlan()), /is writable by group or others \(owner uid 0/);
  }
  const real = join(base, 'real');
  mkdirSync(real, {mode: 0o700});
  const link = join(base, 'link');
  symlinkSync(real, link);
  await refused(new SimBackend({stateDir: link}).load(smallPlan()), /is a symbolic link/);
  // A root-owned 0700 state directory below a user-owned 0777 one is still somebody else's.
  const userDir = join(base, 'user');
  mkdirSync(userDir);
  chmodSync(userDir, 0o777);
  chownSync(userDir, OTHER, OTHER);
  await refused(new SimBackend({stateDir: join(userDir, 'state')}).load(smallPlan()), new RegExp(`${userDir}: a directory above it belongs to another user`));
  assert.deepEqual(readdirSync(foreign), [], 'nothing was created in the refused directory');
});

test('a swapped generation (foreign-owned, or a symlink to somebody else\'s copy) is refused by status and exec, and unload clears it', {skip: ROOT_SKIP}, async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir});
  await sim.load(smallPlan());
  const gen = readdirSync(stateDir).find((n) => n.startsWith('gen-')) as string;
  chownSync(join(stateDir, gen), OTHER, OTHER);
  await refused(sim.status(), /staged generation .*gen-.*: is not owned by root/);
  await refused(sim.exec({}), /is not owned by root/);
  chownSync(join(stateDir, gen), 0, 0);
  const copy = join(stateDir, 'attacker-copy');
  renameSync(join(stateDir, gen), copy);
  symlinkSync(copy, join(stateDir, gen));
  await refused(sim.exec({}), /staged generation .*: is a symbolic link/);
  await sim.unload();
  assert.equal((await sim.status()).staged, null);
});

test('umask 000: the state directory is 0700, every file kexec-ts writes 0600 (sim and native record)', async (t) => {
  const base = tempStateDir(t);
  const old = process.umask(0);
  try {
    const stateDir = join(base, 'a', 'state');
    await new SimBackend({stateDir}).load(smallPlan());
    for (const dir of [join(base, 'a'), stateDir]) assert.equal(lstatSync(dir).mode & 0o777, 0o700, dir);
    for (const entry of readdirSync(stateDir)) {
      const st = lstatSync(join(stateDir, entry));
      if (st.isSymbolicLink()) continue;
      assert.equal(st.mode & 0o777, st.isDirectory() ? 0o700 : 0o600, entry);
      if (st.isDirectory()) for (const f of readdirSync(join(stateDir, entry))) assert.equal(lstatSync(join(stateDir, entry, f)).mode & 0o777, 0o600, f);
    }
    const records = join(base, 'run', 'kexec-ts');
    await writeRecord(records, stagedRecord('native', smallPlan(), {rbKexec: '0x1000000'}));
    assert.equal(lstatSync(records).mode & 0o777, 0o700);
    assert.equal(lstatSync(join(records, 'staged.json')).mode & 0o777, 0o600);
  } finally {
    process.umask(old);
  }
});

test('a non-root user trusts only their own files and root\'s', {skip: ROOT_SKIP}, (t) => {
  const base = tempStateDir(t);
  const mine = join(base, 'mine.yaml');
  writeFileSync(mine, 'backend: sim\n', {mode: 0o644});
  chownSync(base, 1001, 1001);
  chownSync(mine, 1001, 1001);
  assert.ok(assertTrusted(mine, {what: 'config file', kind: 'file', euid: 1001}) !== undefined);
  chownSync(mine, 1002, 1002);
  assert.throws(() => assertTrusted(mine, {what: 'config file', kind: 'file', euid: 1001}), /config file .*mine\.yaml: is owned by another user \(owner uid 1002/);
  chownSync(mine, 0, 0);
  assert.ok(assertTrusted(mine, {what: 'config file', kind: 'file', euid: 1001}) !== undefined);
  chownSync(base, 1002, 1002);
  assert.throws(() => assertTrusted(mine, {what: 'config file', kind: 'file', euid: 1001}), /a directory above it belongs to another user/);
});

test('locks name their operation; a live pid that started at another time is a reused pid (stale lock)', async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir});
  const holder = spawn(process.execPath, ['-e', 'setTimeout(()=>{},10000)'], {stdio: 'ignore'});
  t.after(() => holder.kill('SIGKILL'));
  const pid = holder.pid as number;
  await new Promise((r) => setTimeout(r, 200));
  const started = processStartTime(pid);
  const lock = join(stateDir, 'lock');
  writeFileSync(lock, `${pid}\ntoken\nexec\n${started ?? ''}\n`);
  const busy = await sim.load(smallPlan()).catch((e: unknown) => e);
  assert.ok(busy instanceof KexecError && busy.code === 6, String(busy));
  assert.match(busy.message, new RegExp(`^EBUSY: another exec is in progress \\(pid ${pid} holds `));
  if (started === undefined) return t.skip('no process start time on this system');
  writeFileSync(lock, `${pid}\ntoken\nexec\n${started}1\n`);
  await sim.load(smallPlan());
  assert.deepEqual(readdirSync(stateDir).filter((n) => n.startsWith('lock')), [], 'the stale lock was taken over and released');
});

test('a lock that is a directory, a state dir that is a file or under one: exit 5 naming the path', async (t) => {
  const base = tempStateDir(t);
  const stateDir = join(base, 'state');
  mkdirSync(join(stateDir, 'lock'), {recursive: true, mode: 0o700});
  chmodSync(stateDir, 0o700);
  const e = await new SimBackend({stateDir}).load(smallPlan()).catch((x: unknown) => x);
  assert.ok(e instanceof KexecError && e.code === 5, String(e));
  assert.match(e.message, /lock .*state\/lock: EISDIR/);
  const file = join(base, 'file');
  writeFileSync(file, '', {mode: 0o600});
  for (const dir of [file, join(file, 'below')]) {
    const err = await new SimBackend({stateDir: dir}).load(smallPlan()).catch((x: unknown) => x);
    assert.ok(err instanceof KexecError && err.code === 5, String(err));
    assert.match(err.message, /not a directory/);
  }
  assert.equal(readFileSync(file, 'utf8'), '');
});
