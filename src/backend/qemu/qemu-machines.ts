/**
 * The two machines the QEMU backend emulates, as data: the QEMU binary and its Debian package, the guest RAM QEMU
 * gives the machine, what must stay free of plan segments (the amd64 multiboot shim in [1 MiB, 2 MiB)), and the
 * machine profile the planner must plan against (src/memory/profiles.ts: qemu-amd64-1g, arm64-virt-2g, where the
 * layout of each machine is explained).
 */
import {fileURLToPath} from 'node:url';
import {getProfile, type MachineProfile} from '../../memory/profiles.js';
import {Range} from '../../memory/range.js';

export type QemuArch = 'amd64' | 'arm64';

export const QEMU_ARCHES: readonly QemuArch[] = ['amd64', 'arm64'];

const MiB = 0x100000n;

/** Where the amd64 shim lives: its image, page tables, stack and the multiboot information QEMU puts after it. */
export const QEMU_SHIM_RANGE = new Range(MiB, 2n * MiB);

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
    profile: getProfile('qemu-amd64-1g'),
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
