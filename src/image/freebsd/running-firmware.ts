/**
 * The running FreeBSD system's own memory description, for a kexec to the same machine: the kernel exports
 * what its loader gave it (sys/amd64/amd64/machdep.c): `machdep.efi_map` is the MODINFOMD_EFI_MAP payload
 * unchanged (struct efi_map_header + descriptors), `machdep.smap` the BIOS map as struct bios_smap_xattr
 * {u64 base; u64 length; u32 type; u32 xattr} entries. Passing these on keeps ACPI, runtime-services and
 * reserved regions exactly as firmware described them, which a map synthesized from vm.phys_segs cannot.
 */
import {execFile} from 'node:child_process';
import {promisify} from 'node:util';

const run = promisify(execFile);

/** Reads a binary sysctl; undefined when it does not exist or is empty. */
export type SysctlReader = (name: string) => Promise<Uint8Array | undefined>;

export const readSysctl: SysctlReader = async (name) => {
  try {
    const {stdout} = await run('sysctl', ['-b', name], {encoding: 'buffer', maxBuffer: 16 << 20});
    return stdout.length > 0 ? new Uint8Array(stdout) : undefined;
  } catch {
    return undefined;
  }
};

export interface RunningFirmware {
  readonly efiMap?: Uint8Array;
  readonly smap?: Uint8Array;
  readonly source: string;
}

/** bios_smap_xattr (24 bytes) entries to the packed bios_smap (20 bytes) entries MODINFOMD_SMAP carries. */
export function smapFromXattr(x: Uint8Array): Uint8Array | undefined {
  if (x.length === 0 || x.length % 24 !== 0) return undefined;
  const n = x.length / 24;
  const out = new Uint8Array(20 * n);
  for (let i = 0; i < n; i++) out.set(x.subarray(24 * i, 24 * i + 20), 20 * i);
  return out;
}

/** The EFI map if the running kernel has one, else its SMAP, else undefined (then kexec-ts synthesizes one). */
export async function runningFirmware(read: SysctlReader = readSysctl): Promise<RunningFirmware | undefined> {
  const efi = await read('machdep.efi_map');
  if (efi !== undefined && efi.length >= 24) return {efiMap: efi, source: 'EFI memory map of the running system (sysctl machdep.efi_map)'};
  const raw = await read('machdep.smap');
  const smap = raw === undefined ? undefined : smapFromXattr(raw);
  if (smap !== undefined) return {smap, source: `SMAP of the running system (sysctl machdep.smap, ${smap.length / 20} entries)`};
  return undefined;
}
