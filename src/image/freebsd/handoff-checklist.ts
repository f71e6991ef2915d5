/**
 * The hand-off checklist: every item FreeBSD's loader would give the kernel on this host, present (with where it
 * came from) or missing (with what breaks), following ../shared/reference/freebsd-host.md sections 1-4 and the
 * kernel code it cites. Items whose absence stops the boot are `fatal`: no memory description
 * (amd64 machdep.c native_parse_memmap panics), no root to mount (vfs_mountroot.c: mountroot> prompt), a root file
 * system the kernel has no module for (vfs_mountroot.c parse_mount: "unknown file system"), a GELI root (geli asks
 * for the passphrase again: a running system cannot export the loader's keys), and on arm64 neither ACPI nor a
 * device tree (arm64 machdep.c bus_probe finds no bus). The others warn. Userland cannot get FW_HANDLE or EFI_FB
 * back from a running FreeBSD (no sysctl exports them), so they are missing on UEFI hosts unless given by hand.
 */
import type {ChecklistItem, KenvEntry} from '../types.js';

export interface ChecklistInput {
  readonly arch: 'amd64' | 'arm64';
  /** "UEFI" or "BIOS" when known (machdep.bootmethod, or the EFI map's presence). */
  readonly firmware?: 'UEFI' | 'BIOS';
  readonly env: readonly KenvEntry[];
  /** The memory record passed (metadata) and whether it was synthesized rather than the firmware's. */
  readonly memory?: {readonly record: string; readonly source: string; readonly synthesized: boolean};
  readonly root?: {readonly mountfrom: string; readonly source: string; readonly geli?: boolean};
  /** The root's file system type needs a module neither the kernel nor a loaded file provides (e.g. zfs). */
  readonly rootModuleMissing?: string;
  readonly dtb?: string;
  readonly fwHandle?: string;
  readonly howto: number;
  /** Raw files loaded, by type (boot_entropy_cache, hostuuid ...). */
  readonly rawTypes: readonly string[];
  readonly nextboot?: string;
  readonly carried: number;
  readonly dropped: readonly {readonly name: string; readonly why: string}[];
}

const RB_SERIAL = 0x1000;
const RB_MULTIPLE = 0x20000000;

function item(id: string, title: string, present: {source: string; value?: string} | undefined, missing: {severity: ChecklistItem['severity']; consequence: string}): ChecklistItem {
  return present !== undefined
    ? {id, title, status: 'present', severity: 'info', source: present.source, ...(present.value === undefined ? {} : {value: present.value})}
    : {id, title, status: 'missing', severity: missing.severity, consequence: missing.consequence};
}

export function handoffChecklist(c: ChecklistInput): ChecklistItem[] {
  const env = new Map(c.env.map((e) => [e.name, e]));
  const from = (name: string): {source: string; value: string} | undefined => {
    const e = env.get(name);
    return e === undefined ? undefined : {source: e.source ?? 'environment', value: e.value};
  };
  const uefi = c.firmware === 'UEFI';
  const out: ChecklistItem[] = [];
  out.push(item('memory-map', 'memory description (MODINFOMD_EFI_MAP / SMAP)',
    c.memory === undefined ? undefined : {source: c.memory.source, value: c.memory.record},
    {severity: 'fatal', consequence: 'the kernel panics: "No BIOS smap or EFI map info from loader!" (amd64), "Cannot get physical memory regions" (arm64)'}));
  if (c.memory?.synthesized === true && uefi) {
    out.push({id: 'memory-map-firmware', title: "the firmware's EFI map", status: 'missing', severity: 'warn',
      consequence: c.arch === 'amd64'
        ? 'an SMAP built from vm.phys_segs makes the kernel believe it was BIOS-booted: no EFI runtime services, no UEFI framebuffer console'
        : 'an EFI map built from vm.phys_segs loses runtime-services and reserved regions (arm64 exports no machdep.efi_map)'});
  }
  out.push(item('root', 'root file system (vfs.root.mountfrom)', c.root === undefined ? undefined : {source: c.root.source, value: c.root.mountfrom},
    {severity: 'fatal', consequence: 'no root to mount: the kernel stops at the mountroot> prompt (sys/kern/vfs_mountroot.c)'}));
  if (c.rootModuleMissing !== undefined) {
    out.push({id: 'root-module', title: `file system module for the root (${c.rootModuleMissing})`, status: 'missing', severity: 'fatal',
      consequence: `neither the kernel nor a loaded module provides ${c.rootModuleMissing}: mounting the root fails with "unknown file system" (set ${c.rootModuleMissing}_load="YES")`});
  }
  if (c.root?.geli === true) {
    out.push({id: 'geli', title: 'GELI keys for the encrypted root (MODINFOMD_KEYBUF)', status: 'missing', severity: 'fatal',
      consequence: 'the loader\'s GELI keys cannot be exported from a running system: the new kernel asks for the passphrase on the console, and an unattended host waits forever'});
  }
  const rsdp = from('acpi.rsdp');
  out.push(item('acpi', 'ACPI root (acpi.rsdp)', rsdp, {severity: 'warn',
    consequence: c.arch === 'arm64'
      ? 'no ACPI: an ACPI-only server has no bus to attach devices to (arm64 acpica/OsdEnvironment.c has no scan fallback)'
      : 'the kernel falls back to a legacy BIOS-area scan, which misses the RSDP on UEFI-only machines: no MADT, no SMP, no interrupt routing'}));
  if (c.arch === 'arm64') {
    out.push(item('dtb', 'device tree (MODINFOMD_DTBP)', c.dtb === undefined ? undefined : {source: c.dtb},
      {severity: rsdp === undefined ? 'fatal' : 'info', consequence: rsdp === undefined ? 'neither ACPI nor a device tree: the kernel finds no devices (arm64 machdep.c bus_probe)' : 'not needed: the kernel uses ACPI'}));
  }
  const hints = c.env.filter((e) => e.name.startsWith('hint.'));
  out.push(item('hints', 'device hints (hint.*)', hints.length === 0 ? undefined : {source: [...new Set(hints.map((h) => (h.source ?? '').replace(/:\d+$/, '')))].join(', '), value: `${hints.length} variables`},
    {severity: 'warn', consequence: 'no device hints: legacy ISA devices and the serial console flags (hint.uart.N.flags) are not configured (subr_hints.c)'}));
  const uart = from('hw.uart.console');
  const serial = (c.howto & (RB_SERIAL | RB_MULTIPLE)) !== 0;
  out.push({id: 'console', title: 'console', status: 'present', severity: 'info',
    source: uart?.source ?? (serial ? 'howto (boot_serial / boot_multicons / console)' : 'default'),
    value: `${serial ? ((c.howto & RB_MULTIPLE) !== 0 ? 'serial and video' : 'serial') : 'video'}${uart === undefined ? '' : `, hw.uart.console=${uart.value}`}${env.get('console') === undefined ? '' : `, console="${env.get('console')?.value ?? ''}"`}`});
  out.push(item('kernelname', 'kernel path (kernelname -> kern.bootfile)', from('kernelname'), {severity: 'warn', consequence: 'kern.bootfile stays at the compiled default: freebsd-update says "Cannot identify running kernel"'}));
  out.push(item('module_path', 'module path (module_path -> kern.module_path)', from('module_path'), {severity: 'warn', consequence: 'kldload looks in /boot/kernel;/boot/modules: modules of another kernel may be loaded'}));
  if (uefi) {
    out.push(item('fw-handle', 'EFI system table (MODINFOMD_FW_HANDLE)', c.fwHandle === undefined ? undefined : {source: c.fwHandle},
      {severity: 'warn', consequence: 'a running FreeBSD exports no EFI system table address: no EFI runtime services (efivar, EFI RTC, EFI reset), SMBIOS only by legacy scan (efirt.c efi_init). Give it with --fw-handle if you know it'}));
    out.push({id: 'efi-fb', title: 'EFI framebuffer (MODINFOMD_EFI_FB)', status: 'missing', severity: 'warn',
      consequence: 'a running FreeBSD exports no framebuffer description: no efifb vt console, the screen stays blank (the serial console is not affected)'});
  }
  const smbios = c.env.filter((e) => e.name.startsWith('smbios.'));
  out.push(item('smbios', 'SMBIOS strings (smbios.*)', smbios.length === 0 ? undefined : {source: smbios[0]?.source ?? 'kenv', value: `${smbios.length} variables`},
    {severity: 'info', consequence: 'SMBIOS-based virtual machine detection is lost (identify_hypervisor_smbios)'}));
  out.push(item('entropy', 'boot entropy (boot_entropy_cache)', c.rawTypes.includes('boot_entropy_cache') ? {source: 'entropy_cache_load'} : undefined,
    {severity: 'info', consequence: 'random(4) starts without the saved entropy cache'}));
  if (c.nextboot !== undefined) {
    out.push({id: 'nextboot', title: 'nextboot.conf', status: 'present', severity: 'info', source: c.nextboot,
      value: 'used for this boot, as the loader would; the loader then disables it by rewriting its first line'});
  }
  out.push({id: 'environment', title: 'kernel environment carried over', status: 'present', severity: 'info', source: 'kenv',
    value: `${c.carried} variables carried, ${c.dropped.length} not (${[...new Set(c.dropped.map((d) => d.why))].join('; ') || 'none'})`});
  return out;
}
