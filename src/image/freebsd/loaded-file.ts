/**
 * One file as FreeBSD's loader holds it (stand/common/bootstrap.h struct preloaded_file): its name and type,
 * the loader address and size it occupies, the bytes to put there, the metadata records it carries, and the
 * module names/versions it provides and depends on. "Loader address" is what the metadata records: on amd64
 * KERNBASE-relative (0x200000 for the kernel's first page), on arm64 the kernel virtual address.
 */
import type {MetadataRecord} from './metadata-encoder.js';
import type {ModuleDepend} from '../../elf/freebsd.js';

export interface LoaderPiece {
  readonly label: string;
  /** Loader address of the first byte. */
  readonly at: bigint;
  readonly data: Uint8Array;
  /** data, then zeros, up to memsz. */
  readonly memsz: bigint;
}

export interface LoadedFile {
  /** MODINFO_NAME: the path as the loader built or the user typed it. */
  readonly name: string;
  /** MODINFO_TYPE: "elf kernel", "elf obj module", "elf module". */
  readonly type: string;
  readonly args?: string;
  readonly addr: bigint;
  readonly size: bigint;
  readonly pieces: readonly LoaderPiece[];
  /** Emitted order. */
  readonly metadata: readonly MetadataRecord[];
  readonly provides: readonly {name: string; version: number}[];
  readonly depends: readonly ModuleDepend[];
}

export function roundup(v: bigint, a: bigint): bigint {
  if (a <= 1n) return v;
  const r = v % a;
  return r === 0n ? v : v + a - r;
}

/** Basename up to the last '.', the name load_elf.c registers when a file declares no MDT_VERSION. */
export function fakeModuleName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}
