/**
 * What must be in physical memory, before anyone decides where segments go. An Image is a list of fixed pieces
 * (bytes at a physical address, zero-filled up to memsz) and, optionally, one movable group whose contents depend
 * on where it lands (an ET_DYN image, or a FreeBSD kernel whose metadata records its own load addresses): the
 * planner chooses the base and calls `materialize(base)`. Images hold views of file bytes, never copies.
 *
 * The hand-off is what the new code is given besides its bytes: nothing for a generic ELF image, the preload
 * metadata, environment and entry registers for a FreeBSD kernel. It is one typed union; hex strings appear only
 * in its JSON form (src/plan/codec.ts).
 */
import type {Bytes} from '../io/file-bytes.js';

export interface Piece {
  /** What this is, for plan output ("kernel PT_LOAD 0", "module if_em.ko", "metadata"). */
  readonly label: string;
  /** Physical address of the first byte. */
  readonly mem: bigint;
  /** The bytes: a range of an input file (read when needed), or a small generated or parsed buffer. */
  readonly data: Bytes;
  /** Bytes in memory: data, then zeros. At least data.length. */
  readonly memsz: bigint;
}

/** A generic ELF image is handed nothing but its entry point. */
export interface ElfHandoff {
  readonly kind: 'elf';
}

/** One preloaded file as the metadata describes it, with the physical address it was placed at. */
export interface HandoffFile {
  readonly name: string;
  readonly type: string;
  readonly args?: string;
  /** MODINFO_ADDR: the loader address recorded in the metadata. */
  readonly addr: bigint;
  readonly size: bigint;
  /** addr + physOffset (mod 2^64). */
  readonly physical: bigint;
  /** "name@version" of every module the file provides. */
  readonly modules: readonly string[];
}

export interface HandoffDependency {
  readonly file: string;
  readonly module: string;
  readonly neededBy: string;
  readonly how: string;
}

/** One kernel environment variable, in the order the environment block holds them. */
export interface KenvEntry {
  readonly name: string;
  readonly value: string;
  /** Where the value came from: "kenv", "FILE:LINE", "--env", "kernel /boot/kernel/kernel"... */
  readonly source?: string;
}

/** One line of the hand-off checklist (src/image/freebsd/handoff-checklist.ts). */
export interface ChecklistItem {
  readonly id: string;
  readonly title: string;
  readonly status: 'present' | 'missing';
  /** For a missing item: fatal stops the plan unless --force; warn and info are reported. */
  readonly severity: 'fatal' | 'warn' | 'info';
  readonly source?: string;
  readonly value?: string;
  /** What breaks when it is missing. */
  readonly consequence?: string;
}

/**
 * The memory map record handed to the kernel, as the kernel will read it: which one (MODINFOMD_EFI_MAP, or
 * MODINFOMD_SMAP on BIOS amd64), its MODINFOMD_* number for the architecture, the payload's size and the number
 * of entries the kernel walks (EFI: memory_size / descriptor_size; SMAP: size / 20).
 */
export interface MemoryRecordSummary {
  readonly name: 'EFI_MAP' | 'SMAP';
  readonly type: number;
  readonly size: number;
  readonly entries: number;
}

/** What a FreeBSD kernel is handed: stand/efi/loader/bootinfo.c bi_load, entered through our trampoline. */
export interface FreeBsdHandoff {
  readonly kind: 'freebsd';
  readonly arch: 'amd64' | 'arm64';
  /** Physical entry: the trampoline. */
  readonly entry: bigint;
  /** Physical address of the kernel's own entry (btext / _start). */
  readonly kernelEntry: bigint;
  readonly kernelEntryVirtual: bigint;
  /** Physical address of the 2 MiB-aligned block the kernel image starts in. */
  readonly loadBase: bigint;
  /** amd64 only: the physical address the kernel expects as kernphys. */
  readonly kernphys?: bigint;
  /** Loader addresses the trampoline passes: the metadata and the end of everything loaded. */
  readonly modulep: bigint;
  readonly kernend: bigint;
  /** Physical address of the first MODINFO record, and the size of the block. */
  readonly metadata: bigint;
  readonly metadataSize: bigint;
  /** Loader address of the environment block. */
  readonly envp: bigint;
  /** Added modulo 2^64 to a loader address recorded in the metadata, gives its physical address. */
  readonly physOffset: bigint;
  /** MODINFOMD_HOWTO. */
  readonly howto: number;
  readonly env: readonly KenvEntry[];
  /** Which memory record was passed (EFI map, SMAP) and where it came from. */
  readonly memoryMapRecord: string;
  readonly memoryRecord: MemoryRecordSummary;
  /** MODINFOMD_FW_HANDLE: the EFI system table's physical address, when one is passed. */
  readonly fwHandle?: bigint;
  readonly files: readonly HandoffFile[];
  readonly dependencies: readonly HandoffDependency[];
  /** Every item the loader would pass on the host planned for; absent when no host was given. */
  readonly checklist?: readonly ChecklistItem[];
}

export type Handoff = ElfHandoff | FreeBsdHandoff;
export type ImageKind = Handoff['kind'];

export interface Materialized {
  readonly pieces: Piece[];
  /** Physical entry address. */
  readonly entry: bigint;
  readonly handoff: Handoff;
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
  readonly kind: ImageKind;
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
