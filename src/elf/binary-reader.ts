/**
 * Bounds-checked reads over one file's bytes. Every read names the structure it belongs to, so a malformed file
 * fails with "FILE: program header 3: needs bytes [0x3a0, 0x3d8), file has 0x3b0 bytes" instead of a RangeError.
 * Offsets arrive as bigint (they come from the file) and are turned into numbers only after the check, so a
 * hostile 64-bit offset can never wrap or lose precision. The bytes are either all in memory or fetched from the
 * file on demand (`BinaryReader.paged`, for inputs too large to read whole): 64 KiB pages, each read once.
 */
import {KexecError, hex} from '../errors.js';

/** A malformed ELF file: exit code 3, message "FILE: STRUCTURE: problem". */
export function elfError(file: string, structure: string, problem: string, reason = 'elf-malformed'): KexecError {
  return new KexecError('badInput', `${file}: ${structure}: ${problem}`, {
    reason,
    hint: 'the file is truncated or not a valid ELF image; check that it is the file you meant',
  });
}

/** Reads `length` bytes at `offset` of a file (both already checked against its size). */
export type FetchBytes = (offset: number, length: number) => Uint8Array;

const PAGE = 1 << 16;

export class BinaryReader {
  readonly file: string;
  readonly littleEndian: boolean;
  readonly size: bigint;
  /** The whole file when it is in memory, else undefined. */
  private readonly whole: Uint8Array | undefined;
  private readonly view: DataView | undefined;
  private readonly fetch: FetchBytes | undefined;
  private readonly pages = new Map<number, DataView>();

  /** Over the whole file in memory, or over a file of `size` bytes read only where asked, through `fetch`. */
  constructor(source: Uint8Array | {readonly size: bigint; readonly fetch: FetchBytes}, file: string, littleEndian: boolean) {
    this.file = file;
    this.littleEndian = littleEndian;
    if (source instanceof Uint8Array) {
      this.whole = source;
      this.size = BigInt(source.length);
      this.view = new DataView(source.buffer, source.byteOffset, source.byteLength);
      this.fetch = undefined;
    } else {
      this.whole = undefined;
      this.view = undefined;
      this.size = source.size;
      this.fetch = source.fetch;
    }
  }

  /** A DataView and the position in it of file offset `at` for `n` bytes (n <= 8), from memory or the page cache. */
  private at(at: number, n: number): [DataView, number] {
    if (this.view !== undefined) return [this.view, at];
    const page = Math.floor(at / PAGE);
    if ((at % PAGE) + n > PAGE) {
      const b = (this.fetch as FetchBytes)(at, n);
      return [new DataView(b.buffer, b.byteOffset, b.byteLength), 0];
    }
    let v = this.pages.get(page);
    if (v === undefined) {
      const start = page * PAGE;
      const b = (this.fetch as FetchBytes)(start, Math.min(PAGE, Number(this.size) - start));
      v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      this.pages.set(page, v);
    }
    return [v, at - page * PAGE];
  }

  /** Throws unless [offset, offset + length) lies inside the file; returns offset as a number. */
  check(offset: bigint, length: bigint, structure: string): number {
    if (offset < 0n || length < 0n || offset + length > this.size) {
      throw elfError(
        this.file,
        structure,
        `needs bytes [${hex(offset)}, ${hex(offset + length)}), file has ${hex(this.size)} bytes`,
        'elf-truncated',
      );
    }
    return Number(offset);
  }

  u8(offset: bigint, structure: string): number {
    const [v, i] = this.at(this.check(offset, 1n, structure), 1);
    return v.getUint8(i);
  }

  u16(offset: bigint, structure: string): number {
    const [v, i] = this.at(this.check(offset, 2n, structure), 2);
    return v.getUint16(i, this.littleEndian);
  }

  u32(offset: bigint, structure: string): number {
    const [v, i] = this.at(this.check(offset, 4n, structure), 4);
    return v.getUint32(i, this.littleEndian);
  }

  i32(offset: bigint, structure: string): number {
    const [v, i] = this.at(this.check(offset, 4n, structure), 4);
    return v.getInt32(i, this.littleEndian);
  }

  u64(offset: bigint, structure: string): bigint {
    const [v, i] = this.at(this.check(offset, 8n, structure), 8);
    return v.getBigUint64(i, this.littleEndian);
  }

  i64(offset: bigint, structure: string): bigint {
    const [v, i] = this.at(this.check(offset, 8n, structure), 8);
    return v.getBigInt64(i, this.littleEndian);
  }

  /** A native word of the file's class: 4 bytes for ELF32, 8 for ELF64. */
  word(offset: bigint, is64: boolean, structure: string): bigint {
    return is64 ? this.u64(offset, structure) : BigInt(this.u32(offset, structure));
  }

  /** [offset, offset + length): a zero-copy view when the file is in memory, else read from the file. */
  slice(offset: bigint, length: bigint, structure: string): Uint8Array {
    const start = this.check(offset, length, structure);
    if (this.whole !== undefined) return this.whole.subarray(start, start + Number(length));
    return (this.fetch as FetchBytes)(start, Number(length));
  }
}

/**
 * A NUL-terminated string at `offset` in a string table. A string that runs off the end of its table is an
 * error (a hostile table without terminators must not make us read the rest of the file).
 */
export function readCString(table: Uint8Array, offset: bigint, file: string, structure: string): string {
  if (offset < 0n || offset >= BigInt(table.length)) {
    if (offset === 0n && table.length === 0) return '';
    throw elfError(file, structure, `string offset ${hex(offset)} is outside its table of ${hex(table.length)} bytes`);
  }
  const start = Number(offset);
  const end = table.indexOf(0, start);
  if (end < 0) {
    throw elfError(file, structure, `string at ${hex(offset)} has no NUL terminator before the end of its table`);
  }
  return latin1(table.subarray(start, end));
}

const decoder = new TextDecoder('latin1');

/** Section and symbol names are bytes; latin1 keeps every byte visible and never throws. */
export function latin1(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
