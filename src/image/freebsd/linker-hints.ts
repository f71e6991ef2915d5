/**
 * linker.hints reader (written by usr.sbin/kldxref/kldxref.c, read by stand/common/module.c moduledir_readhints
 * and mod_search_hints):
 *   file   := int32 version (1); record*          (target byte order; at most LINKER_HINTS_MAX = 1 MiB)
 *   record := int32 reclen; body[reclen]          body := int32 type; payload
 *   MDT_MODULE (2):  str modname; str kldfile
 *   MDT_VERSION (3): str modname; <align 4>; int32 version; str kldfile
 *   str    := u8 len; len bytes (no NUL)            ints are 4-byte aligned relative to the file start
 * Only MODULE and VERSION records are kept; PNP_INFO records are skipped by length. kldxref's record_end pads
 * every record to a multiple of 4 (intalign), so a record length that is not is a malformed file. Names that
 * contain "/" or ".." are refused: the loader would join them to the directory and leave it (stricter than
 * module.c, on purpose: a hints file must not send root to a file outside the module path).
 */
import {MDT} from '../../elf/freebsd.js';
import {KexecError, hex} from '../../errors.js';
import type {RootFs} from '../../io/root-fs.js';

const LINKER_HINTS_VERSION = 1;
const LINKER_HINTS_MAX = 1 << 20;

export interface HintRecord {
  readonly type: typeof MDT.MODULE | typeof MDT.VERSION;
  readonly modname: string;
  /** MDT_VERSION only. */
  readonly version?: number;
  readonly kldfile: string;
}

/** A module or file name that stays inside its directory: no "/" and no "..". */
export function isPlainModuleName(name: string): boolean {
  return !name.includes('/') && !name.includes('..') && !name.includes('\0');
}

export function parseLinkerHints(bytes: Uint8Array, file: string): HintRecord[] {
  const fail = (at: number, what: string): KexecError =>
    new KexecError('badInput', `${file}: offset ${hex(at)}: ${what}`, {reason: 'linker-hints-malformed', hint: 'regenerate it with kldxref(8)'});
  if (bytes.length > LINKER_HINTS_MAX) throw fail(0, `file is ${bytes.length} bytes, more than LINKER_HINTS_MAX (${LINKER_HINTS_MAX})`);
  if (bytes.length < 4) throw fail(0, 'too short for the version word');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getInt32(0, true);
  if (version !== LINKER_HINTS_VERSION) throw fail(0, `version ${version}, expected ${LINKER_HINTS_VERSION}`);
  const out: HintRecord[] = [];
  let at = 4;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw fail(at, 'record length runs past the end of the file');
    const reclen = dv.getInt32(at, true);
    const body = at + 4;
    const end = body + reclen;
    if (reclen < 4 || end > bytes.length) throw fail(at, `record length ${reclen} runs past the end of the file (${bytes.length} bytes)`);
    if (reclen % 4 !== 0) throw fail(at, `record length ${reclen} is not a multiple of 4 (kldxref pads every record)`);
    let cp = body;
    const int = (): number => {
      cp = (cp + 3) & ~3;
      if (cp + 4 > end) throw fail(cp, 'integer runs past the end of its record');
      const v = dv.getInt32(cp, true);
      cp += 4;
      return v;
    };
    const str = (): string => {
      if (cp >= end) throw fail(cp, 'string runs past the end of its record');
      const len = bytes[cp] ?? 0;
      if (cp + 1 + len > end) throw fail(cp, `string of ${len} bytes runs past the end of its record`);
      const s = Buffer.from(bytes.subarray(cp + 1, cp + 1 + len)).toString('latin1');
      cp += 1 + len;
      return s;
    };
    const name = (what: string): string => {
      const start = cp;
      const s = str();
      if (!isPlainModuleName(s)) throw fail(start, `${what} ${JSON.stringify(s)} contains "/" or "..": kexec-ts refuses names that leave the module directory (stricter than the loader)`);
      return s;
    };
    const type = int();
    if (type === MDT.MODULE) {
      const modname = name('module name');
      out.push({type: MDT.MODULE, modname, kldfile: name('file name')});
    } else if (type === MDT.VERSION) {
      const modname = name('module name');
      const v = int();
      out.push({type: MDT.VERSION, modname, version: v, kldfile: name('file name')});
    }
    at = end;
  }
  return out;
}

/** Reads DIR/linker.hints of a root; undefined when the directory has none (the loader then falls back to file names). */
export async function readLinkerHints(fs: RootFs, dir: string): Promise<HintRecord[] | undefined> {
  const file = `${dir.replace(/\/+$/, '')}/linker.hints`;
  const bytes = await fs.readBytes(file, LINKER_HINTS_MAX);
  return bytes === undefined ? undefined : parseLinkerHints(bytes, fs.describe(file));
}
