/**
 * The Plan: plain data that every backend executes and none re-plans. Segments are sorted by `mem`; each holds
 * byte views at offsets (gaps and the tail up to memsz are zero). `bufsz` is where the last byte of data ends
 * (the kernel zero-fills the rest), `memsz` is page-aligned. Digests are SHA-256 over buf plus zero fill to memsz.
 */
import type {MemoryMap} from './memory-map.js';

export interface SegmentPart {
  /** Offset of `data` from the segment's `mem`. */
  readonly offset: bigint;
  readonly data: Uint8Array;
}

export interface SegmentContent {
  readonly label: string;
  readonly mem: bigint;
  readonly filesz: bigint;
  readonly memsz: bigint;
}

export interface Segment {
  readonly mem: bigint;
  readonly memsz: bigint;
  readonly bufsz: bigint;
  readonly parts: readonly SegmentPart[];
  readonly contents: readonly SegmentContent[];
  /** Hex SHA-256 of buf[0, bufsz) followed by memsz - bufsz zero bytes. */
  readonly sha256: string;
}

export interface Plan {
  readonly arch: string;
  readonly machine: number;
  readonly kind: 'elf' | 'freebsd';
  readonly pageSize: bigint;
  readonly entry: bigint;
  /** kexec_load's flags argument; FreeBSD's man page says it must be 0. */
  readonly flags: bigint;
  readonly segments: readonly Segment[];
  readonly memoryMap: MemoryMap;
  readonly files: readonly string[];
  /** What the planner merged to stay within the segment budget, in words. */
  readonly merges: readonly string[];
  /** Other facts about how the plan was built (from the image builder and the planner). */
  readonly notes: readonly string[];
  readonly handoff?: Record<string, unknown>;
  /** Hex SHA-256 over the plan's canonical description (arch, entry, flags, every segment's mem/memsz/bufsz/sha256). */
  readonly digest: string;
}

export const KEXEC_SEGMENT_MAX = 16;
