/**
 * An independent linker.hints writer and reader for tests, written from usr.sbin/kldxref/kldxref.c's format
 * (see /work/shared/reference/freebsd-kexec.md §6), not from src/image/freebsd/linker-hints.ts:
 *   file   := int32 version (1) ; record*                         (little-endian)
 *   record := int32 reclen ; body, zero-padded to a multiple of 4   (reclen counts the padding)
 *   body   := int32 type ; payload
 *     MDT_MODULE (2):   str modname ; str kldfile
 *     MDT_VERSION (3):  str modname ; <align 4> int32 version ; str kldfile
 *     MDT_PNP_INFO (4): str bus ; str format ; <align 4> int32 nentries ; entry bytes (opaque here)
 *   str    := u8 len ; len bytes (no NUL)
 * Alignment is relative to the file start (records start on 4-byte boundaries, so this is also kldxref's
 * "relative to the record buffer").
 */
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';

export const MDT_MODULE = 2;
export const MDT_VERSION = 3;
export const MDT_PNP_INFO = 4;

export type HintEntry =
  | {readonly type: 'module'; readonly modname: string; readonly kldfile: string}
  | {readonly type: 'version'; readonly modname: string; readonly version: number; readonly kldfile: string}
  | {readonly type: 'pnp'; readonly bus: string; readonly format: string; readonly entries: Uint8Array; readonly nentries: number};

/** Shorthands for the two record kinds the loader reads. */
export const hintModule = (modname: string, kldfile: string): HintEntry => ({type: 'module', modname, kldfile});
export const hintVersion = (modname: string, version: number, kldfile: string): HintEntry => ({type: 'version', modname, version, kldfile});

class Out {
  private buf = new Uint8Array(256);
  length = 0;

  private grow(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  int(v: number, at?: number): void {
    if (at === undefined) {
      this.grow(4);
      at = this.length;
      this.length += 4;
    }
    new DataView(this.buf.buffer).setInt32(at, v, true);
  }

  bytes(b: Uint8Array): void {
    this.grow(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  str(s: string): void {
    const b = Buffer.from(s, 'latin1');
    if (b.length > 255) throw new Error(`linker.hints string longer than 255 bytes: ${s}`);
    this.bytes(Uint8Array.of(b.length));
    this.bytes(b);
  }

  align4(): void {
    while (this.length % 4 !== 0) this.bytes(Uint8Array.of(0));
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** linker.hints bytes for `entries`, in the order given (kldxref writes each file's MDT_MODULE first). */
export function writeLinkerHints(entries: readonly HintEntry[], version = 1): Uint8Array {
  const out = new Out();
  out.int(version);
  for (const e of entries) {
    const lenAt = out.length;
    out.int(0);
    const body = out.length;
    if (e.type === 'module') {
      out.int(MDT_MODULE);
      out.str(e.modname);
      out.str(e.kldfile);
    } else if (e.type === 'version') {
      out.int(MDT_VERSION);
      out.str(e.modname);
      out.align4();
      out.int(e.version);
      out.str(e.kldfile);
    } else {
      out.int(MDT_PNP_INFO);
      out.str(e.bus);
      out.str(e.format);
      out.align4();
      out.int(e.nentries);
      out.bytes(e.entries);
    }
    out.align4();
    out.int(out.length - body, lenAt);
  }
  return out.result();
}

/** Writes DIR/linker.hints (creating DIR) and returns its path. */
export function writeHintsFile(dir: string, entries: readonly HintEntry[]): string {
  mkdirSync(dir, {recursive: true});
  const path = join(dir, 'linker.hints');
  writeFileSync(path, writeLinkerHints(entries));
  return path;
}

/** The counterpart: every record of a linker.hints file (PNP entries kept as opaque bytes). Throws on malformed input. */
export function readLinkerHintsForTest(bytes: Uint8Array): HintEntry[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 || dv.getInt32(0, true) !== 1) throw new Error('linker.hints: bad version word');
  const out: HintEntry[] = [];
  let at = 4;
  while (at < bytes.length) {
    const reclen = dv.getInt32(at, true);
    const end = at + 4 + reclen;
    if (reclen < 4 || reclen % 4 !== 0 || end > bytes.length) throw new Error(`linker.hints: bad record length ${reclen} at ${at}`);
    let cp = at + 4;
    const int = (): number => {
      cp = (cp + 3) & ~3;
      if (cp + 4 > end) throw new Error(`linker.hints: integer past its record at ${cp}`);
      cp += 4;
      return dv.getInt32(cp - 4, true);
    };
    const str = (): string => {
      const len = bytes[cp] ?? 0;
      if (cp + 1 + len > end) throw new Error(`linker.hints: string past its record at ${cp}`);
      cp += 1 + len;
      return Buffer.from(bytes.subarray(cp - len, cp)).toString('latin1');
    };
    const type = int();
    if (type === MDT_MODULE) {
      const modname = str();
      out.push({type: 'module', modname, kldfile: str()});
    } else if (type === MDT_VERSION) {
      const modname = str();
      const version = int();
      out.push({type: 'version', modname, version, kldfile: str()});
    } else if (type === MDT_PNP_INFO) {
      const bus = str();
      const format = str();
      const nentries = int();
      out.push({type: 'pnp', bus, format, nentries, entries: bytes.slice(cp, end)});
    } else {
      throw new Error(`linker.hints: unknown record type ${type} at ${at}`);
    }
    at = end;
  }
  return out;
}
