/**
 * The state directory's lock, the simulated counterpart of kern_kexec.c's `kexec_loading` flag: every mutating
 * operation (load, unload, exec) holds `STATEDIR/lock`, a file created with O_EXCL that holds the owner's pid
 * (and a random token on a second line, so release never removes somebody else's lock). A lock whose pid is
 * alive means EBUSY (exit 6). A lock whose pid is dead (a load killed by SIGKILL) is taken over by renaming it
 * to a private name first: of several processes racing to break it, only one rename finds the stale file, and
 * a process that finds a live lock under its private name instead puts it back. The lock also records the
 * operation (load, unload, exec) and the owner's start time (process-start.ts): a pid that is alive but started
 * at another time is a reused pid, and the lock is stale. The file is 0600, created with O_EXCL (never through a
 * symlink); the state directory is checked by src/io/trust.ts before anything in it is touched.
 */
import {makeDirs} from '../../io/make-dirs.js';
import {closeSync, linkSync, openSync, readFileSync, renameSync, writeSync} from 'node:fs';
import {join} from 'node:path';
import {randomBytes} from 'node:crypto';
import {KexecError} from '../../errors.js';
import {errnoCode} from '../../io/read-input.js';
import {assertTrusted} from '../../io/trust.js';
import {fsyncDir, uniqueName, unlinkIfPresent} from './durable-fs.js';
import {processStartTime} from './process-start.js';
import {stateIoError} from './state-errors.js';

/** What holds the lock, for the EBUSY message. */
export type LockOperation = 'load' | 'unload' | 'exec';

export interface HeldLock {
  readonly path: string;
  release(): void;
}

interface LockContent {
  readonly text: string;
  readonly pid: number | undefined;
  readonly operation: string | undefined;
  readonly started: string | undefined;
}

/** Sleeps synchronously (the lock is taken between synchronous file operations). */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function readLock(path: string): LockContent | undefined {
  let text: string;
  try {
    text = readFileSync(path, {encoding: 'utf8', flag: 'r'});
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw stateIoError(e, 'lock', path);
  }
  const [first = '', , operation, started] = text.split('\n').map((l) => l.trim());
  const pid = /^[0-9]+$/.test(first) ? Number(first) : undefined;
  return {
    text, pid: pid !== undefined && pid > 0 ? pid : undefined,
    operation: operation === undefined || !/^(load|unload|exec)$/.test(operation) ? undefined : operation,
    started: started === undefined || started === '' ? undefined : started,
  };
}

/** The lock's owner is running: its pid is alive and, when both are known, started when the lock says. */
function ownerAlive(seen: LockContent): boolean {
  if (seen.pid === undefined || !pidAlive(seen.pid)) return false;
  if (seen.started === undefined) return true;
  const now = processStartTime(seen.pid);
  return now === undefined || now === seen.started;
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

function busy(stateDir: string, path: string, seen: LockContent | undefined): KexecError {
  const pid = seen?.pid;
  const who = pid === undefined ? 'a process that is still writing it' : `pid ${pid}`;
  const what = seen?.operation === undefined ? 'another kexec-ts operation is' : `another ${seen.operation} is`;
  return new KexecError('busy', `EBUSY: ${what} in progress (${who} holds ${path})`, {
    reason: 'EBUSY',
    hint: `wait for it to finish; if no kexec-ts process is running, remove ${path}`,
    details: {stateDir, lock: path, ...(pid === undefined ? {} : {pid}), ...(seen?.operation === undefined ? {} : {operation: seen.operation})},
  });
}

/** Creates the lock file exclusively (0600) with `text`; a failed write leaves no empty lock behind. */
function createLock(path: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') return false;
    throw stateIoError(e, 'lock', path);
  }
  try {
    const bytes = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  } catch (e) {
    closeSync(fd);
    unlinkIfPresent(path);
    throw stateIoError(e, 'lock', path);
  }
  closeSync(fd);
  return true;
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
function acquireLock(stateDir: string, operation: LockOperation): HeldLock {
  const path = join(stateDir, 'lock');
  const token = randomBytes(8).toString('hex');
  const text = `${process.pid}\n${token}\n${operation}\n${processStartTime(process.pid) ?? ''}\n`;
  let emptyTries = 0;
  for (let attempt = 0; attempt < 100; attempt++) {
    if (createLock(path, text)) {
      fsyncDir(stateDir);
      return {path, release: () => releaseLock(path, text)};
    }
    const seen = readLock(path);
    if (seen === undefined) continue; // released between our open and read
    if (seen.pid === undefined) {
      // Created but not yet written (the owner is between open and write), or its owner died right there.
      if (++emptyTries < 25) {
        sleepMs(20);
        continue;
      }
    } else if (ownerAlive(seen)) {
      throw busy(stateDir, path, seen);
    }
    if (!breakStaleLock(path, seen)) throw busy(stateDir, path, readLock(path));
  }
  throw busy(stateDir, path, readLock(path));
}

function releaseLock(path: string, text: string): void {
  const now = readLock(path);
  if (now?.text === text) unlinkIfPresent(path);
}

/** Checks that the state directory may be trusted and creates it (0700, whatever the umask) when missing. */
export function prepareStateDir(stateDir: string): void {
  const trust = {what: 'state directory', kind: 'dir'} as const;
  assertTrusted(stateDir, trust);
  try {
    makeDirs(stateDir, 0o700);
  } catch (e) {
    throw stateIoError(e, 'state directory', stateDir);
  }
  assertTrusted(stateDir, trust);
}

/**
 * Runs `fn` holding STATEDIR/lock (the directory is checked, and created 0700 when missing), after `before` (the
 * store's clean-up of what interrupted operations left behind). The lock is released however `fn` ends.
 */
export async function withStateLock<T>(stateDir: string, operation: LockOperation, before: () => void, fn: () => T | Promise<T>): Promise<T> {
  prepareStateDir(stateDir);
  const lock = acquireLock(stateDir, operation);
  try {
    before();
    return await fn();
  } finally {
    lock.release();
  }
}
