/**
 * What must be in physical memory, before anyone decides where segments go. An Image is a list of fixed pieces
 * (bytes at a physical address, zero-filled up to memsz) and, optionally, one movable group whose contents depend
 * on where it lands (an ET_DYN image, or a FreeBSD kernel whose metadata records its own load addresses): the
 * planner chooses the base and calls `materialize(base)`. Images hold views of file bytes, never copies.
 */

export interface Piece {
  /** What this is, for plan output ("kernel PT_LOAD 0", "module if_em.ko", "metadata"). */
  readonly label: string;
  /** Physical address of the first byte. */
  readonly mem: bigint;
  /** The bytes (a view into a file buffer, or a small generated buffer). */
  readonly data: Uint8Array;
  /** Bytes in memory: data, then zeros. At least data.length. */
  readonly memsz: bigint;
}

export interface Materialized {
  readonly pieces: Piece[];
  /** Physical entry address. */
  readonly entry: bigint;
  /** Hand-off facts for plan output (FreeBSD images); plain JSON-ready data. */
  readonly handoff?: Record<string, unknown>;
}

export interface MovableGroup {
  readonly label: string;
  /** Bytes the group occupies from its base. */
  readonly size: bigint;
  /** Alignment of the base (a power of two; the planner raises it to at least the page size). */
  readonly align: bigint;
  /** Lowest and highest (exclusive) addresses the group may occupy. */
  readonly min?: bigint;
  readonly max?: bigint;
  /** Where the group would sit without relocation, tried first when it fits (ET_DYN's link addresses). */
  readonly preferred?: bigint;
  /** The group may not cross a multiple of this (arm64 locore maps the kernel with one 1 GiB L2 table). */
  readonly boundary?: bigint;
  readonly materialize: (base: bigint) => Materialized;
}

export interface Image {
  /** "elf" for generic images, "freebsd" for FreeBSD kernels. */
  readonly kind: 'elf' | 'freebsd';
  /** Architecture name (amd64, arm64, i386, ...), derived from e_machine. */
  readonly arch: string;
  readonly machine: number;
  /** The files it was built from, in load order. */
  readonly files: string[];
  readonly fixed: Piece[];
  /** Physical entry when the image has no movable group. */
  readonly entry?: bigint;
  readonly movable?: MovableGroup;
  /** Facts worth telling the user about how the image was read (e.g. "e_entry is already physical"). */
  readonly notes?: string[];
}
