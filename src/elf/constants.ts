/**
 * ELF constants and their names, verbatim from the ELF gABI (and FreeBSD's sys/sys/elf_common.h for the
 * FreeBSD-specific values). Names print the way readelf prints them, so `inspect` and `readelf` can be compared.
 */

export const ET = {NONE: 0, REL: 1, EXEC: 2, DYN: 3, CORE: 4} as const;

export const PT = {
  NULL: 0, LOAD: 1, DYNAMIC: 2, INTERP: 3, NOTE: 4, SHLIB: 5, PHDR: 6, TLS: 7,
} as const;

export const SHT = {
  NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, HASH: 5, DYNAMIC: 6, NOTE: 7, NOBITS: 8, REL: 9,
  SHLIB: 10, DYNSYM: 11, INIT_ARRAY: 14, FINI_ARRAY: 15, PREINIT_ARRAY: 16, GROUP: 17, SYMTAB_SHNDX: 18,
} as const;

export const SHF = {WRITE: 0x1n, ALLOC: 0x2n, EXECINSTR: 0x4n, MERGE: 0x10n, STRINGS: 0x20n, INFO_LINK: 0x40n} as const;

export const SHN = {UNDEF: 0, LORESERVE: 0xff00, ABS: 0xfff1, COMMON: 0xfff2, XINDEX: 0xffff} as const;

export const PN_XNUM = 0xffff;

export const ELFOSABI_FREEBSD = 9;

export const EM = {
  I386: 3, PPC: 20, PPC64: 21, S390: 22, ARM: 40, X86_64: 62, VAX: 75, XTENSA: 94, AARCH64: 183, RISCV: 243,
} as const;

/** The gABI name of an e_machine value ("EM_AARCH64"), or "e_machine 0x…" for one not listed in EM. */
export function emName(machine: number): string {
  const key = Object.entries(EM).find(([, v]) => v === machine)?.[0];
  return key === undefined ? `e_machine 0x${machine.toString(16)}` : `EM_${key}`;
}

/** The gABI name of an e_type value ("ET_EXEC"), or "e_type 0x…". */
export function etName(type: number): string {
  const key = Object.entries(ET).find(([, v]) => v === type)?.[0];
  return key === undefined ? `e_type 0x${type.toString(16)}` : `ET_${key}`;
}

const TYPE_NAMES: Record<number, string> = {0: 'NONE', 1: 'REL', 2: 'EXEC', 3: 'DYN', 4: 'CORE'};

export function elfTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `0x${type.toString(16)}`;
}

const PT_NAMES: Record<number, string> = {
  0: 'NULL', 1: 'LOAD', 2: 'DYNAMIC', 3: 'INTERP', 4: 'NOTE', 5: 'SHLIB', 6: 'PHDR', 7: 'TLS',
  0x6474e550: 'GNU_EH_FRAME', 0x6474e551: 'GNU_STACK', 0x6474e552: 'GNU_RELRO', 0x6474e553: 'GNU_PROPERTY',
  0x6474e554: 'GNU_SFRAME', 0x65a3dbe6: 'OPENBSD_RANDOMIZE', 0x65a3dbe7: 'OPENBSD_WXNEEDED',
  0x65a41be6: 'OPENBSD_BOOTDATA', 0x70000000: 'LOPROC', 0x70000001: 'EXIDX', 0x70000003: 'RISCV_ATTRIBUTES',
};

/** readelf's name for a program header type; "0x…" for types it has no name for. */
export function programTypeName(type: number): string {
  return PT_NAMES[type] ?? `0x${type.toString(16)}`;
}

const SHT_NAMES: Record<number, string> = {
  0: 'NULL', 1: 'PROGBITS', 2: 'SYMTAB', 3: 'STRTAB', 4: 'RELA', 5: 'HASH', 6: 'DYNAMIC', 7: 'NOTE', 8: 'NOBITS',
  9: 'REL', 10: 'SHLIB', 11: 'DYNSYM', 14: 'INIT_ARRAY', 15: 'FINI_ARRAY', 16: 'PREINIT_ARRAY', 17: 'GROUP',
  18: 'SYMTAB_SHNDX', 0x6ffffff6: 'GNU_HASH', 0x6ffffffd: 'VERDEF', 0x6ffffffe: 'VERNEED', 0x6fffffff: 'VERSYM',
  0x6ffffff5: 'GNU_ATTRIBUTES', 0x70000001: 'ARM_EXIDX', 0x70000003: 'ARM_ATTRIBUTES',
};

export function sectionTypeName(type: number): string {
  return SHT_NAMES[type] ?? `0x${type.toString(16)}`;
}

const MACHINE_NAMES: Record<number, string> = {
  0: 'None', 2: 'SPARC', 3: 'Intel 80386', 4: 'MC68000', 8: 'MIPS R3000', 15: 'HPPA', 18: 'Sparc v8+',
  20: 'PowerPC', 21: 'PowerPC64', 22: 'IBM S/390', 40: 'ARM', 42: 'Renesas / SuperH SH', 43: 'Sparc v9',
  50: 'Intel IA-64', 62: 'Advanced Micro Devices X86-64', 75: 'Digital VAX', 94: 'Tensilica Xtensa Processor',
  183: 'AArch64', 243: 'RISC-V', 258: 'LoongArch',
};

export function machineName(machine: number): string {
  return MACHINE_NAMES[machine] ?? `0x${machine.toString(16)}`;
}

const OSABI_NAMES: Record<number, string> = {
  0: 'UNIX - System V', 1: 'UNIX - HP-UX', 2: 'UNIX - NetBSD', 3: 'UNIX - GNU', 6: 'UNIX - Solaris', 7: 'UNIX - AIX',
  8: 'UNIX - IRIX', 9: 'UNIX - FreeBSD', 10: 'UNIX - TRU64', 12: 'UNIX - OpenBSD', 97: 'ARM', 255: 'Standalone App',
};

export function osabiName(osabi: number): string {
  return OSABI_NAMES[osabi] ?? `0x${osabi.toString(16)}`;
}

/** Program header flags as `R-X`: the three permission bits, in readelf's order. */
export function segmentFlags(flags: number): string {
  return `${flags & 4 ? 'R' : '-'}${flags & 2 ? 'W' : '-'}${flags & 1 ? 'X' : '-'}`;
}

/** Section flags as readelf's key letters (W A X M S I ...). */
export function sectionFlags(flags: bigint): string {
  const letters: [bigint, string][] = [
    [0x1n, 'W'], [0x2n, 'A'], [0x4n, 'X'], [0x10n, 'M'], [0x20n, 'S'], [0x40n, 'I'], [0x80n, 'L'], [0x100n, 'O'],
    [0x200n, 'G'], [0x400n, 'T'], [0x800n, 'C'], [0x80000000n, 'E'],
  ];
  return letters.filter(([bit]) => (flags & bit) !== 0n).map(([, l]) => l).join('');
}
