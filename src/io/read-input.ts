/**
 * Reading the files a command is given (kernels, modules, memory maps, loader.conf, firmware tables): one place
 * that turns OS errors into one-line errors naming the path, checks that the path is a regular file before
 * reading it (a FIFO would block forever, /dev/zero would never end), and bounds the size by what the input can
 * legitimately be. The file is checked and read through the same descriptor, so it cannot be swapped in between.
 */
import {constants} from 'node:fs';
import {open} from 'node:fs/promises';
import {KexecError, hex, type ExitCodeName} from '../errors.js';

/** The `code` of a Node.js system error (ENOENT, EACCES, ...), or undefined for anything else. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

const WHY: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory, not a file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a component of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the path is too long',
  EMFILE: 'too many open files',
};

/** "no such file", "permission denied", ... or "cannot be read (CODE)". */
function describeErrno(code: string | undefined): string {
  return (code !== undefined ? WHY[code] : undefined) ?? `cannot be read (${code ?? 'EIO'})`;
}

export interface InputOptions {
  /** What the file is, for messages: "memory map", "--efi-map"; '' when the path says enough (an ELF input). */
  readonly what: string;
  /** Largest size accepted, in bytes. */
  readonly maxBytes: number;
  /** Exit code for a missing, unreadable or oversized file (default 3, bad input file). */
  readonly code?: ExitCodeName;
}

export function inputError(path: string, o: InputOptions, message: string, reason: string): KexecError {
  return new KexecError(o.code ?? 'badInput', `${o.what === '' ? '' : `${o.what} `}${path}: ${message}`, {reason});
}

/** The error for an OS error met opening or reading `path`. */
export function inputErrnoError(path: string, o: InputOptions, e: unknown): KexecError {
  const code = errnoCode(e);
  return inputError(path, o, describeErrno(code), `input-${(code ?? 'eio').toLowerCase()}`);
}

/** What must hold of an opened input before a byte of it is read: a regular file of at most maxBytes. */
export function checkInputStat(path: string, o: InputOptions, st: {isDirectory(): boolean; isFile(): boolean; size: number}): void {
  if (st.isDirectory()) throw inputError(path, o, describeErrno('EISDIR'), 'input-eisdir');
  if (!st.isFile()) throw inputError(path, o, 'is not a regular file (a device, FIFO or socket)', 'input-not-regular');
  if (st.size > o.maxBytes) {
    throw inputError(path, o, `is ${hex(st.size)} bytes, more than the ${hex(o.maxBytes)} kexec-ts reads for ${o.what === '' ? 'an input file' : `a ${o.what}`}`, 'input-too-large');
  }
}

/** The whole file, after checking it is a regular file of at most maxBytes. */
export async function readInput(path: string, o: InputOptions): Promise<Uint8Array> {
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO for reading must not wait for a writer before we can look at what it is.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw inputErrnoError(path, o, e);
  }
  try {
    checkInputStat(path, o, await handle.stat());
    const buf = await handle.readFile();
    if (buf.length > o.maxBytes) throw inputError(path, o, `grew past ${hex(o.maxBytes)} bytes while being read`, 'input-too-large');
    // A plain Uint8Array over the same memory: Buffer#slice() does not copy, Uint8Array#slice() does.
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    if (e instanceof KexecError) throw e;
    throw inputErrnoError(path, o, e);
  } finally {
    await handle.close();
  }
}

const decoder = new TextDecoder('utf-8', {fatal: true});

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence (RFC 3629), or -1. */
function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i] as number;
    // Sequence length and the smallest code point it may encode (shorter forms are overlong, RFC 3629).
    const [n, min] = c < 0x80 ? [0, 0] : c >= 0xc2 && c <= 0xdf ? [1, 0x80] : c >= 0xe0 && c <= 0xef ? [2, 0x800] : c >= 0xf0 && c <= 0xf4 ? [3, 0x10000] : [-1, 0];
    if (n < 0) return i;
    let cp = n === 0 ? c : c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/** A text input (UTF-8); bytes that are not UTF-8 are an error naming the path and the byte offset. */
export async function readTextInput(path: string, o: InputOptions): Promise<string> {
  const bytes = await readInput(path, o);
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) throw inputError(path, o, `is not UTF-8 text (invalid byte ${hex(bytes[bad] ?? 0)} at offset ${hex(bad)})`, 'input-not-utf8');
  return decoder.decode(bytes);
}

/** Input size limits by kind (bytes). Generous: they stop a device or a runaway file, not a real input. */
export const INPUT_LIMITS = {
  /** ELF kernels, modules and raw preloaded files: read in bounded chunks, never whole (src/io/input-file.ts). */
  image: 2 ** 46,
  /** Text configuration: loader.conf, env files, memory maps. */
  text: 16 << 20,
  /** Firmware tables: EFI map, SMAP, device tree. */
  table: 16 << 20,
} as const;
