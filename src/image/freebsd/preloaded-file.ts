/**
 * One file as FreeBSD's loader holds it (stand/common/bootstrap.h struct preloaded_file): its name and type,
 * the loader address and size it occupies, the bytes to put there, the metadata records it carries, and the
 * module names/versions it provides and depends on. "Loader address" is what the metadata records: on amd64
 * KERNBASE-relative (0x200000 for the kernel's first page), on arm64 the kernel virtual address.
 * This is the one type for a preloaded file: the layout code fills all of it, the metadata encoder needs only
 * Pick<PreloadedFile, 'name' | 'type' | 'args' | 'addr' | 'size' | 'metadata'>.
 */
import type {ModuleDepend} from '../../elf/freebsd.js';
import type {Bytes} from '../../io/file-bytes.js';

export interface MetadataRecord {
  /** MODINFOMD_* type without the MODINFO_METADATA bit. */
  readonly type: number;
  readonly data: Uint8Array;
}

export interface LoaderPiece {
  readonly label: string;
  /** Loader address of the first byte. */
  readonly at: bigint;
  readonly data: Bytes;
  /** data, then zeros, up to memsz. */
  readonly memsz: bigint;
}

export interface ModuleVersion {
  readonly name: string;
  readonly version: number;
}

export interface PreloadedFile {
  /** MODINFO_NAME: the path as the loader built or the user typed it. */
  readonly name: string;
  /** MODINFO_TYPE: "elf kernel", "elf obj module", "elf module", or a raw type such as "md_image". */
  readonly type: string;
  /** MODINFO_ARGS (loader.conf X_flags, kernel_options for the kernel). */
  readonly args?: string;
  readonly addr: bigint;
  readonly size: bigint;
  readonly pieces: readonly LoaderPiece[];
  /** Emitted order. */
  readonly metadata: readonly MetadataRecord[];
  readonly provides: readonly ModuleVersion[];
  readonly depends: readonly ModuleDepend[];
}

/** What the metadata encoder writes of a file. */
export type PreloadRecordSource = Pick<PreloadedFile, 'name' | 'type' | 'args' | 'addr' | 'size' | 'metadata'>;

/** Basename up to the last '.', the name load_elf.c registers when a file declares no MDT_VERSION. */
export function fakeModuleName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}
