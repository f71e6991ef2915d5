/**
 * What the QEMU backend refuses before starting QEMU (src/backend/qemu/preflight.ts), as a table of named
 * boundary cases on both machines: the wrong architecture, segments that leave the emulated RAM by one byte,
 * segments touching the amd64 shim's [1 MiB, 2 MiB), and entries the machine cannot reach. Every refusal is
 * exit 5 with its own reason; the cases just inside the limits pass.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {checkBootable, type BootableShape} from '../../src/backend/qemu/preflight.js';
import {QEMU_MACHINES, type QemuArch} from '../../src/backend/qemu/qemu-machines.js';
import {KexecError} from '../../src/errors.js';

const seg = (mem: bigint, memsz: bigint): {mem: bigint; memsz: bigint} => ({mem, memsz});
const MiB = 0x100000n;

const CASES: {name: string; arch: QemuArch; plan: BootableShape; reason?: string; message?: RegExp}[] = [
  {name: 'amd64: a plan at 2 MiB', arch: 'amd64', plan: {arch: 'amd64', entry: 0x300000n, segments: [seg(2n * MiB, 0x200000n)]}},
  {name: 'amd64: ends exactly at 1 GiB', arch: 'amd64', plan: {arch: 'amd64', entry: 0x3ff00000n, segments: [seg(0x3ff00000n, MiB)]}},
  {name: 'amd64: one byte past 1 GiB', arch: 'amd64', plan: {arch: 'amd64', entry: 0x3ff00000n, segments: [seg(0x3ff00000n, MiB + 0x1000n)]},
    reason: 'segment-outside-ram', message: /segment 0 \[0x3ff00000, 0x40001000\) is outside the emulated RAM of qemu-system-x86_64 -M pc -m 1G/},
  {name: 'amd64: the legacy hole at 0xa0000', arch: 'amd64', plan: {arch: 'amd64', entry: 0x9f000n, segments: [seg(0x9f000n, 0x2000n)]}, reason: 'segment-outside-ram'},
  {name: 'amd64: last page of the shim range', arch: 'amd64', plan: {arch: 'amd64', entry: 0x1ff000n, segments: [seg(0x1ff000n, 0x1000n)]},
    reason: 'segment-overlaps-shim', message: /overlaps \[0x100000, 0x200000\), the qemu-shim image/},
  {name: 'amd64: straddling 2 MiB', arch: 'amd64', plan: {arch: 'amd64', entry: 0x200000n, segments: [seg(0x1ff000n, 0x2000n)]}, reason: 'segment-overlaps-shim'},
  {name: 'amd64: an empty segment is not checked', arch: 'amd64', plan: {arch: 'amd64', entry: 0x200000n, segments: [seg(0x200000n, 0x1000n), seg(0x100000n, 0n)]}},
  {name: 'amd64: entry outside RAM', arch: 'amd64', plan: {arch: 'amd64', entry: 0xfee00000n, segments: [seg(0x200000n, 0x1000n)]}, reason: 'entry-unreachable'},
  {name: 'amd64: entry above 4 GiB', arch: 'amd64', plan: {arch: 'amd64', entry: 0x100000000n, segments: [seg(0x200000n, 0x1000n)]},
    reason: 'entry-unreachable', message: /identity-map only 0-4 GiB/},
  {name: 'amd64 machine, arm64 plan', arch: 'amd64', plan: {arch: 'arm64', entry: 0x42000000n, segments: []}, reason: 'arch-mismatch',
    message: /the plan is for arm64, but this QEMU backend emulates amd64/},
  {name: 'arm64: a plan at 0x42000000', arch: 'arm64', plan: {arch: 'arm64', entry: 0x42a00000n, segments: [seg(0x42000000n, 0xa01000n)]}},
  {name: 'arm64: first byte of RAM', arch: 'arm64', plan: {arch: 'arm64', entry: 0x40000000n, segments: [seg(0x40000000n, 0x1000n)]}},
  {name: 'arm64: one page below RAM', arch: 'arm64', plan: {arch: 'arm64', entry: 0x40000000n, segments: [seg(0x3ffff000n, 0x2000n)]}, reason: 'segment-outside-ram'},
  {name: 'arm64: ends at 0xc0000000', arch: 'arm64', plan: {arch: 'arm64', entry: 0xbffff000n, segments: [seg(0xbffff000n, 0x1000n)]}},
  {name: 'arm64: past 0xc0000000', arch: 'arm64', plan: {arch: 'arm64', entry: 0xbffff000n, segments: [seg(0xbffff000n, 0x2000n)]}, reason: 'segment-outside-ram'},
  {name: 'arm64: entry in the flash at 0', arch: 'arm64', plan: {arch: 'arm64', entry: 0x0n, segments: [seg(0x42000000n, 0x1000n)]}, reason: 'entry-unreachable'},
  {name: 'arm64 machine, amd64 plan', arch: 'arm64', plan: {arch: 'amd64', entry: 0x300000n, segments: []}, reason: 'arch-mismatch'},
];

for (const c of CASES) {
  test(`${c.reason === undefined ? 'boots' : `refused (${c.reason})`}: ${c.name}`, () => {
    if (c.reason === undefined) {
      checkBootable(c.plan, QEMU_MACHINES[c.arch]);
      return;
    }
    assert.throws(() => checkBootable(c.plan, QEMU_MACHINES[c.arch]), (e: unknown) => {
      assert.ok(e instanceof KexecError);
      assert.equal(e.code, 5);
      assert.equal(e.reason, c.reason);
      assert.match(e.message, /^qemu: /);
      if (c.message !== undefined) assert.match(e.message, c.message);
      return true;
    });
  });
}
