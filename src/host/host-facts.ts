/**
 * HostFacts: what a running FreeBSD system says about how it was booted and how it would be booted next, in one
 * typed value, read from the system itself (running-host.ts) or from a host snapshot directory (snapshot.ts).
 * Everything the loader would have handed the kernel and that userland can get back is here as raw data: the
 * kernel environment (kenv), text and binary sysctls, the root file system (/boot, /etc/fstab), and the output of a
 * few commands that describe the boot pool. The image layer turns these into a boot environment, metadata and a
 * hand-off checklist; this layer only gathers and parses.
 *
 * Which values and why (../shared/reference/freebsd-host.md section 4 has the sources):
 *   kenv                    the loader's environment of the last boot, plus runtime changes
 *   hw.machine, hw.pagesize architecture and page size of the target
 *   vm.phys_segs            the ranges kexec_load(2) accepts (sys/vm/vm_phys.c)
 *   kern.bootfile           the running kernel (kern_mib.c, from kenv kernelname)
 *   kern.module_path        where kldload looks (kern_linker.c)
 *   debug.boothowto         howto of the current boot (init_main.c)
 *   machdep.acpi_root       the ACPI RSDP the kernel found (acpica/OsdEnvironment.c)
 *   machdep.bootmethod      "UEFI" or "BIOS" (amd64 machdep.c)
 *   machdep.efi_map         the loader's EFI map, virtual addresses set (amd64 machdep.c efi_map_sysctl_handler)
 *   machdep.smap            the BIOS SMAP as struct bios_smap_xattr (amd64 machdep.c smap_sysctl_handler)
 *   hw.fdt.dtb              the device tree the kernel booted with (dev/ofw/ofw_fdt.c)
 */
import type {RootFs} from '../io/root-fs.js';
import type {KenvVar} from './kenv-text.js';

export interface SourcedText {
  readonly value: string;
  /** Where it came from, for provenance ("sysctl -e", "DIR/sysctl.txt:12"). */
  readonly source: string;
}

export interface SourcedBytes {
  readonly bytes: Uint8Array;
  readonly source: string;
}

export interface HostFacts {
  /** "this host" or "host snapshot DIR". */
  readonly source: string;
  /** `uname -m` and `uname -r`. */
  readonly machine?: string;
  readonly release?: string;
  readonly kenv: readonly KenvVar[];
  /** Where the kenv dump came from ("kenv", "DIR/kenv"). */
  readonly kenvSource: string;
  readonly sysctl: ReadonlyMap<string, SourcedText>;
  readonly binary: ReadonlyMap<string, SourcedBytes>;
  /** The host's root file system (/boot, /etc). */
  readonly root: RootFs;
  /** Output of the commands in HOST_COMMANDS that ran (or were captured). */
  readonly commands: ReadonlyMap<string, SourcedText>;
  /** Problems met while reading that did not stop it. */
  readonly notes: readonly string[];
}

/** Text sysctls read from a host (sysctl -e) and kept in a snapshot's sysctl.txt. */
export const TEXT_SYSCTLS: readonly string[] = [
  'hw.machine', 'hw.machine_arch', 'hw.pagesize', 'hw.physmem', 'kern.osrelease', 'kern.bootfile', 'kern.module_path',
  'kern.securelevel', 'kern.init_shutdown_timeout', 'debug.boothowto', 'machdep.acpi_root', 'machdep.bootmethod',
  'vm.phys_segs',
];

/** Opaque sysctls read with `sysctl -b` and kept as DIR/sysctl/NAME. */
export const BINARY_SYSCTLS: readonly string[] = ['machdep.efi_map', 'machdep.smap', 'hw.fdt.dtb'];

/**
 * Commands whose output a snapshot keeps as DIR/commands/NAME, with the argv run on the host (absolute paths).
 * `zpool-get-bootfs`: which boot environment the loader would pick (stand/efi/loader/main.c probe_zfs_currdev uses
 * the pool's bootfs); `zpool-status`: the vdevs under the root pool (GELI providers end in .eli); `mount-p`: what
 * is mounted where, to find the dataset or device of a --root directory.
 */
export const HOST_COMMANDS: Readonly<Record<string, readonly string[]>> = {
  'zpool-get-bootfs': ['/sbin/zpool', 'get', '-H', '-o', 'name,value', 'bootfs'],
  'zpool-status': ['/sbin/zpool', 'status', '-P'],
  'mount-p': ['/sbin/mount', '-p'],
};

/** The value of a kenv variable, or undefined. */
export function kenvValue(facts: Pick<HostFacts, 'kenv'>, name: string): string | undefined {
  return facts.kenv.find((v) => v.name === name)?.value;
}

/** A text sysctl's value, trimmed, or undefined. */
export function sysctlValue(facts: Pick<HostFacts, 'sysctl'>, name: string): string | undefined {
  const v = facts.sysctl.get(name)?.value;
  return v === undefined ? undefined : v.trim();
}

/** A numeric sysctl (decimal or 0x hex), or undefined when absent or not a number. */
export function sysctlNumber(facts: Pick<HostFacts, 'sysctl'>, name: string): bigint | undefined {
  const v = sysctlValue(facts, name);
  return v !== undefined && /^(0x[0-9a-fA-F]+|\d+)$/.test(v) ? BigInt(v) : undefined;
}
