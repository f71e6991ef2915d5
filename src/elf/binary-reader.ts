/**
 * Bounds-checked reads over one file's bytes. Every read names the structure it belongs to, so a malformed file
 * fails with "FILE: program header 3: needs bytes [0x3a0, 0x3d8), file has 0x3b0 bytes" instead of a RangeError.
 * Offsets arrive as bigint (they come from the file) and are turned into numbers only after the check, so a
 * hostile 64-bit offset can never wrap or lose precision.
 */
import {KexecError, hex} from '../errors.js';

/** A malformed ELF file: exit code 3, message "FILE: STRUCTURE: problem". */
export function elfError(file: string, structure: string, problem: string, reason = 'elf-malformed'): KexecError {
  return new KexecError('badInput', `${file}: ${structure}: ${problem}`, {
    reason,
    hint: 'the file is truncated or not a valid ELF image; check that it is the file you meant',
  });
}

export class BinaryReader {
  readonly bytes: Uint8Array;
  readonly file: string;
  readonly littleEndian: boolean;
  readonly size: bigint;
  private readonly view: DataView;

  constructor(bytes: Uint8Array, file: string, littleEndian: boolean) {
    this.bytes = bytes;
    this.file = file;
    this.littleEndian = littleEndian;
    this.size = BigInt(bytes.length);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
    return this.view.getUint8(this.check(offset, 1n, structure));
  }

  u16(offset: bigint, structure: string): number {
    return this.view.getUint16(this.check(offset, 2n, structure), this.littleEndian);
  }

  u32(offset: bigint, structure: string): number {
    return this.view.getUint32(this.check(offset, 4n, structure), this.littleEndian);
  }

  i32(offset: bigint, structure: string): number {
    return this.view.getInt32(this.check(offset, 4n, structure), this.littleEndian);
  }

  u64(offset: bigint, structure: string): bigint {
    return this.view.getBigUint64(this.check(offset, 8n, structure), this.littleEndian);
  }

  i64(offset: bigint, structure: string): bigint {
    return this.view.getBigInt64(this.check(offset, 8n, structure), this.littleEndian);
  }

  /** A native word of the file's class: 4 bytes for ELF32, 8 for ELF64. */
  word(offset: bigint, is64: boolean, structure: string): bigint {
    return is64 ? this.u64(offset, structure) : BigInt(this.u32(offset, structure));
  }

  /** A zero-copy view of [offset, offset + length). */
  slice(offset: bigint, length: bigint, structure: string): Uint8Array {
    const start = this.check(offset, length, structure);
    return this.bytes.subarray(start, start + Number(length));
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
