/**
 * Durable file primitives for the simulated machine's state directory. A staged image must survive a crash
 * (or SIGKILL) at any instant, so every file that a later operation relies on is written completely, fsynced,
 * and only then made visible by an atomic rename; the directory holding the rename is fsynced too, or the
 * rename itself could be lost on power failure.
 */
import {closeSync, fsyncSync, ftruncateSync, openSync, renameSync, rmSync, unlinkSync, writeSync} from 'node:fs';
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

/** Writes all of `chunk` at file position `at` of `fd`. */
function writeAll(fd: number, chunk: Uint8Array, at: number): void {
  let off = 0;
  while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off, at + off);
}

const ZERO_RUN = 1 << 16;
const ZEROS = Buffer.alloc(ZERO_RUN);

/** True when every byte of `chunk` is zero (memcmp against a zero buffer, 64 KiB at a time). */
export function isAllZero(chunk: Uint8Array): boolean {
  const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  for (let i = 0; i < b.length; i += ZERO_RUN) {
    const n = Math.min(ZERO_RUN, b.length - i);
    if (!b.subarray(i, i + n).equals(ZEROS.subarray(0, n))) return false;
  }
  return true;
}

/**
 * Creates `path` (must not exist; 0600 whatever the umask), streams the chunks into it and fsyncs it before closing.
 * With `sparse`, all-zero chunks of at least 64 KiB are skipped rather than written (the file gets its full length
 * from ftruncate, and reads back as zeros there): a multi-GiB md_image that is mostly empty costs no disk.
 */
export function writeFileDurable(path: string, fill: (write: (chunk: Uint8Array) => void) => void, sparse = false): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    let at = 0;
    fill((chunk) => {
      if (!(sparse && chunk.length >= ZERO_RUN && isAllZero(chunk))) writeAll(fd, chunk, at);
      at += chunk.length;
    });
    ftruncateSync(fd, at);
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
