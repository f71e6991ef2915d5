/**
 * The running FreeBSD system's own memory description, for a kexec to the same machine: the kernel exports
 * what its loader gave it (sys/amd64/amd64/machdep.c): `machdep.efi_map` is the MODINFOMD_EFI_MAP payload
 * unchanged (struct efi_map_header + descriptors), `machdep.smap` the BIOS map as struct bios_smap_xattr
 * {u64 base; u64 length; u32 type; u32 xattr} entries. Passing these on keeps ACPI, runtime-services and
 * reserved regions exactly as firmware described them, which a map synthesized from vm.phys_segs cannot.
 * These are raw bytes; src/image/freebsd/firmware-blobs.ts checks and converts them.
 */
import {readSysctlBinary, type SysctlReader} from './sysctl.js';

export interface RunningFirmware {
  /** machdep.efi_map, as the sysctl returns it. */
  readonly efiMap?: Uint8Array;
  /** machdep.smap: struct bios_smap_xattr entries. */
  readonly smapXattr?: Uint8Array;
  /** Where the bytes came from, for notes. */
  readonly source: string;
}

/** The EFI map if the running kernel has one, else its SMAP, else undefined (then kexec-ts synthesizes one). */
export async function runningFirmware(read: SysctlReader = readSysctlBinary): Promise<RunningFirmware | undefined> {
  const efi = await read('machdep.efi_map');
  if (efi !== undefined) return {efiMap: efi, source: 'sysctl machdep.efi_map'};
  const smap = await read('machdep.smap');
  if (smap !== undefined) return {smapXattr: smap, source: 'sysctl machdep.smap'};
  return undefined;
}
