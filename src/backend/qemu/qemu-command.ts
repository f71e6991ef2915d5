/**
 * The QEMU command line that boots a staged plan, built as data (binary + argv, no shell) so it can be shown,
 * tested and run as is. Segment files go in with QEMU's generic loader (`-device loader,file=,addr=,force-raw=on`),
 * which writes them to guest RAM at reset, before any guest code runs; the zero fill up to memsz is the
 * emulated RAM's own initial state (fresh QEMU RAM is zero, and no firmware touches the plannable ranges).
 *  - arm64: a last `-device loader,addr=ENTRY,cpu-num=0` starts CPU 0 at the entry, at EL1 with the MMU and
 *    caches off and no firmware at all, which is what kexec_reboot_bottom leaves.
 *  - amd64: SeaBIOS boots qemu-shim (`-kernel shim.elf -append entry=0x..`), which enters the entry in long
 *    mode with the low 4 GiB identity-mapped, as kexec_do_reboot does; isa-debug-exit on port 0xf4 lets a guest
 *    end QEMU.
 * Serial port 0 is QEMU's stdout (`-serial stdio -monitor none`); -no-reboot turns a guest reset or triple fault
 * into an exit instead of a boot loop.
 */
import {KexecError, hex} from '../../errors.js';
import type {QemuMachine} from './qemu-machines.js';

export interface LoaderBlob {
  /** A file holding exactly the bytes to write (a staged segment-NN.bin). */
  readonly file: string;
  /** Guest physical address of its first byte. */
  readonly addr: bigint;
}

export interface QemuCommandInput {
  readonly machine: QemuMachine;
  readonly blobs: readonly LoaderBlob[];
  readonly entry: bigint;
  /** amd64: the multiboot shim. */
  readonly shim?: string;
  /** Overrides machine.binary (a name on PATH or a path). */
  readonly binary?: string;
}

export interface QemuInvocation {
  readonly binary: string;
  readonly args: readonly string[];
  /** The Debian package to name when the binary is missing. */
  readonly debianPackage: string;
}

/** QEMU option values separate fields with commas; a literal comma is written twice. */
export function qemuOptionValue(value: string): string {
  return value.replaceAll(',', ',,');
}

export function qemuCommand(input: QemuCommandInput): QemuInvocation {
  const m = input.machine;
  const common = [...m.machineArgs, '-nographic', '-no-reboot', '-serial', 'stdio', '-monitor', 'none'];
  const loaders = input.blobs.flatMap((b) => ['-device', `loader,file=${qemuOptionValue(b.file)},addr=${hex(b.addr)},force-raw=on`]);
  let args: string[];
  if (m.arch === 'arm64') {
    args = [...common, ...loaders, '-device', `loader,addr=${hex(input.entry)},cpu-num=0`];
  } else {
    if (input.shim === undefined) throw new KexecError('internal', 'qemu: the amd64 command line needs the qemu-shim path', {reason: 'qemu-shim-missing'});
    args = [
      ...common, '-nic', 'none', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
      '-kernel', input.shim, '-append', `entry=${hex(input.entry)}`, ...loaders,
    ];
  }
  return {binary: input.binary ?? m.binary, args, debianPackage: m.debianPackage};
}

/** The command as one shell-quoted line, for reports and error details. */
export function formatCommand(inv: Pick<QemuInvocation, 'binary' | 'args'>): string {
  const quote = (s: string): string => (/^[A-Za-z0-9_./=,:@%+-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);
  return [inv.binary, ...inv.args].map(quote).join(' ');
}
