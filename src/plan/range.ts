/**
 * Physical address ranges. A Range is `[start, end)`: `end` is exclusive, `last` (end - 1) is inclusive.
 * All values are bigint; 64-bit overflow is checked where ranges are built, not assumed away.
 */
import {hex} from '../errors.js';

export const U64_MAX = (1n << 64n) - 1n;
export const U64_LIMIT = 1n << 64n;

export class Range {
  readonly start: bigint;
  readonly end: bigint;

  constructor(start: bigint, end: bigint) {
    if (start < 0n || end > U64_LIMIT || end < start) {
      throw new RangeError(`invalid range [${hex(start)}, ${hex(end)})`);
    }
    this.start = start;
    this.end = end;
  }

  static ofSize(start: bigint, size: bigint): Range {
    return new Range(start, start + size);
  }

  get size(): bigint {
    return this.end - this.start;
  }

  /** Inclusive last address; only meaningful for a non-empty range. */
  get last(): bigint {
    return this.end - 1n;
  }

  contains(addr: bigint): boolean {
    return addr >= this.start && addr < this.end;
  }

  containsRange(other: Range): boolean {
    return other.start >= this.start && other.end <= this.end;
  }

  overlaps(other: Range): boolean {
    return this.start < other.end && other.start < this.end;
  }

  toString(): string {
    return `[${hex(this.start)}, ${hex(this.end)})`;
  }
}

export function alignDown(value: bigint, align: bigint): bigint {
  return value - (value % align);
}

export function alignUp(value: bigint, align: bigint): bigint {
  const r = value % align;
  return r === 0n ? value : value + (align - r);
}

export function isPowerOfTwo(v: bigint): boolean {
  return v > 0n && (v & (v - 1n)) === 0n;
}
