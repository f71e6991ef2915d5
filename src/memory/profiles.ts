/**
 * Built-in machine profiles for the simulated machine, the QEMU machines and planning without a target at hand.
 * Each memory map is what a FreeBSD kernel on that machine would report in `vm.phys_segs`: the running kernel's
 * own image is in no RAM range (modelled as a 'reserved' range labelled 'running kernel'), so plans never
 * overwrite it.
 *
 * qemu-amd64-1g is `qemu-system-x86_64 -M pc -m 1G` as the QEMU backend boots it: guest RAM is [0, 0xa0000) and
 * [1 MiB, 1 GiB); the multiboot shim that enters the plan in long mode lives in [1 MiB, 2 MiB), and SeaBIOS
 * leaves its tables and relocated init code near the top of RAM (a memory dump after boot shows
 * [0x3efe2000, 0x3f000000) and [0x3ffe0000, 0x3ffe2000) written), so the plannable RAM is [2 MiB, 1 GiB - 32 MiB).
 * arm64-virt-2g is also `qemu-system-aarch64 -M virt -m 2G` (RAM at 0x40000000).
 */
import {KexecError} from '../errors.js';
import {Range} from './range.js';
import {makeMemoryMap, type MemoryMap, type MemoryRange} from './memory-map.js';

export interface MachineProfile {
  readonly name: string;
  readonly arch: 'amd64' | 'arm64' | 'riscv64' | 'any';
  readonly pageSize: bigint;
  readonly description: string;
  readonly memoryMap: MemoryMap;
}

function ram(start: bigint, end: bigint): MemoryRange {
  return {range: new Range(start, end), type: 'ram'};
}

function reserved(start: bigint, end: bigint, label: string): MemoryRange {
  return {range: new Range(start, end), type: 'reserved', label};
}

function profile(name: string, arch: MachineProfile['arch'], description: string, ranges: MemoryRange[]): MachineProfile {
  return Object.freeze({name, arch, pageSize: 4096n, description, memoryMap: makeMemoryMap(`profile ${name}`, ranges)});
}

const MiB = 0x100000n;

const PROFILES: readonly MachineProfile[] = [
  profile('amd64-4g', 'amd64', 'amd64 PC, 4 GiB RAM: legacy hole below 1 MiB, kernel at 0xb0000000, PCI hole below 4 GiB', [
    ram(0x1000n, 0x9f000n),
    reserved(0x9f000n, 0x100000n, 'legacy VGA/BIOS'),
    ram(0x100000n, 0xb0000000n),
    reserved(0xb0000000n, 0xb2000000n, 'running kernel'),
    ram(0xb2000000n, 0xbff00000n),
    reserved(0xbff00000n, 0x100000000n, 'PCI hole'),
    ram(0x100000000n, 0x140000000n),
  ]),
  profile('arm64-virt-2g', 'arm64', 'QEMU arm64 virt, 2 GiB RAM at 0x40000000, running kernel in the first 32 MiB', [
    reserved(0x40000000n, 0x42000000n, 'running kernel'),
    ram(0x42000000n, 0xc0000000n),
  ]),
  profile('riscv64-virt-2g', 'riscv64', 'QEMU riscv64 virt, 2 GiB RAM at 0x80000000, OpenSBI in the first 2 MiB', [
    reserved(0x80000000n, 0x80200000n, 'OpenSBI'),
    ram(0x80200000n, 0x100000000n),
  ]),
  profile('qemu-amd64-1g', 'amd64', 'QEMU pc, 1 GiB RAM, entered through qemu-shim in the state FreeBSD 16 amd64 kexec leaves', [
    reserved(0n, MiB, 'real-mode memory, VGA and BIOS'),
    reserved(MiB, 2n * MiB, 'qemu-shim (image, page tables, stack, multiboot info)'),
    ram(2n * MiB, 0x3e000000n),
    reserved(0x3e000000n, 0x40000000n, 'SeaBIOS high memory and ACPI tables'),
  ]),
  profile('flat-4g', 'any', 'any architecture, 4 GiB of RAM from address 0, nothing reserved (generic images, tests)', [
    ram(0x0n, 0x100000000n),
  ]),
];

export const PROFILE_NAMES: readonly string[] = Object.freeze(PROFILES.map((p) => p.name));

/** The named profile; an unknown name is a usage error listing the known ones. */
export function getProfile(name: string): MachineProfile {
  const p = PROFILES.find((q) => q.name === name);
  if (p === undefined) {
    throw new KexecError('usage', `unknown machine profile ${JSON.stringify(name)} (known: ${PROFILE_NAMES.join(', ')})`, {
      reason: 'unknown-profile',
    });
  }
  return p;
}

/** The profile to plan against for an architecture when none was chosen, or undefined. */
export function defaultProfileForArch(arch: string): MachineProfile | undefined {
  const name = ({amd64: 'amd64-4g', arm64: 'arm64-virt-2g', riscv64: 'riscv64-virt-2g'} as Record<string, string>)[arch];
  return name === undefined ? undefined : getProfile(name);
}
