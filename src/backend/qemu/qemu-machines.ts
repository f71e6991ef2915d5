/**
 * The two machines the QEMU backend emulates, as data: the QEMU binary and its Debian package, the guest RAM QEMU
 * gives the machine, what must stay free of plan segments (the amd64 multiboot shim in [1 MiB, 2 MiB)), and the
 * machine profile the planner must plan against (the sim staging store keeps it in machine.json).
 *
 * amd64 (`qemu-system-x86_64 -M pc -m 1G`): guest RAM is [0, 0xa0000) and [1 MiB, 1 GiB). SeaBIOS leaves its
 * tables and relocated init code near the top of RAM (a memory dump after boot shows [0x3efe2000, 0x3f000000) and
 * [0x3ffe0000, 0x3ffe2000) written), so the plannable RAM stops 32 MiB short of 1 GiB, and starts at 2 MiB, above
 * the shim, its multiboot information and the legacy area.
 * arm64 (`qemu-system-aarch64 -M virt -cpu cortex-a57 -m 2G`): RAM is [0x40000000, 0xc0000000); the built-in
 * profile arm64-virt-2g (first 32 MiB reserved as the running kernel) is already this machine.
 */
import {fileURLToPath} from 'node:url';
import {makeMemoryMap, type MemoryMap} from '../../plan/memory-map.js';
import {getProfile, type MachineProfile} from '../../plan/profiles.js';
import {Range} from '../../plan/range.js';

export type QemuArch = 'amd64' | 'arm64';

export const QEMU_ARCHES: readonly QemuArch[] = ['amd64', 'arm64'];

const MiB = 0x100000n;

/** Where the amd64 shim lives: its image, page tables, stack and the multiboot information QEMU puts after it. */
export const QEMU_SHIM_RANGE = new Range(MiB, 2n * MiB);

/** The amd64 machine's memory map for planning: RAM [2 MiB, 1 GiB - 32 MiB). */
export const QEMU_AMD64_MEMORY_MAP: MemoryMap = makeMemoryMap('profile qemu-amd64-1g', [
  {range: new Range(0n, MiB), type: 'reserved', label: 'real-mode memory, VGA and BIOS'},
  {range: QEMU_SHIM_RANGE, type: 'reserved', label: 'qemu-shim (image, page tables, stack, multiboot info)'},
  {range: new Range(2n * MiB, 0x3e000000n), type: 'ram'},
  {range: new Range(0x3e000000n, 0x40000000n), type: 'reserved', label: 'SeaBIOS high memory and ACPI tables'},
]);

export const QEMU_AMD64_PROFILE: MachineProfile = Object.freeze({
  name: 'qemu-amd64-1g',
  arch: 'amd64',
  pageSize: 0x1000n,
  description: 'QEMU pc, 1 GiB RAM, entered through qemu-shim in the state FreeBSD 16 amd64 kexec leaves',
  memoryMap: QEMU_AMD64_MEMORY_MAP,
});

export interface QemuMachine {
  readonly arch: QemuArch;
  /** Binary name looked up on PATH, and the Debian package that installs it. */
  readonly binary: string;
  readonly debianPackage: string;
  /** The machine options, for messages and the command line. */
  readonly machineArgs: readonly string[];
  /** All guest RAM of that machine (segments outside it would not be loaded at all). */
  readonly ram: readonly Range[];
  /** Guest memory the boot path itself uses, which no segment may overlap. */
  readonly occupied: readonly {range: Range; label: string}[];
  /** The profile the planner must use; the backend's memoryMap() returns its map. */
  readonly profile: MachineProfile;
}

export const QEMU_MACHINES: {readonly [A in QemuArch]: QemuMachine} = {
  amd64: {
    arch: 'amd64',
    binary: 'qemu-system-x86_64',
    debianPackage: 'qemu-system-x86',
    machineArgs: ['-M', 'pc', '-m', '1G'],
    ram: [new Range(0n, 0xa0000n), new Range(MiB, 0x40000000n)],
    occupied: [{range: QEMU_SHIM_RANGE, label: 'the qemu-shim image, page tables, stack and multiboot info'}],
    profile: QEMU_AMD64_PROFILE,
  },
  arm64: {
    arch: 'arm64',
    binary: 'qemu-system-aarch64',
    debianPackage: 'qemu-system-arm',
    machineArgs: ['-M', 'virt', '-cpu', 'cortex-a57', '-m', '2G'],
    ram: [new Range(0x40000000n, 0xc0000000n)],
    occupied: [],
    profile: getProfile('arm64-virt-2g'),
  },
};

/** The committed shim (examples/qemu-shim/shim.elf), found from src/backend/qemu and from dist/backend/qemu. */
export function defaultShimPath(): string {
  return fileURLToPath(new URL('../../../examples/qemu-shim/shim.elf', import.meta.url));
}

/** `qemu-system-x86_64 -M pc -m 1G`, for messages. */
export function describeMachine(m: QemuMachine): string {
  return [m.binary, ...m.machineArgs].join(' ');
}
