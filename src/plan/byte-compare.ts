/**
 * Where two byte runs first and last differ, where a shorter run counts as followed by zeros (a piece's zero fill).
 * Chunks are compared with Buffer.compare (memcmp), and only a chunk known to differ is scanned byte by byte, so the
 * cost is linear in the bytes and fast in practice: 64 MiB compare in a few milliseconds.
 */

const CHUNK = 1 << 16;
const ZEROS = Buffer.alloc(CHUNK);

function buf(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** Byte `i` of `u`, zero past its end. */
const at = (u: Uint8Array, i: number): number => (i < u.length ? (u[i] as number) : 0);

/** `u[from, to)` padded with zeros past its end, as a Buffer of to - from bytes (a view when no padding is needed). */
function window(u: Buffer, from: number, to: number): Buffer {
  if (to <= u.length) return u.subarray(from, to);
  if (from >= u.length) return ZEROS.subarray(0, to - from);
  return Buffer.concat([u.subarray(from), ZEROS.subarray(0, to - u.length)]);
}

/** Index of the first byte where a and b differ (each zero-extended to the longer length), or -1. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const A = buf(a);
  const B = buf(b);
  const n = Math.max(A.length, B.length);
  for (let from = 0; from < n; from += CHUNK) {
    const to = Math.min(n, from + CHUNK);
    if (window(A, from, to).equals(window(B, from, to))) continue;
    for (let i = from; i < to; i++) if (at(A, i) !== at(B, i)) return i;
  }
  return -1;
}

/** Index of the last byte where a and b differ (zero-extended), or -1. */
export function lastDifference(a: Uint8Array, b: Uint8Array): number {
  const A = buf(a);
  const B = buf(b);
  const n = Math.max(A.length, B.length);
  for (let to = n; to > 0; to -= CHUNK) {
    const from = Math.max(0, to - CHUNK);
    if (window(A, from, to).equals(window(B, from, to))) continue;
    for (let i = to - 1; i >= from; i--) if (at(A, i) !== at(B, i)) return i;
  }
  return -1;
}
