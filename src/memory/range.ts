/**
 * Physical address ranges and the 64-bit helpers every layer uses (one of each: alignUp, alignDown, isPowerOfTwo,
 * the U64 mask, the bigint comparator). A Range is `[start, end)`: `end` is exclusive, `last` (end - 1) is
 * inclusive. All values are bigint; 64-bit overflow is checked where ranges are built, not assumed away.
 */
import {hex} from '../errors.js';

/** 2^64 - 1: the largest 64-bit value, and the mask that wraps an address modulo 2^64. */
export const U64_MAX = (1n << 64n) - 1n;
/** 2^64: one past the last address (a range may end here). */
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

/** Sort comparator for bigints (Array#sort needs a number). */
export function compareBigint(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `value` rounded down to a multiple of `align` (any positive align, not only powers of two). */
export function alignDown(value: bigint, align: bigint): bigint {
  return align <= 1n ? value : value - (value % align);
}

/** `value` rounded up to a multiple of `align` (the loader's roundup(); align 0 or 1 leaves it as is). */
export function alignUp(value: bigint, align: bigint): bigint {
  if (align <= 1n) return value;
  const r = value % align;
  return r === 0n ? value : value + (align - r);
}

export function isPowerOfTwo(v: bigint): boolean {
  return v > 0n && (v & (v - 1n)) === 0n;
}

/** The bigger / smaller of two bigints. */
export function maxBigint(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

export function minBigint(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
