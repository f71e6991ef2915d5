/**
 * The QEMU command lines the backend runs (src/backend/qemu/qemu-command.ts), as the task and QEMU's generic
 * loader documentation describe them: machine options, serial on stdout with no monitor, -no-reboot, one loader
 * device per segment, the arm64 CPU started at the entry, the amd64 shim with entry= on its command line and
 * isa-debug-exit, commas in file names doubled, and a quoted one-line form for messages.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {formatCommand, qemuCommand, qemuOptionValue} from '../../src/backend/qemu/qemu-command.js';
import {QEMU_MACHINES} from '../../src/backend/qemu/qemu-machines.js';
import {KexecError} from '../../src/errors.js';

const BLOBS = [{file: '/s/segment-00.bin', addr: 0x42000000n}, {file: '/s/segment-01.bin', addr: 0x42200000n}];

test('arm64: virt, cortex-a57, 2G; a loader per segment; CPU 0 starts at the entry (last)', () => {
  const inv = qemuCommand({machine: QEMU_MACHINES.arm64, blobs: BLOBS, entry: 0x42a1b000n});
  assert.equal(inv.binary, 'qemu-system-aarch64');
  assert.equal(inv.debianPackage, 'qemu-system-arm');
  assert.deepEqual(inv.args, [
    '-M', 'virt', '-cpu', 'cortex-a57', '-m', '2G', '-nographic', '-no-reboot', '-serial', 'stdio', '-monitor', 'none',
    '-device', 'loader,file=/s/segment-00.bin,addr=0x42000000,force-raw=on',
    '-device', 'loader,file=/s/segment-01.bin,addr=0x42200000,force-raw=on',
    '-device', 'loader,addr=0x42a1b000,cpu-num=0',
  ]);
});

test('amd64: pc, 1G, no NIC, isa-debug-exit at 0xf4, the shim as multiboot kernel with entry=, then the segments', () => {
  const inv = qemuCommand({machine: QEMU_MACHINES.amd64, blobs: BLOBS.map((b, i) => ({...b, addr: 0x200000n * BigInt(i + 1)})), entry: 0x300000n, shim: '/x/shim.elf'});
  assert.equal(inv.binary, 'qemu-system-x86_64');
  assert.equal(inv.debianPackage, 'qemu-system-x86');
  assert.deepEqual(inv.args, [
    '-M', 'pc', '-m', '1G', '-nographic', '-no-reboot', '-serial', 'stdio', '-monitor', 'none',
    '-nic', 'none', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', '/x/shim.elf', '-append', 'entry=0x300000',
    '-device', 'loader,file=/s/segment-00.bin,addr=0x200000,force-raw=on',
    '-device', 'loader,file=/s/segment-01.bin,addr=0x400000,force-raw=on',
  ]);
});

test('amd64 without a shim path is an internal error', () => {
  assert.throws(() => qemuCommand({machine: QEMU_MACHINES.amd64, blobs: [], entry: 0x300000n}), (e: unknown) => e instanceof KexecError && e.code === 1);
});

test('a binary override replaces the name; commas in loader file names are doubled', () => {
  const inv = qemuCommand({machine: QEMU_MACHINES.arm64, blobs: [{file: '/tmp/a,b/seg.bin', addr: 0x42000000n}], entry: 0x42000000n, binary: '/opt/q/bin/qemu'});
  assert.equal(inv.binary, '/opt/q/bin/qemu');
  assert.ok(inv.args.includes('loader,file=/tmp/a,,b/seg.bin,addr=0x42000000,force-raw=on'));
  assert.equal(qemuOptionValue('a,,b,'), 'a,,,,b,,');
});

test('formatCommand quotes what a shell would split', () => {
  assert.equal(formatCommand({binary: 'qemu', args: ['-append', 'entry=0x1', '-kernel', "/it's here/shim.elf"]}),
    "qemu -append entry=0x1 -kernel '/it'\\''s here/shim.elf'");
});
