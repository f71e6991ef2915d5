/**
 * What must hold before QEMU is started, checked on load (against the Plan) and again on exec (against the staged
 * plan.json): the plan is for the emulated architecture, every segment lies in the guest RAM QEMU gives the
 * machine (QEMU's loader would otherwise drop or misplace the bytes silently), no segment overlaps what the boot
 * path itself occupies (the amd64 shim, its page tables and multiboot info), and the entry is one the machine
 * can reach (amd64: the shim jumps through its 0-4 GiB identity map). Refusals are exit 5 with one line each.
 */
import {KexecError, hex} from '../../errors.js';
import {Range} from '../../memory/range.js';
import {describeMachine, type QemuMachine} from './qemu-machines.js';

export interface BootableShape {
  readonly arch: string;
  readonly entry: bigint;
  readonly segments: readonly {readonly mem: bigint; readonly memsz: bigint}[];
}

function refuse(reason: string, message: string, details: Record<string, unknown> = {}): KexecError {
  return new KexecError('backend', `qemu: ${message}`, {reason, details});
}

export function checkBootable(plan: BootableShape, machine: QemuMachine): void {
  const where = describeMachine(machine);
  if (plan.arch !== machine.arch) {
    throw refuse('arch-mismatch', `the plan is for ${plan.arch}, but this QEMU backend emulates ${machine.arch} (${where})`, {
      planArch: plan.arch, machineArch: machine.arch,
    });
  }
  const ram = machine.ram.map((r) => r.toString()).join(', ');
  plan.segments.forEach((s, index) => {
    if (s.memsz === 0n) return;
    const seg = new Range(s.mem, s.mem + s.memsz);
    if (!machine.ram.some((r) => r.containsRange(seg))) {
      throw refuse('segment-outside-ram', `segment ${index} ${seg.toString()} is outside the emulated RAM of ${where} (${ram})`, {segment: index});
    }
    const hit = machine.occupied.find((o) => o.range.overlaps(seg));
    if (hit !== undefined) {
      throw refuse('segment-overlaps-shim', `segment ${index} ${seg.toString()} overlaps ${hit.range.toString()}, ${hit.label}`, {segment: index});
    }
  });
  if (machine.arch === 'amd64' && plan.entry >= 1n << 32n) {
    throw refuse('entry-unreachable', `entry ${hex(plan.entry)} is not below 4 GiB: the kexec page tables (and qemu-shim's) identity-map only 0-4 GiB`);
  }
  if (!machine.ram.some((r) => r.contains(plan.entry))) {
    throw refuse('entry-unreachable', `entry ${hex(plan.entry)} is outside the emulated RAM of ${where} (${ram})`);
  }
}
