/**
 * The Plan: plain data that every backend executes and none re-plans. Segments are sorted by `mem`; each holds
 * byte views at offsets (gaps and the tail up to memsz are zero). `bufsz` is where the last byte of data ends
 * (the kernel zero-fills the rest), `memsz` is page-aligned. Digests are SHA-256 over buf plus zero fill to memsz.
 *
 * A plan read back from its JSON (a staged plan.json) has no bytes in memory: its segments are
 * SegmentDescriptions and their bytes are wherever the backend staged them. Everything else is the same type.
 */
import type {MemoryMap} from '../memory/memory-map.js';
import type {Handoff, ImageKind} from '../image/types.js';
import type {Bytes} from '../io/file-bytes.js';

export interface SegmentPart {
  /** Offset of `data` from the segment's `mem`. */
  readonly offset: bigint;
  /** In memory, or still in its file (read in chunks when hashed, staged or exported). */
  readonly data: Bytes;
}

export interface SegmentContent {
  readonly label: string;
  readonly mem: bigint;
  readonly filesz: bigint;
  readonly memsz: bigint;
}

export interface SegmentDescription {
  readonly mem: bigint;
  readonly memsz: bigint;
  readonly bufsz: bigint;
  readonly contents: readonly SegmentContent[];
  /** Hex SHA-256 of buf[0, bufsz) followed by memsz - bufsz zero bytes. */
  readonly sha256: string;
}

export interface Segment extends SegmentDescription {
  readonly parts: readonly SegmentPart[];
}

export interface Plan<S extends SegmentDescription = Segment> {
  readonly kind: ImageKind;
  readonly arch: string;
  /** ELF e_machine of the image. */
  readonly machine: number;
  readonly pageSize: bigint;
  readonly entry: bigint;
  /** kexec_load's flags argument; FreeBSD's man page says it must be 0. */
  readonly flags: bigint;
  readonly segments: readonly S[];
  readonly memoryMap: MemoryMap;
  readonly files: readonly string[];
  /** What the planner merged to stay within the segment budget, in words. */
  readonly merges: readonly string[];
  /** Other facts about how the plan was built (from the image builder and the planner). */
  readonly notes: readonly string[];
  readonly handoff: Handoff;
  /** Hex SHA-256 over everything a backend acts on (see src/plan/digest.ts). */
  readonly digest: string;
}

/** A plan without its bytes: what a staged plan.json decodes to. */
export type PlanDescription = Plan<SegmentDescription>;

export const KEXEC_SEGMENT_MAX = 16;
