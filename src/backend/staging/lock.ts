/**
 * The state directory's lock, the simulated counterpart of kern_kexec.c's `kexec_loading` flag: every mutating
 * operation (load, unload, exec) holds `STATEDIR/lock`, a file created with O_EXCL that holds the owner's pid
 * (and a random token on a second line, so release never removes somebody else's lock). A lock whose pid is
 * alive means EBUSY (exit 6). A lock whose pid is dead (a load killed by SIGKILL) is taken over by renaming it
 * to a private name first: of several processes racing to break it, only one rename finds the stale file, and
 * a process that finds a live lock under its private name instead puts it back.
 */
import {linkSync, readFileSync, renameSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {randomBytes} from 'node:crypto';
import {mkdirSync} from 'node:fs';
import {KexecError} from '../../errors.js';
import {fsyncDir, uniqueName, unlinkIfPresent} from './durable-fs.js';

export interface HeldLock {
  readonly path: string;
  release(): void;
}

interface LockContent {
  readonly text: string;
  readonly pid: number | undefined;
}

/** Sleeps synchronously (the lock is taken between synchronous file operations). */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function readLock(path: string): LockContent | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const first = text.split('\n')[0]?.trim() ?? '';
  const pid = /^[0-9]+$/.test(first) ? Number(first) : undefined;
  return {text, pid: pid !== undefined && pid > 0 ? pid : undefined};
}

/** True when a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function busy(stateDir: string, path: string, pid: number | undefined): KexecError {
  const who = pid === undefined ? 'a process that is still writing it' : `pid ${pid}`;
  return new KexecError('busy', `EBUSY: another load is in progress (${who} holds ${path})`, {
    reason: 'EBUSY',
    hint: `wait for it to finish; if no kexec-ts process is running, remove ${path}`,
    details: {stateDir, lock: path, ...(pid === undefined ? {} : {pid})},
  });
}

/**
 * Renames a dead owner's lock away and deletes it. Returns false when the file we grabbed was not the stale one
 * (another process broke it and locked in between); that lock is put back (link fails if yet another process
 * has locked meanwhile, and the token check in release keeps the owners from removing each other's files).
 */
function breakStaleLock(path: string, seen: LockContent): boolean {
  const aside = `${path}.${uniqueName('stale-')}`;
  try {
    renameSync(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true; // somebody else broke it: just retry
    throw e;
  }
  const grabbed = readLock(aside);
  if (grabbed !== undefined && grabbed.text !== seen.text) {
    try {
      linkSync(aside, path);
    } catch {
      // A newer lock exists: leave it alone.
    }
    unlinkIfPresent(aside);
    return false;
  }
  unlinkIfPresent(aside);
  return true;
}

/** Takes `stateDir/lock` or throws KexecError('busy') naming the live owner. Always release in `finally`. */
function acquireLock(stateDir: string): HeldLock {
  const path = join(stateDir, 'lock');
  const token = randomBytes(8).toString('hex');
  const text = `${process.pid}\n${token}\n`;
  let emptyTries = 0;
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      writeFileSync(path, text, {flag: 'wx', mode: 0o644});
      fsyncDir(stateDir);
      return {path, release: () => releaseLock(path, text)};
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const seen = readLock(path);
    if (seen === undefined) continue; // released between our open and read
    if (seen.pid === undefined) {
      // Created but not yet written (the owner is between open and write), or its owner died right there.
      if (++emptyTries < 25) {
        sleepMs(20);
        continue;
      }
    } else if (pidAlive(seen.pid)) {
      throw busy(stateDir, path, seen.pid);
    }
    if (!breakStaleLock(path, seen)) throw busy(stateDir, path, readLock(path)?.pid);
  }
  throw busy(stateDir, path, readLock(path)?.pid);
}

function releaseLock(path: string, text: string): void {
  const now = readLock(path);
  if (now?.text === text) unlinkIfPresent(path);
}

/**
 * Runs `fn` holding STATEDIR/lock (the directory is created 0700 when missing), after `before` (the store's
 * clean-up of what interrupted operations left behind). The lock is released however `fn` ends.
 */
export async function withStateLock<T>(stateDir: string, before: () => void, fn: () => T | Promise<T>): Promise<T> {
  mkdirSync(stateDir, {recursive: true, mode: 0o700});
  const lock = acquireLock(stateDir);
  try {
    before();
    return await fn();
  } finally {
    lock.release();
  }
}
