/**
 * A FreeBSD root file system seen from outside: the files the loader would read (/boot/defaults/loader.conf,
 * /boot/loader.conf.d/*.conf, /etc/fstab, the kernel and modules under /boot) addressed by their path inside that
 * root ("/boot/loader.conf"), whatever directory actually holds them: `/` on the host itself, a boot environment
 * mounted with `bectl mount` (--root DIR), or DIR/root of a host snapshot. Every read goes through readInput
 * (regular files only, bounded sizes); a path inside the root may not climb out of it with "..".
 */
import {readdir, stat} from 'node:fs/promises';
import {posix} from 'node:path';
import {KexecError} from '../errors.js';
import {INPUT_LIMITS, errnoCode, readInput, readTextInput} from './read-input.js';

/** What `read` gives, or undefined when the file (or a directory on its path) does not exist. */
async function unlessMissing<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (e) {
    if (e instanceof KexecError && (e.reason === 'input-enoent' || e.reason === 'input-enotdir')) return undefined;
    throw e;
  }
}

export class RootFs {
  /** `dir` is where the root is on this machine ("/" for the host itself). */
  constructor(readonly dir: string) {}

  /** The path on this machine of an absolute path inside the root. */
  hostPath(path: string): string {
    if (!path.startsWith('/')) throw new KexecError('usage', `${path}: a path inside the root file system must be absolute`, {reason: 'root-path'});
    const clean = posix.normalize(path);
    if (clean.split('/').includes('..')) throw new KexecError('usage', `${path}: climbs out of the root file system`, {reason: 'root-path'});
    return this.dir === '/' ? clean : posix.join(this.dir, clean);
  }

  /** How a path inside the root is shown in messages: itself on the host, else where it is on this machine. */
  describe(path: string): string {
    return this.dir === '/' ? path : this.hostPath(path);
  }

  /** A text file's content, or undefined when it does not exist. Other problems are errors naming the file. */
  async readText(path: string, what = ''): Promise<string | undefined> {
    return unlessMissing(readTextInput(this.hostPath(path), {what, maxBytes: INPUT_LIMITS.text, code: 'usage'}));
  }

  /** A binary file's bytes, or undefined when it does not exist. */
  async readBytes(path: string, maxBytes: number = INPUT_LIMITS.image): Promise<Uint8Array | undefined> {
    return unlessMissing(readInput(this.hostPath(path), {what: '', maxBytes}));
  }

  /** 'file', 'dir', 'other', or undefined when nothing is there. Symbolic links are followed, as the loader's stat(). */
  async kind(path: string): Promise<'file' | 'dir' | 'other' | undefined> {
    try {
      const st = await stat(this.hostPath(path));
      return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw new KexecError('usage', `${this.describe(path)}: cannot be examined (${code ?? 'EIO'})`, {reason: 'root-unreadable'});
    }
  }

  /** The names in a directory, or undefined when it is not one. */
  async list(path: string): Promise<string[] | undefined> {
    try {
      return await readdir(this.hostPath(path));
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw new KexecError('usage', `${this.describe(path)}: cannot be listed (${code ?? 'EIO'})`, {reason: 'root-unreadable'});
    }
  }
}
