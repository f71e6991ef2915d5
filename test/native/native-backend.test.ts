/**
 * The native backend (src/backend/native) run in-process against a gcc-built mock of kexec_load/reboot
 * (test/native/mock-lib.ts): what reaches the C side must be the plan byte for byte, sorted by mem (FreeBSD
 * sys/kern/kern_kexec.c sorts and copyin()s exactly these), errnos map to the documented exits and messages, and
 * reboot gets RB_KEXEC as sys/sys/reboot.h defines it. The real system calls are never reached.
 */
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {constants} from 'node:os';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {KexecError} from '../../src/errors.js';
import type {Image, Piece} from '../../src/image/types.js';
import {parseMemoryMapText} from '../../src/memory/map-file.js';
import type {MemoryMap} from '../../src/memory/memory-map.js';
import {planFieldDigests} from '../../src/plan/digest.js';
import {plan} from '../../src/plan/planner.js';
import type {Plan} from '../../src/plan/types.js';
import {NativeBackend, hostArch, type NativeBackendOptions} from '../../src/backend/native/native-backend.js';
import {nextbootOf, stagedRecord} from '../../src/backend/staging/staged-record.js';
import {buildMock, haveGcc, readMockLog, type MockLog} from './mock-lib.js';
import {materializeBytes} from '../../src/io/file-bytes.js';

const ERRNO = constants.errno;
let dir = '';
let lib = '';
let header = '';
let memmap = '';
let logN = 0;

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = ((i * 31 + seed * 17) & 0xff) | 1;
  return out;
}

/** A fresh mock log for the next calls; `errno` makes both mock functions fail with it. */
function freshLog(errno?: number): string {
  const path = join(dir, `log${++logN}`);
  process.env.KEXEC_MOCK_LOG = path;
  if (errno === undefined) delete process.env.KEXEC_MOCK_ERRNO;
  else process.env.KEXEC_MOCK_ERRNO = String(errno);
  return path;
}

/** A memory map file as the door reads it for the backend. */
function memmapOf(path: string): MemoryMap {
  return parseMemoryMapText(readFileSync(path, 'utf8'), path);
}

function backend(extra: Partial<NativeBackendOptions> = {}): NativeBackend {
  return new NativeBackend({library: lib, rebootHeader: header, memoryMap: memmapOf(memmap), recordDir: join(dir, 'records'), ...extra});
}

async function rejects(p: Promise<unknown>, code: number, reason: string, pattern: RegExp): Promise<KexecError> {
  let caught: unknown;
  await p.then(() => assert.fail('expected a rejection'), (e: unknown) => void (caught = e));
  assert.ok(caught instanceof KexecError, String(caught));
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.reason, reason, caught.message);
  assert.match(caught.message, pattern);
  return caught;
}

// The image: a kernel view into a larger buffer (one part: passed without a copy), two small pieces sharing a
// segment (gap zero-filled, so copied), and a bss-only segment (bufsz 0). Listed out of address order.
const big = pattern(0x3000, 1);
const kernelView = big.subarray(0x100, 0x100 + 0x2800);
const pieces: Piece[] = [
  {label: 'bss', mem: 0x1000000n, data: new Uint8Array(0), memsz: 0x2000n},
  {label: 'b', mem: 0x800f00n, data: pattern(0x20, 3), memsz: 0x20n},
  {label: 'kernel', mem: 0x200000n, data: kernelView, memsz: 0x4000n},
  {label: 'a', mem: 0x800010n, data: pattern(5, 2), memsz: 5n},
];
const image: Image = {kind: 'elf', arch: hostArch(), machine: 62, files: ['kernel.elf'], fixed: pieces, entry: 0x200010n};

/** The bytes a segment must carry, built from the pieces (independently of the planner's parts). */
function expectedBuf(mem: bigint, bufsz: bigint): Uint8Array {
  const out = new Uint8Array(Number(bufsz));
  for (const p of pieces) if (p.mem >= mem && p.mem < mem + bufsz) out.set(materializeBytes(p.data), Number(p.mem - mem));
  return out;
}

let thePlan: Plan;

describe('native backend against a mock libc', {skip: haveGcc() ? false : 'gcc not found'}, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kexec-native-'));
    lib = buildMock(dir);
    header = join(dir, 'reboot.h');
    writeFileSync(header, '#define RB_MUTEMSGS 0x800000 /* mute */\n#define RB_KEXEC_X 0x4\n#define\tRB_KEXEC\t0x1000000 /* kexec */\n#define RB_PROBE 0x10000000\n');
    memmap = join(dir, 'map.json');
    writeFileSync(memmap, JSON.stringify({ranges: [{start: '0x100000', end: '0x8000000', type: 'ram'}]}));
    thePlan = plan(image, (await backend().target()).memoryMap, {pageSize: 0x1000n});
    assert.equal(thePlan.segments.length, 3);
  });
  after(() => {
    delete process.env.KEXEC_MOCK_LOG;
    delete process.env.KEXEC_MOCK_ERRNO;
    rmSync(dir, {recursive: true, force: true});
  });

  it('probe: available with the mock library, arch from process.arch', async () => {
    const p = await backend().probe();
    assert.equal(p.available, true, p.reason);
    assert.equal(p.arch, hostArch());
    assert.deepEqual(['x64', 'arm64'].map((a) => hostArch(a)), ['amd64', 'arm64']);
  });

  it('probe: unavailable (with the reason) when the library does not load', async () => {
    const p = await backend({library: join(dir, 'missing.so')}).probe();
    assert.equal(p.available, false);
    assert.match(p.reason ?? '', /missing\.so/);
  });

  it('probe and target off FreeBSD without a library or map: unavailable, the command named', {skip: process.platform === 'freebsd'}, async () => {
    const p = await new NativeBackend({recordDir: dir}).probe();
    assert.equal(p.available, false);
    assert.match(p.reason ?? '', /not FreeBSD/);
    await rejects(new NativeBackend({recordDir: dir}).target(), 5, 'memory-map-unavailable', /`sysctl -n vm\.phys_segs` failed/);
  });

  it('load passes the plan to kexec_load byte for byte, sorted by mem, flags 0, and records it', async () => {
    const log = freshLog();
    const rec = await backend().load(thePlan);
    const {loads, reboots}: MockLog = readMockLog(log);
    assert.equal(reboots.length, 0);
    assert.equal(loads.length, 1);
    const call = loads[0];
    assert.ok(call !== undefined);
    assert.equal(call.entry, 0x200010n);
    assert.equal(call.nseg, 3);
    assert.equal(call.flags, 0);
    assert.deepEqual(call.segments.map((s) => s.mem), [0x200000n, 0x800000n, 0x1000000n]);
    call.segments.forEach((got, i) => {
      const want = thePlan.segments[i];
      assert.ok(want !== undefined);
      assert.deepEqual([got.bufsz, got.mem, got.memsz], [want.bufsz, want.mem, want.memsz], `segment ${i}`);
      const bytes = readFileSync(`${log}.seg${i}`);
      assert.deepEqual(new Uint8Array(bytes), expectedBuf(want.mem, want.bufsz), `segment ${i} bytes`);
      const h = createHash('sha256').update(bytes).update(new Uint8Array(Number(want.memsz - want.bufsz)));
      assert.equal(h.digest('hex'), want.sha256, `segment ${i} digest`);
    });
    assert.deepEqual(call.segments.map((s) => s.bufsz), [0x2800n, 0xf20n, 0n]);
    assert.equal(call.segments[2]?.buf, 0n, 'bufsz 0 passes NULL');
    const koffi = (await import('koffi')).default;
    assert.equal(call.segments[0]?.buf, koffi.address(kernelView), 'a one-view segment is passed without a copy');
    assert.deepEqual({...rec, stagedAt: ''}, {
      backend: 'native', digest: thePlan.digest, fields: planFieldDigests(thePlan), kind: 'elf', arch: hostArch(), entry: '0x200010',
      files: ['kernel.elf'], segments: 3, memsz: '0x7000', stagedAt: '', rbKexec: '0x1000000',
    });
    assert.deepEqual((await backend().status()).staged, rec);
    assert.deepEqual(readdirSync(join(dir, 'records')), ['staged.json'], 'no temp files left behind');
  });

  it('load re-validates against the memory map and refuses before any syscall', async () => {
    const log = freshLog();
    const small = join(dir, 'small.json');
    writeFileSync(small, JSON.stringify({ranges: [{start: '0x100000', end: '0x900000'}]}));
    await rejects(backend({memoryMap: memmapOf(small)}).load(thePlan), 5, 'target-phys-seg', /segment 2 \[0x1000000, 0x1002000\)/);
    const other = {...thePlan, arch: hostArch() === 'arm64' ? 'amd64' : 'arm64'};
    await rejects(backend().load(other), 5, 'arch-mismatch', /plan is for/);
    assert.deepEqual(readMockLog(log), {loads: [], reboots: []});
  });

  it('load validates against the host\'s hw.pagesize and vm.phys_segs, not the plan\'s own page size (sysctl read as on FreeBSD)', async () => {
    const log = freshLog();
    const phys = 'vm.phys_segs:\nSEGMENT 0:\n\nstart:     0x100000\nend:       0x8000000\ndomain:    0\nfree list: 0xffffffff81e5c8c8\n';
    const sysctl = (pagesize: string): NonNullable<NativeBackendOptions['sysctl']> => ({
      text: async (name) => ({'hw.pagesize': pagesize, 'vm.phys_segs': phys} as Record<string, string>)[name],
      binary: async () => undefined,
    });
    const t = await backend({memoryMap: undefined, sysctl: sysctl('16384')}).target();
    assert.deepEqual([t.pageSize, t.memoryMap.source, t.memoryMap.ranges.length], [0x4000n, 'vm.phys_segs (sysctl -n vm.phys_segs)', 1]);
    await rejects(backend({memoryMap: undefined, sysctl: sysctl('16384')}).load(thePlan), 5, 'target-page-size', /the plan was made for page size 0x1000, this host has 0x4000/);
    assert.deepEqual(readMockLog(log), {loads: [], reboots: []}, 'refused before kexec_load');
    freshLog();
    await backend({memoryMap: undefined, sysctl: sysctl('4096')}).load(thePlan);
    freshLog();
    await backend().unload();
  });

  it('kernel errnos map to the documented messages and exit codes', async () => {
    const cases: [string, number | undefined, number, RegExp][] = [
      ['EPERM', ERRNO.EPERM, 5, /not root, or securelevel > 0 \(kexec_load needs PRIV_REBOOT and securelevel <= 0\)/],
      ['EINVAL', ERRNO.EINVAL, 5, /checks only the count \(<= 16\), bufsz <= memsz.*re-plan with the live vm\.phys_segs/],
      ['EBUSY', ERRNO.EBUSY, 6, /another kexec_load is in progress/],
      ['ENOSYS', ERRNO.ENOSYS, 5, /only amd64 and arm64 have kexec_load_md/],
      ['EFAULT', ERRNO.EFAULT, 5, /bad buffer address \(a kexec-ts bug\)/],
      ['ENOMEM', ERRNO.ENOMEM, 5, /could not allocate/],
      ['ENOENT', ERRNO.ENOENT, 5, /ENOENT \(errno \d+\): unexpected error/],
    ];
    await backend().unload();
    for (const [name, errno, code, pattern] of cases) {
      assert.ok(errno !== undefined);
      freshLog(errno);
      const e = await rejects(backend().load(thePlan), code, name, pattern);
      assert.match(e.message, new RegExp(`^backend native: kexec_load\\(entry=0x200010, nseg=3, flags=0\\) failed with ${name} \\(errno ${errno}\\)`));
      assert.equal(e.details?.errno, errno);
      assert.equal((await backend().status()).staged, null, `${name}: nothing recorded`);
    }
  });

  it('exec without a record exits 7 and never calls reboot; --force calls reboot(RB_KEXEC)', async () => {
    let log = freshLog();
    await rejects(backend().exec({now: true}), 7, 'nothing-staged', /nothing is recorded as staged/);
    assert.deepEqual(readMockLog(log).reboots, []);
    log = freshLog();
    await rejects(backend().exec({force: true, now: true}), 5, 'reboot-returned', /reboot\(howto=0x1000000\) returned 0/);
    assert.deepEqual(readMockLog(log), {loads: [], reboots: [0x1000000]});
  });

  it('a plan that used nextboot.conf: exec disables it (config.lua checkNextboot) just before reboot(RB_KEXEC)', async () => {
    const nextboot = join(dir, 'nextboot.conf');
    writeFileSync(nextboot, 'nextboot_enable="YES"\nkernel="kernel.old"\n');
    const withNextboot = {...thePlan, handoff: {kind: 'freebsd', checklist: [{id: 'nextboot', title: 'nextboot.conf', status: 'present', severity: 'info', source: nextboot}]}} as unknown as Plan;
    assert.equal(nextbootOf(withNextboot), nextboot, 'the record keeps the file the plan used');
    assert.equal(stagedRecord('native', thePlan).nextboot, undefined);
    freshLog();
    await backend().load(thePlan);
    const recordFile = join(dir, 'records', 'staged.json');
    writeFileSync(recordFile, JSON.stringify({...JSON.parse(readFileSync(recordFile, 'utf8')), nextboot}));
    const log = freshLog();
    await rejects(backend().exec({now: true}), 5, 'reboot-returned', /reboot\(howto=0x1000000\)/);
    assert.deepEqual(readMockLog(log).reboots, [0x1000000]);
    assert.equal(readFileSync(nextboot, 'latin1'), 'nextboot_enable="NO" \nkernel="kernel.old"\n');
  });

  it('RB_KEXEC is resolved at load (header value, or an explicit rbKexec) and exec passes exactly the recorded value', async () => {
    freshLog();
    await backend().load(thePlan);
    let log = freshLog();
    await rejects(backend().exec({now: true}), 5, 'reboot-returned', /reboot\(howto=0x1000000\)/);
    assert.deepEqual(readMockLog(log).reboots, [0x1000000]);
    log = freshLog();
    await rejects(backend({rbKexec: 0x4000000n}).exec({now: true}), 5, 'reboot-returned', /reboot\(howto=0x1000000\)/);
    assert.deepEqual(readMockLog(log).reboots, [0x1000000], 'exec uses the value recorded at load, not a later setting');
    freshLog();
    await backend({rbKexec: 0x80000000}).load(thePlan);
    log = freshLog();
    await rejects(backend().exec({now: true}), 5, 'reboot-returned', /reboot\(howto=0x80000000\)/);
    assert.deepEqual(readMockLog(log).reboots, [0x80000000]);
    log = freshLog(ERRNO.EPERM);
    await rejects(backend().exec({now: true}), 5, 'EPERM', /reboot\(howto=0x80000000\) failed with EPERM .*not root/);
    assert.deepEqual(readMockLog(log).reboots, [0x80000000]);
  });

  it('load refuses before kexec_load, and a forced exec before reboot, when RB_KEXEC is unknown or not a single bit', async () => {
    freshLog();
    await backend().unload();
    const log = freshLog();
    const noKexec = join(dir, 'old-reboot.h');
    writeFileSync(noKexec, '#define RB_MUTEMSGS 0x800000\n#define RB_KEXEC_X 0x4\n');
    await rejects(backend({rebootHeader: noKexec}).load(thePlan), 5, 'rb-kexec-unknown', /RB_KEXEC is unknown on this system: .*old-reboot\.h has no #define RB_KEXEC/);
    await rejects(backend({rebootHeader: noKexec}).exec({force: true, now: true}), 5, 'rb-kexec-unknown', /old-reboot\.h has no #define RB_KEXEC/);
    await rejects(backend({rebootHeader: join(dir, 'none.h')}).load(thePlan), 5, 'rb-kexec-unknown', /cannot read .*none\.h \(ENOENT\)/);
    const e = await rejects(backend({rbKexec: 0x1000004}).load(thePlan), 2, 'bad-rb-kexec', /not a single reboot\(2\) howto bit/);
    assert.match(e.hint ?? '', /native\.rbKexec/);
    await rejects(backend({rbKexec: 0}).exec({force: true, now: true}), 2, 'bad-rb-kexec', /RB_KEXEC 0 from native\.rbKexec/);
    assert.deepEqual(readMockLog(log), {loads: [], reboots: []});
    assert.equal((await backend().status()).staged, null, 'nothing was staged');
  });

  it('unload calls kexec_load(0, 0, NULL, 0) and clears the record; a failed unload keeps it', async () => {
    freshLog();
    await backend().load(thePlan);
    let log = freshLog(ERRNO.EBUSY);
    await rejects(backend().unload(), 6, 'EBUSY', /kexec_load\(entry=0x0, nseg=0, flags=0\) failed with EBUSY/);
    assert.notEqual((await backend().status()).staged, null);
    log = freshLog();
    await backend().unload();
    assert.deepEqual(readMockLog(log), {loads: [{entry: 0n, nseg: 0, flags: 0, segsNull: true, segments: []}], reboots: []});
    const st = await backend().status();
    assert.deepEqual(st, {backend: 'native', staged: null, booted: null, stateDir: join(dir, 'records')});
    assert.equal(existsSync(join(dir, 'records', 'staged.json')), false);
  });

  it('a corrupt record is reported, naming the file', async () => {
    writeFileSync(join(dir, 'records', 'staged.json'), '{"backend":"sim"}');
    await rejects(backend().status(), 5, 'record-corrupt', /records\/staged\.json is not a kexec-ts native record: digest is missing/);
    rmSync(join(dir, 'records', 'staged.json'));
  });
});
