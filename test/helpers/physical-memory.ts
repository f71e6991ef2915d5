/**
 * Physical memory as kexec_load(2) would leave it, rebuilt from `kexec-ts plan --json --export DIR`:
 * DIR/plan.json lists the segments (mem, memsz, bufsz as hex strings) and DIR/segment-NN.bin holds exactly
 * bufsz bytes of segment NN; each segment is its bytes at mem, then zeros up to mem + memsz (kern_kexec.c
 * zero-fills memsz - bufsz). Reading anything outside the loaded segments throws: the kernel would find
 * whatever RAM held there, so a test that reads it has found a bug.
 */
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {materializeBytes, type Bytes} from '../../src/io/file-bytes.js';

export interface ExportedSegment {
  index: number;
  mem: string;
  memsz: string;
  bufsz: string;
}

export interface LoadedSegment {
  index: number;
  start: bigint;
  end: bigint;
  bytes: Uint8Array;
}

export function segmentFile(dir: string, index: number): string {
  return join(dir, `segment-${String(index).padStart(2, '0')}.bin`);
}

const hexString = (v: bigint): string => `0x${v.toString(16)}`;

export class PhysicalMemory {
  readonly segments: readonly LoadedSegment[];

  constructor(segments: readonly LoadedSegment[]) {
    const sorted = [...segments].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    sorted.forEach((s, i) => {
      if (BigInt(s.bytes.length) > s.end - s.start) throw new Error(`segment ${s.index}: ${s.bytes.length} bytes exceed memsz ${hexString(s.end - s.start)}`);
      const next = sorted[i + 1];
      if (next !== undefined && next.start < s.end) throw new Error(`segments ${s.index} and ${next.index} overlap`);
    });
    this.segments = sorted;
  }

  /** The memory an in-process plan (segments with their byte views) would leave: bytes at mem, zeros to memsz. */
  static ofSegments(segments: readonly {mem: bigint; memsz: bigint; bufsz: bigint; parts: readonly {offset: bigint; data: Bytes}[]}[]): PhysicalMemory {
    return new PhysicalMemory(segments.map((s, index) => {
      const bytes = new Uint8Array(Number(s.bufsz));
      for (const p of s.parts) bytes.set(materializeBytes(p.data), Number(p.offset));
      return {index, start: s.mem, end: s.mem + s.memsz, bytes};
    }));
  }

  /** Reads DIR/plan.json and its segment files; each file must have exactly bufsz bytes. */
  static fromExport(dir: string): {plan: {segments: ExportedSegment[]} & Record<string, unknown>; memory: PhysicalMemory} {
    const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as {segments: ExportedSegment[]} & Record<string, unknown>;
    const segs = plan.segments.map((s) => {
      const bytes = new Uint8Array(readFileSync(segmentFile(dir, s.index)));
      if (BigInt(bytes.length) !== BigInt(s.bufsz)) throw new Error(`segment-${s.index}: ${bytes.length} bytes, plan says bufsz ${s.bufsz}`);
      return {index: s.index, start: BigInt(s.mem), end: BigInt(s.mem) + BigInt(s.memsz), bytes};
    });
    return {plan, memory: new PhysicalMemory(segs)};
  }

  private segmentAt(pa: bigint): LoadedSegment | undefined {
    return this.segments.find((s) => pa >= s.start && pa < s.end);
  }

  /** True when every byte of [pa, pa + len) is in some segment. */
  contains(pa: bigint, len: bigint | number): boolean {
    let at = pa;
    const end = pa + BigInt(len);
    while (at < end) {
      const s = this.segmentAt(at);
      if (s === undefined) return false;
      at = s.end;
    }
    return true;
  }

  /** `len` bytes from physical address `pa` (a copy); throws if any of them is outside loaded memory. */
  read(pa: bigint, len: bigint | number): Uint8Array {
    const n = Number(len);
    if (pa < 0n || n < 0) throw new RangeError(`read(${hexString(pa)}, ${n}): bad arguments`);
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const a = pa + BigInt(done);
      const s = this.segmentAt(a);
      if (s === undefined) throw new RangeError(`physical address ${hexString(a)} (reading ${n} bytes at ${hexString(pa)}) is outside loaded memory`);
      const take = Math.min(n - done, Number(s.end - a));
      const off = Number(a - s.start);
      const avail = Math.max(0, Math.min(take, s.bytes.length - off));
      if (avail > 0) out.set(s.bytes.subarray(off, off + avail), done);
      done += take; // the rest of `take` stays zero: past bufsz
    }
    return out;
  }

  u32(pa: bigint): number {
    const b = this.read(pa, 4);
    return new DataView(b.buffer).getUint32(0, true);
  }

  u64(pa: bigint): bigint {
    const b = this.read(pa, 8);
    return new DataView(b.buffer).getBigUint64(0, true);
  }

  /** A NUL-terminated string at `pa`, at most `max` bytes; throws when no NUL is found. */
  cstring(pa: bigint, max = 4096): string {
    const bytes: number[] = [];
    for (let i = 0; i < max; i++) {
      const c = this.read(pa + BigInt(i), 1)[0] ?? 0;
      if (c === 0) return Buffer.from(bytes).toString('latin1');
      bytes.push(c);
    }
    throw new Error(`no NUL within ${max} bytes at ${hexString(pa)}`);
  }

  /** Highest loaded address + 1. */
  get end(): bigint {
    return this.segments.reduce((m, s) => (s.end > m ? s.end : m), 0n);
  }
}
