/**
 * A large input (kernel, module, raw preloaded file such as a multi-GiB md_image) that is never read whole: it is
 * checked once when opened (the same checks as readInput: regular file, size bound), its identity is recorded
 * (device, inode, size, modification and change times), and every later read reopens it and refuses to go on if
 * any of those changed, so the bytes planned, hashed, staged and loaded are the bytes of the file that was checked.
 * Reads are synchronous and bounded by the caller's chunk size; workers read through the same description
 * (src/io/hash-pool.ts), never through a descriptor shared with the main thread.
 */
import {closeSync, constants, fstatSync, openSync, readSync, type Stats} from 'node:fs';
import {KexecError, hex} from '../errors.js';
import {checkInputStat, inputErrnoError, inputError, type InputOptions} from './read-input.js';

/** What identifies the file that was checked; plain data, so a worker thread can check it too. */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
}

export interface InputFileDescription {
  readonly path: string;
  readonly identity: FileIdentity;
  readonly options: InputOptions;
}

function identityOf(st: Stats & {mtimeNs?: bigint}): FileIdentity {
  const big = st as unknown as {dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint};
  return {dev: Number(big.dev), ino: Number(big.ino), size: Number(big.size), mtimeNs: String(big.mtimeNs), ctimeNs: String(big.ctimeNs)};
}

/** Which identity fields differ ('' when none). */
export function identityChange(a: FileIdentity, b: FileIdentity): string {
  if (a.dev !== b.dev || a.ino !== b.ino) return 'it is another file now';
  if (a.size !== b.size) return `its size changed from ${hex(a.size)} to ${hex(b.size)} bytes`;
  if (a.mtimeNs !== b.mtimeNs || a.ctimeNs !== b.ctimeNs) return 'it was modified';
  return '';
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

export class InputFile implements InputFileDescription {
  private constructor(readonly path: string, readonly identity: FileIdentity, readonly options: InputOptions) {}

  get size(): number {
    return this.identity.size;
  }

  /** Opens and checks `path` (one-line KexecError for anything wrong), records its identity, reads nothing. */
  static open(path: string, o: InputOptions): InputFile {
    let fd: number;
    try {
      // O_NONBLOCK: opening a FIFO for reading must not wait for a writer before we can look at what it is.
      fd = openSync(path, OPEN_FLAGS);
    } catch (e) {
      throw inputErrnoError(path, o, e);
    }
    try {
      const st = fstatSync(fd, {bigint: true});
      checkInputStat(path, o, {isDirectory: () => st.isDirectory(), isFile: () => st.isFile(), size: Number(st.size)});
      return new InputFile(path, identityOf(st as unknown as Stats), o);
    } catch (e) {
      if (e instanceof KexecError) throw e;
      throw inputErrnoError(path, o, e);
    } finally {
      closeSync(fd);
    }
  }

  /** Runs `fn` on a descriptor of the same file, unchanged since it was opened; closes it afterwards. */
  withFd<T>(fn: (fd: number) => T): T {
    let fd: number;
    try {
      fd = openSync(this.path, OPEN_FLAGS);
    } catch (e) {
      throw inputErrnoError(this.path, this.options, e);
    }
    try {
      const change = identityChange(this.identity, identityOf(fstatSync(fd, {bigint: true}) as unknown as Stats));
      if (change !== '') throw inputError(this.path, this.options, `changed while kexec-ts was using it (${change})`, 'input-changed');
      return fn(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Fills `into` from file offset `offset` on an open descriptor; a short read means the file shrank. */
  readInto(fd: number, into: Uint8Array, offset: number): void {
    let done = 0;
    while (done < into.length) {
      let n: number;
      try {
        n = readSync(fd, into, done, into.length - done, offset + done);
      } catch (e) {
        throw inputErrnoError(this.path, this.options, e);
      }
      if (n === 0) throw inputError(this.path, this.options, `ends at ${hex(offset + done)}, before the ${hex(offset + into.length)} it had when opened`, 'input-changed');
      done += n;
    }
  }

  /** The bytes [offset, offset + length), freshly read (a new buffer of `length` bytes). */
  read(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    if (length > 0) this.withFd((fd) => this.readInto(fd, out, offset));
    return out;
  }
}
