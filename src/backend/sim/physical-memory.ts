/**
 * The simulated machine's physical memory at the moment the new kernel starts: sparse, because a machine has
 * gigabytes of RAM and an image a few megabytes. Only written pages are stored (4 KiB each, keyed by page
 * number); unwritten RAM reads as zeros, and any access outside the machine's RAM ranges throws, since on real
 * hardware such an address is a hole, device memory or the running kernel. It also remembers which regions the
 * segments were loaded into, so exec can check the entry and decoders can describe what is where.
 */
import {KexecError, hex} from '../../errors.js';
import {ramRanges, type MemoryMap} from '../../memory/memory-map.js';
import {Range, compareBigint} from '../../memory/range.js';

const PAGE = 4096n;
const PAGE_N = 4096;
const ZERO_PAGE = Buffer.alloc(PAGE_N);

function isZeroPage(b: Uint8Array): boolean {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(ZERO_PAGE);
}

export interface LoadedRegion {
  readonly start: bigint;
  /** Exclusive. */
  readonly end: bigint;
  readonly label: string;
}

export class PhysicalMemory {
  /** Keyed by page number (address >> 12: below 2^52, so a safe integer). */
  private readonly pages = new Map<number, Uint8Array>();
  private readonly ram: readonly Range[];
  private readonly regions: LoadedRegion[] = [];

  constructor(readonly map: MemoryMap) {
    this.ram = ramRanges(map);
  }

  /** Number of 4 KiB pages actually stored (the sparse footprint; everything else reads as zeros). */
  get residentPages(): number {
    return this.pages.size;
  }

  /** True when every byte of [addr, addr+len) is RAM (touching RAM ranges count as contiguous). */
  isRam(addr: bigint, len: bigint): boolean {
    if (addr < 0n || len < 0n) return false;
    let at = addr;
    const end = addr + len;
    for (const r of this.ram) {
      if (at >= end) break;
      if (r.end <= at) continue;
      if (r.start > at) return false;
      at = r.end;
    }
    return at >= end;
  }

  private check(op: string, addr: bigint, len: bigint): void {
    if (!this.isRam(addr, len)) {
      throw new KexecError('backend', `sim: physical memory ${op} at [${hex(addr)}, ${hex(addr + len)}) is outside RAM (${this.map.source})`, {
        reason: 'not-ram',
        details: {addr: hex(addr), len: hex(len)},
      });
    }
  }

  /**
   * Calls `fn` for each page piece of [addr, addr+len): page number, offset in page, offset in the request, length.
   * Numbers inside the loop (one bigint split up front): exec walks every page of a GiB-sized image twice.
   */
  private walk(addr: bigint, len: bigint, fn: (page: number, inPage: number, at: number, n: number) => void): void {
    let page = Number(addr / PAGE);
    let inPage = Number(addr % PAGE);
    const total = Number(len);
    for (let at = 0; at < total; page++, inPage = 0) {
      const n = Math.min(PAGE_N - inPage, total - at);
      fn(page, inPage, at, n);
      at += n;
    }
  }

  /**
   * Copies `data` to physical address `addr`. A whole page of zeros is not stored (it drops what the page held):
   * unwritten RAM reads as zeros, so a sparse multi-GiB image costs only its non-zero pages.
   */
  write(addr: bigint, data: Uint8Array): void {
    const len = BigInt(data.length);
    this.check('write', addr, len);
    this.walk(addr, len, (page, inPage, at, n) => {
      if (n === PAGE_N && isZeroPage(data.subarray(at, at + n))) {
        this.pages.delete(page);
        return;
      }
      let p = this.pages.get(page);
      if (p === undefined) {
        p = new Uint8Array(PAGE_N);
        this.pages.set(page, p);
      }
      p.set(data.subarray(at, at + n), inPage);
    });
  }

  /** Zero-fills [addr, addr+len) (whole pages are simply dropped: unwritten RAM is zero). */
  zero(addr: bigint, len: bigint): void {
    this.check('zero fill', addr, len);
    this.walk(addr, len, (page, inPage, _at, n) => {
      const p = this.pages.get(page);
      if (p === undefined) return;
      if (n === PAGE_N) this.pages.delete(page);
      else p.fill(0, inPage, inPage + n);
    });
  }

  /** The bytes at [addr, addr+len): zeros where nothing was written; throws outside RAM. */
  read(addr: bigint, len: number): Uint8Array {
    if (!Number.isSafeInteger(len) || len < 0) throw new RangeError(`invalid read length ${len}`);
    const out = new Uint8Array(len);
    this.check('read', addr, BigInt(len));
    this.walk(addr, BigInt(len), (page, inPage, at, n) => {
      const p = this.pages.get(page);
      if (p !== undefined) out.set(p.subarray(inPage, inPage + n), at);
    });
    return out;
  }

  /** Calls `sink` with the bytes of [addr, addr+len) in order, page by page, without copying (zeros where unwritten). */
  forEachChunk(addr: bigint, len: bigint, sink: (chunk: Uint8Array) => void): void {
    this.check('read', addr, len);
    this.walk(addr, len, (page, inPage, _at, n) => sink((this.pages.get(page) ?? ZERO_PAGE).subarray(inPage, inPage + n)));
  }

  /** Little-endian unsigned integer of `size` bytes (1, 2, 4 or 8) at `addr`. */
  readUint(addr: bigint, size: 1 | 2 | 4 | 8): bigint {
    const b = this.read(addr, size);
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i] ?? 0);
    return v;
  }

  /** The bytes of the NUL-terminated string at `addr` (without the NUL; at most `max` bytes are looked at). */
  readCBytes(addr: bigint, max = 4096): Uint8Array {
    const out: number[] = [];
    for (let i = 0; i < max; i++) {
      const c = this.read(addr + BigInt(i), 1)[0] ?? 0;
      if (c === 0) break;
      out.push(c);
    }
    return Uint8Array.from(out);
  }

  /** Records that a segment was loaded into [start, end). */
  addRegion(region: LoadedRegion): void {
    this.check('load', region.start, region.end - region.start);
    this.regions.push(region);
    this.regions.sort((a, b) => compareBigint(a.start, b.start));
  }

  loadedRegions(): readonly LoadedRegion[] {
    return this.regions;
  }

  /** The loaded region holding `addr`, or undefined. */
  regionContaining(addr: bigint): LoadedRegion | undefined {
    return this.regions.find((r) => addr >= r.start && addr < r.end);
  }
}
