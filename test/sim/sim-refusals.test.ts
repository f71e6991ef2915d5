/**
 * kexec_load's refusals on the simulated machine: each errno of kern_kexec.c (and the man page's stricter rules)
 * with exit 5, reason = the errno name, a message naming the backend and the call, and the kernel's order of
 * checks where two apply. A refused load leaves the previously staged image in place.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {SimBackend} from '../../src/backend/sim/index.js';
import {getProfile} from '../../src/memory/profiles.js';
import type {Plan, Segment} from '../../src/plan/types.js';
import {FLAT, refusal, smallPlan, tempStateDir} from './sim-fixtures.js';

function seg(mem: bigint, memsz = 0x1000n, bufsz = 0n): Segment {
  return {mem, memsz, bufsz, parts: [], contents: [], sha256: '0'.repeat(64)};
}

/** A hand-built plan (the planner would never produce these). */
function handPlan(segments: Segment[], over: Partial<Plan> = {}): Plan {
  return {
    arch: 'amd64', machine: 62, kind: 'elf', pageSize: 0x1000n, entry: segments[0]?.mem ?? 0n, flags: 0n, segments,
    memoryMap: FLAT, files: ['hand.elf'], merges: [], notes: [], handoff: {kind: 'elf'}, digest: 'f'.repeat(64), ...over,
  };
}

const seventeen = (): Segment[] => Array.from({length: 17}, (_, i) => seg(0x100000n + BigInt(i) * 0x2000n));

test('EPERM when the machine is not privileged (not root)', async (t) => {
  const sim = new SimBackend({stateDir: tempStateDir(t), privileged: false});
  await refusal(sim.load(smallPlan()), 5, 'EPERM', /^sim: kexec_load\(0x200010, 2, segments, 0x0\) = EPERM: not root/);
  await refusal(sim.unload(), 5, 'EPERM', /^sim: kexec_load\(0, 0, NULL, 0\) = EPERM: not root/);
  await refusal(sim.exec({}), 5, 'EPERM', /^sim: reboot\(RB_KEXEC\) = EPERM: not root/);
  // checked before the segment count, as sys_kexec_load does before kern_kexec_load
  await refusal(sim.load(handPlan(seventeen())), 5, 'EPERM', /not root/);
});

test('EPERM at securelevel 1 (checked before privilege); securelevel 0 is allowed', async (t) => {
  const stateDir = tempStateDir(t);
  await refusal(new SimBackend({stateDir, securelevel: 1, privileged: false}).load(smallPlan()), 5, 'EPERM', /= EPERM: securelevel is 1/);
  const ok = new SimBackend({stateDir, securelevel: 0, privileged: true});
  assert.equal((await ok.load(smallPlan())).backend, 'sim');
});

test('EINVAL for more than 16 segments (KEXEC_SEGMENT_MAX)', async (t) => {
  const sim = new SimBackend({stateDir: tempStateDir(t)});
  await refusal(sim.load(handPlan(seventeen())), 5, 'EINVAL', /= EINVAL: 17 segments, more than KEXEC_SEGMENT_MAX \(16\)/);
});

test('EINVAL when a segment is outside the machine\'s phys segs (planned against another map)', async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir, profile: getProfile('amd64-4g')});
  const before = await sim.load(smallPlan(1, {base: 0x1000000n}));
  const p = smallPlan(2, {base: 0xb0100000n}); // fine in flat-4g, the running kernel's memory in amd64-4g
  const e = await refusal(sim.load(p), 5, 'EINVAL', /segment 0 \[0xb0100000, 0xb0103000\): not inside one physical segment \(vm\.phys_segs\) of profile amd64-4g/);
  assert.match(e.hint ?? '', /memory map/);
  assert.deepEqual((await sim.status()).staged, before, 'the refused load left the previous image staged');
});

test('EINVAL when bufsz > memsz, in mem order', async (t) => {
  const sim = new SimBackend({stateDir: tempStateDir(t)});
  const p = handPlan([seg(0x100000n), seg(0x300000n, 0x1000n, 0x2000n)]);
  await refusal(sim.load(p), 5, 'EINVAL', /segment 1 \[0x300000, 0x301000\): bufsz 0x2000 is larger than memsz 0x1000/);
});

test('ENOSYS for an architecture without kexec_load_md (riscv64), after the segment checks', async (t) => {
  const stateDir = tempStateDir(t);
  const sim = new SimBackend({stateDir});
  await refusal(sim.load(smallPlan(1, {arch: 'riscv64'})), 5, 'ENOSYS', /= ENOSYS: kexec_load_md returns ENOSYS on riscv64/);
  // ENOSYS comes after the per-segment EINVAL checks ...
  const outside = handPlan([seg(0x200000000n)], {arch: 'riscv64'});
  await refusal(sim.load(outside), 5, 'EINVAL', /not inside one physical segment/);
  // ... and before the man page's rules (flags must be 0)
  await refusal(sim.load(handPlan([seg(0x100000n)], {arch: 'riscv64', flags: 1n})), 5, 'ENOSYS', /riscv64/);
  // a riscv64 machine refuses any image
  const rv = new SimBackend({stateDir: tempStateDir(t), profile: getProfile('riscv64-virt-2g')});
  await refusal(rv.load(smallPlan(1, {base: 0x90000000n})), 5, 'ENOSYS', /on riscv64/);
});

test('the man page\'s rules: EINVAL with the shared validator\'s message', async (t) => {
  const sim = new SimBackend({stateDir: tempStateDir(t)});
  await refusal(sim.load(handPlan([seg(0x100000n)], {flags: 1n})), 5, 'EINVAL', /= EINVAL: flags 0x1 must be 0/);
  await refusal(sim.load(handPlan([seg(0x100800n)])), 5, 'EINVAL', /mem 0x100800 is not aligned to the page size 0x1000/);
  await refusal(sim.load(handPlan([seg(0x100000n, 0x2000n), seg(0x101000n)])), 5, 'EINVAL', /overlaps segment 1/);
  await refusal(sim.load(handPlan([seg(0x100000n)], {entry: 0x500000n})), 5, 'EINVAL', /entry 0x500000 is not inside any segment/);
  const e = await refusal(sim.load(handPlan([seg(0x100000n, 0n)])), 5, 'EINVAL', /memsz is 0/);
  assert.equal((e.details as {rule?: string}).rule, 'memsz-zero');
  assert.equal((await sim.status()).staged, null);
});

test('the machine\'s page size applies: a 4 KiB-aligned plan is refused by a 16 KiB-page machine', async (t) => {
  const stateDir = tempStateDir(t);
  const base = getProfile('flat-4g');
  const sim = new SimBackend({stateDir, profile: {...base, name: 'flat-16k', pageSize: 0x4000n}});
  await refusal(sim.load(smallPlan(1, {base: 0x201000n})), 5, 'EINVAL', /not aligned to the page size 0x4000/);
});

test('the kernel does not know the image\'s architecture: an arm64 image loads on an amd64 machine, exec refuses it', async (t) => {
  const sim = new SimBackend({stateDir: tempStateDir(t), profile: getProfile('amd64-4g')});
  await sim.load(smallPlan(1, {arch: 'arm64', base: 0x1000000n}));
  await refusal(sim.exec({}), 5, 'arch-mismatch', /the image is for arm64 but the machine is amd64/);
});
