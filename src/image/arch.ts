/**
 * Architecture names and default page sizes by e_machine. FreeBSD's kexec is implemented for amd64 and arm64
 * (sys/amd64/amd64/kexec_support.c, sys/arm64/arm64/kexec_support.c); the others are still plannable as generic images.
 */
import {EM} from '../elf/constants.js';

const NAMES: Record<number, {name32: string; name64: string}> = {
  [EM.I386]: {name32: 'i386', name64: 'i386'},
  [EM.X86_64]: {name32: 'amd64', name64: 'amd64'},
  [EM.ARM]: {name32: 'arm', name64: 'arm'},
  [EM.AARCH64]: {name32: 'arm64', name64: 'arm64'},
  [EM.RISCV]: {name32: 'riscv32', name64: 'riscv64'},
  [EM.PPC]: {name32: 'powerpc', name64: 'powerpc'},
  [EM.PPC64]: {name32: 'powerpc64', name64: 'powerpc64'},
  [EM.S390]: {name32: 's390', name64: 's390x'},
  [EM.VAX]: {name32: 'vax', name64: 'vax'},
  [EM.XTENSA]: {name32: 'xtensa', name64: 'xtensa'},
};

export function archName(machine: number, is64: boolean): string {
  const n = NAMES[machine];
  if (n === undefined) return `machine-${machine}`;
  return is64 ? n.name64 : n.name32;
}

/** 4 KiB everywhere by default; arm64 kernels built for 16 KiB or 64 KiB pages need --page-size. */
export const DEFAULT_PAGE_SIZE = 0x1000n;
