/**
 * FreeBSD boot constants, verbatim names from the source:
 *   sys/sys/linker.h          MODINFO_*, MODINFOMD_* (MI), KERNTYPE/MODTYPE strings
 *   sys/x86/include/metadata.h    MODINFOMD_SMAP .. MODINFOMD_EFI_ARCH (amd64)
 *   sys/arm64/include/metadata.h  MODINFOMD_EFI_MAP, DTBP, EFI_FB (arm64 numbers differ from x86)
 *   sys/sys/reboot.h          RB_* howto flags
 *   sys/amd64/include/vmparam.h, sys/arm64/include/vmparam.h   KERNBASE
 */

export const MODINFO = {END: 0x0000, NAME: 0x0001, TYPE: 0x0002, ADDR: 0x0003, SIZE: 0x0004, EMPTY: 0x0005, ARGS: 0x0006, METADATA: 0x8000} as const;

export const MODINFOMD = {
  ELFHDR: 0x0002, SSYM: 0x0003, ESYM: 0x0004, DYNAMIC: 0x0005, ENVP: 0x0006, HOWTO: 0x0007, KERNEND: 0x0008,
  SHDR: 0x0009, CTORS_ADDR: 0x000a, CTORS_SIZE: 0x000b, FW_HANDLE: 0x000c, KEYBUF: 0x000d, FONT: 0x000e, SPLASH: 0x000f,
  NOCOPY: 0x8000,
} as const;

/** Machine-dependent record types. */
export const MODINFOMD_X86 = {SMAP: 0x1001, SMAP_XATTR: 0x1002, DTBP: 0x1003, EFI_MAP: 0x1004, EFI_FB: 0x1005, MODULEP: 0x1006, VBE_FB: 0x1007, EFI_ARCH: 0x1008} as const;
export const MODINFOMD_ARM64 = {EFI_MAP: 0x1001, DTBP: 0x1002, EFI_FB: 0x1003} as const;

export const KERNTYPE = 'elf kernel';
export const MODTYPE = 'elf module';
export const MODTYPE_OBJ = 'elf obj module';

/** sys/sys/reboot.h */
export const RB = {
  ASKNAME: 0x1, SINGLE: 0x2, DFLTROOT: 0x20, KDB: 0x40, VERBOSE: 0x800, SERIAL: 0x1000, CDROM: 0x2000, GDB: 0x8000,
  MUTE: 0x10000, PAUSE: 0x100000, PROBE: 0x10000000, MULTIPLE: 0x20000000,
} as const;

/** arm64 KERNBASE (VM_MIN_KERNEL_ADDRESS). amd64 needs none: load_elf.c relocates by -(dest & 0xffffffffff000000). */
export const KERNBASE_ARM64 = 0xffff000000000000n;

export const PAGE_SIZE = 0x1000n;
export const NBPDR = 0x200000n; // 2 MiB: amd64 superpage, arm64 L2 block

/** FreeBSD's kexec is implemented on these; elsewhere kexec_load_md() returns ENOSYS. */
export const KEXEC_ARCHES = ['amd64', 'arm64'] as const;
