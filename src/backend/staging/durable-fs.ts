/**
 * Durable file primitives for the simulated machine's state directory. A staged image must survive a crash
 * (or SIGKILL) at any instant, so every file that a later operation relies on is written completely, fsynced,
 * and only then made visible by an atomic rename; the directory holding the rename is fsynced too, or the
 * rename itself could be lost on power failure.
 */
import {closeSync, fsyncSync, openSync, renameSync, rmSync, unlinkSync, writeSync} from 'node:fs';
import {randomBytes} from 'node:crypto';
import {basename, dirname, join} from 'node:path';

/** fsync a directory so renames, creations and unlinks inside it are on disk. Ignored where unsupported. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes all of `chunk` at the current position of `fd`. */
function writeAll(fd: number, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
}

/** Creates `path` (must not exist; 0600 whatever the umask), streams the chunks into it and fsyncs it before closing. */
export function writeFileDurable(path: string, fill: (write: (chunk: Uint8Array) => void) => void): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    fill((chunk) => writeAll(fd, chunk));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A name no other process or call will pick: `<prefix><pid>-<random>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** Replaces `path` atomically with `text`: temp file in the same directory, fsync, rename, fsync the directory. */
export function writeFileAtomic(path: string, text: string): void {
  const dir = dirname(path);
  const tmp = join(dir, uniqueName(`.${basename(path)}.tmp-`));
  try {
    writeFileDurable(tmp, (write) => write(Buffer.from(text, 'utf8')));
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, {force: true});
    throw e;
  }
  fsyncDir(dir);
}

/** Removes a file if present (ENOENT is not an error). */
export function unlinkIfPresent(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
