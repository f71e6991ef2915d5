/**
 * The ELF file header (gABI "ELF Header"), with extended numbering resolved: when e_phnum is PN_XNUM, e_shnum is
 * 0 or e_shstrndx is SHN_XINDEX, the real values live in section header 0 (sh_info, sh_size, sh_link).
 */
import {BinaryReader, elfError, type FetchBytes} from './binary-reader.js';
import {PN_XNUM, SHN} from './constants.js';
import {KexecError, hex} from '../errors.js';

export interface ElfHeader {
  readonly class: 32 | 64;
  readonly littleEndian: boolean;
  readonly identVersion: number;
  readonly osabi: number;
  readonly abiVersion: number;
  readonly type: number;
  readonly machine: number;
  readonly version: number;
  readonly entry: bigint;
  readonly phoff: bigint;
  readonly shoff: bigint;
  readonly flags: number;
  readonly ehsize: number;
  readonly phentsize: number;
  /** Resolved count (extended numbering applied). */
  readonly phnum: number;
  readonly shentsize: number;
  readonly shnum: number;
  readonly shstrndx: number;
}

const MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** Checks e_ident; returns class and byte order, or throws a "not an ELF file" error (reason `not-elf`). */
function readIdent(bytes: Uint8Array, file: string): {is64: boolean; littleEndian: boolean} {
  const prefix = Math.min(bytes.length, 4);
  if (prefix > 0 && bytes.length < 16 && MAGIC.slice(0, prefix).every((b, i) => bytes[i] === b)) {
    throw elfError(file, 'e_ident', `needs bytes [0x0, 0x10), file has ${hex(bytes.length)} bytes`, 'elf-truncated');
  }
  if (bytes.length < 16 || MAGIC.some((b, i) => bytes[i] !== b)) {
    const got = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new KexecError('badInput', `${file}: not an ELF file (magic is "${got}", expected "7f 45 4c 46")`, {
      reason: 'not-elf',
      hint: 'give a kernel, module or firmware ELF file (compressed kernels must be decompressed first)',
    });
  }
  const cls = bytes[4];
  if (cls !== 1 && cls !== 2) throw elfError(file, 'e_ident[EI_CLASS]', `invalid class ${cls} (expected 1 or 2)`);
  const data = bytes[5];
  if (data !== 1 && data !== 2) throw elfError(file, 'e_ident[EI_DATA]', `invalid byte order ${data} (expected 1 or 2)`);
  return {is64: cls === 2, littleEndian: data === 1};
}

export function readHeader(source: Uint8Array | {readonly size: bigint; readonly fetch: FetchBytes}, file: string): {header: ElfHeader; reader: BinaryReader} {
  const ident = source instanceof Uint8Array ? source : source.fetch(0, Number(source.size < 16n ? source.size : 16n));
  const {is64, littleEndian} = readIdent(ident, file);
  const r = new BinaryReader(source, file, littleEndian);
  const s = 'ELF header';
  const ehsizeNeeded = is64 ? 64 : 52;
  r.check(0n, BigInt(ehsizeNeeded), s);
  const w = is64 ? 8n : 4n;
  const entry = r.word(24n, is64, s);
  const phoff = r.word(24n + w, is64, s);
  const shoff = r.word(24n + 2n * w, is64, s);
  const at = 24n + 3n * w;
  const flags = r.u32(at, s);
  const ehsize = r.u16(at + 4n, s);
  const phentsize = r.u16(at + 6n, s);
  const rawPhnum = r.u16(at + 8n, s);
  const shentsize = r.u16(at + 10n, s);
  const rawShnum = r.u16(at + 12n, s);
  const rawShstrndx = r.u16(at + 14n, s);

  if (ehsize < ehsizeNeeded) throw elfError(file, 'e_ehsize', `${ehsize} is smaller than the ELF${is64 ? 64 : 32} header (${ehsizeNeeded})`);

  let phnum = rawPhnum;
  let shnum = rawShnum;
  let shstrndx = rawShstrndx;
  const needsSection0 = rawPhnum === PN_XNUM || (rawShnum === 0 && shoff !== 0n) || rawShstrndx === SHN.XINDEX;
  if (needsSection0) {
    if (shoff === 0n) throw elfError(file, 'e_shoff', 'extended numbering is used but there are no section headers');
    const sh0 = 'section header 0 (extended numbering)';
    r.check(shoff, is64 ? 64n : 40n, sh0);
    const size = is64 ? r.u64(shoff + 32n, sh0) : BigInt(r.u32(shoff + 20n, sh0));
    const link = r.u32(shoff + (is64 ? 40n : 24n), sh0);
    const info = r.u32(shoff + (is64 ? 44n : 28n), sh0);
    if (rawPhnum === PN_XNUM) phnum = info;
    if (rawShnum === 0) {
      if (size > 0xffffffffn) throw elfError(file, sh0, `sh_size ${hex(size)} is not a plausible section count`);
      shnum = Number(size);
    }
    if (rawShstrndx === SHN.XINDEX) shstrndx = link;
  }

  const wantPh = is64 ? 56 : 32;
  if (phnum > 0 && phentsize !== wantPh) {
    throw elfError(file, 'e_phentsize', `${phentsize} does not match ELF${is64 ? 64 : 32} (expected ${wantPh})`);
  }
  const wantSh = is64 ? 64 : 40;
  if (shnum > 0 && shentsize !== wantSh) {
    throw elfError(file, 'e_shentsize', `${shentsize} does not match ELF${is64 ? 64 : 32} (expected ${wantSh})`);
  }

  const header: ElfHeader = {
    class: is64 ? 64 : 32,
    littleEndian,
    identVersion: ident[6] ?? 0,
    osabi: ident[7] ?? 0,
    abiVersion: ident[8] ?? 0,
    type: r.u16(16n, s),
    machine: r.u16(18n, s),
    version: r.u32(20n, s),
    entry,
    phoff,
    shoff,
    flags,
    ehsize,
    phentsize,
    phnum,
    shentsize,
    shnum,
    shstrndx,
  };
  return {header, reader: r};
}
