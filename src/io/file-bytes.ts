/**
 * Bytes that stay in their file until someone needs them: a range of an InputFile. Pieces, segment parts and
 * preloaded files hold either a Uint8Array (small generated or parsed data) or a FileBytes (kernel PT_LOADs, raw
 * files), and everything that walks them (hashing, staging, exporting, comparing) reads a FileBytes in chunks of
 * at most CHUNK bytes, so memory stays bounded whatever the input size. Both kinds have `length` and
 * `subarray(start, end)`, so code that only measures or cuts them need not know which it has.
 */
import type {InputFile} from './input-file.js';

/** Chunk size for every streamed read: large enough for full-speed reads and hashing, small against RAM. */
export const CHUNK = 1 << 20;

export class FileBytes {
  constructor(readonly file: InputFile, readonly offset: number, readonly length: number) {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > file.size) {
      throw new RangeError(`${file.path}: bytes [${offset}, ${offset + length}) are outside the file (${file.size} bytes)`);
    }
  }

  /** The range [start, end) of these bytes (like Uint8Array#subarray: clamped, negative counts from the end). */
  subarray(start = 0, end = this.length): FileBytes {
    const clamp = (i: number): number => Math.min(this.length, Math.max(0, i < 0 ? this.length + i : i));
    const a = clamp(start);
    const b = Math.max(a, clamp(end));
    return new FileBytes(this.file, this.offset + a, b - a);
  }

  /** Calls `sink` with the bytes in order, in chunks of at most `chunk` bytes (one reused buffer: copy to keep). */
  forEachChunk(sink: (chunk: Uint8Array) => void, chunk = CHUNK): void {
    if (this.length === 0) return;
    const buf = new Uint8Array(Math.min(chunk, this.length));
    this.file.withFd((fd) => {
      for (let at = 0; at < this.length; at += buf.length) {
        const view = buf.subarray(0, Math.min(buf.length, this.length - at));
        this.file.readInto(fd, view, this.offset + at);
        sink(view);
      }
    });
  }

  /** All of it in one new buffer: only for callers that must have it contiguous (and know it is small). */
  read(): Uint8Array {
    return this.file.read(this.offset, this.length);
  }
}

export type Bytes = Uint8Array | FileBytes;

/** Calls `sink` with `b` in chunks (a Uint8Array is passed as it is). */
export function forEachBytesChunk(b: Bytes, sink: (chunk: Uint8Array) => void): void {
  if (b instanceof FileBytes) b.forEachChunk(sink);
  else if (b.length > 0) sink(b);
}

/** `b` as one buffer (read from its file when it is a FileBytes). */
export function materializeBytes(b: Bytes): Uint8Array {
  return b instanceof FileBytes ? b.read() : b;
}
