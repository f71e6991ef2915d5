/**
 * Generic ELF images (firmware, hypervisors, non-FreeBSD kernels): every PT_LOAD at p_paddr (or p_vaddr with
 * --use-vaddr), p_filesz bytes then zeros to p_memsz; entry = e_entry translated through the PT_LOAD that holds
 * it. ET_EXEC stays where it is linked; ET_DYN is one movable block whose preferred base is its link address, so
 * the planner keeps it there when that is free RAM and moves it otherwise. No trampoline: the entry is the
 * image's own. The image never looks at the memory map: placement is the planner's decision.
 */
import {basename} from 'node:path';
import {ET, etName} from '../elf/constants.js';
import type {ElfFile} from '../elf/elf-file.js';
import type {ProgramHeader} from '../elf/tables.js';
import {KexecError, hex} from '../errors.js';
import {alignDown, alignUp, minBigint, maxBigint} from '../memory/range.js';
import {archName} from './arch.js';
import type {Image, Piece} from './types.js';

export interface ElfImageOptions {
  readonly useVaddr?: boolean;
  readonly pageSize: bigint;
  /** True when the caller overrides the entry (--entry), so e_entry need not be inside the image. */
  readonly entryOverride?: boolean;
}

export function elfImage(elf: ElfFile, opts: ElfImageOptions): Image {
  const type = elf.header.type;
  if (type === ET.REL) {
    throw new KexecError('badInput', `${elf.file}: is a relocatable object (ET_REL), not a bootable image`, {
      reason: 'not-bootable', hint: 'ET_REL files are loaded as FreeBSD kernel modules, after a kernel',
    });
  }
  if (type !== ET.EXEC && type !== ET.DYN) {
    throw new KexecError('badInput', `${elf.file}: e_type is ${etName(type)}, not a bootable image (expected ET_EXEC or ET_DYN)`, {reason: 'not-bootable'});
  }
  const loads = elf.loadSegments.filter((ph) => ph.memsz > 0n);
  if (loads.length === 0) {
    throw new KexecError('plan', `${elf.file}: has no PT_LOAD with a non-zero p_memsz: nothing to load`, {reason: 'empty-image'});
  }
  const addr = (ph: ProgramHeader): bigint => (opts.useVaddr === true ? ph.vaddr : ph.paddr);
  const name = basename(elf.file);
  const piecesAt = (shift: (a: bigint) => bigint): Piece[] =>
    loads.map((ph) => ({label: `PT_LOAD ${ph.index}`, mem: shift(addr(ph)), data: elf.segmentBytes(ph), memsz: ph.memsz}));

  const notes: string[] = [];
  const holder = elf.loadSegmentForVaddr(elf.header.entry);
  let entry: bigint | undefined = holder === undefined ? undefined : addr(holder) + (elf.header.entry - holder.vaddr);
  if (entry === undefined && opts.useVaddr !== true) {
    // Images linked high with a physical e_entry (Xen, some firmware): e_entry already names a loaded byte.
    const e = elf.header.entry;
    if (loads.some((ph) => e >= ph.paddr && e < ph.paddr + ph.memsz)) {
      entry = e;
      notes.push(`e_entry ${hex(e)} is in no PT_LOAD's virtual range but inside one's physical range: used as the physical entry`);
    }
  }
  if (entry === undefined && opts.entryOverride !== true) {
    throw new KexecError(
      'plan',
      `${elf.file}: entry ${hex(elf.header.entry)} (e_entry) is outside the image: no PT_LOAD contains it ` +
        `(${loads.map((ph) => `[${hex(ph.vaddr)}, ${hex(ph.vaddr + ph.memsz)})`).join(', ')})`,
      {reason: 'entry-outside', hint: 'give the physical entry with --entry'},
    );
  }
  const base: Omit<Image, 'fixed'> = {
    kind: 'elf', arch: archName(elf.header.machine, elf.is64), machine: elf.header.machine, files: [elf.file], notes,
  };
  const fixed = piecesAt((a) => a);
  if (type === ET.EXEC) return {...base, fixed, ...(entry === undefined ? {} : {entry})};

  // ET_DYN: one block, preferably at its link addresses (the planner decides whether they are free RAM).
  const lo = alignDown(fixed.reduce((m, p) => minBigint(m, p.mem), fixed[0]?.mem ?? 0n), opts.pageSize);
  const hi = fixed.reduce((m, p) => maxBigint(m, p.mem + p.memsz), 0n);
  const align = loads.reduce((m, ph) => (ph.align > m && ph.align <= 0x40000000n ? ph.align : m), opts.pageSize);
  const linkedEntry = entry;
  return {
    ...base,
    fixed: [],
    movable: {
      label: `${name} (ET_DYN)`,
      size: alignUp(hi - lo, opts.pageSize),
      align,
      preferred: lo,
      materialize: (b) => ({
        pieces: piecesAt((a) => b + (a - lo)),
        entry: linkedEntry === undefined ? b : b + (linkedEntry - lo),
        handoff: {kind: 'elf'},
      }),
    },
  };
}
