/**
 * The QEMU backend's load / exec / status cycle and its verdict, without an emulator: a fake qemu-system-x86_64
 * (a shell script) prints the console a probe would print for a FreeBSD plan built by the real planner against
 * the backend's memory map, as the probe model (probe-model.ts) reads it from the plan's memory bytes, never from
 * the plan's hand-off. One correct transcript boots; then each way the probe's report can disagree with the
 * plan (CRC, address, size, type, missing and extra files, environment, howto, kernend, modulep, arch, malformed
 * lines, bytes changed after load), PROBE FAIL, silence, a hang (timeout) and a missing binary are refused with
 * exit 5 and their own reason, and the staged image stays for another try.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync, readdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {QemuBackend, createQemuBackend} from '../../src/backend/qemu/index.js';
import {getProfile} from '../../src/memory/profiles.js';
import {KexecError} from '../../src/errors.js';
import type {Plan} from '../../src/plan/types.js';
import {probeTranscript} from './probe-model.js';
import {fakeQemu, fixtureFreeBsdPlan, handoffOf, rawCodePlan, tempDir} from './qemu-fixtures.js';

interface Setup {
  readonly dir: string;
  readonly plan: Plan;
  readonly backend: (lines: readonly string[], o?: {exit?: number; sleepSeconds?: number; timeoutMs?: number; graceMs?: number}) => QemuBackend;
  readonly argsFile: () => string;
}

async function setup(t: {after: (fn: () => void) => void}): Promise<Setup> {
  const dir = tempDir(t);
  const plan = await fixtureFreeBsdPlan(dir, 'amd64');
  const stateDir = join(dir, 'state');
  let argsFile = '';
  const backend: Setup['backend'] = (lines, o = {}) => {
    const fake = fakeQemu(dir, lines, o);
    argsFile = fake.argsFile;
    return createQemuBackend({stateDir, arch: 'amd64', qemuBinary: fake.binary, timeoutMs: o.timeoutMs ?? 20000, graceMs: o.graceMs ?? 5000});
  };
  await backend([]).load(plan);
  return {dir, plan, backend, argsFile: () => argsFile};
}

/** Runs exec and returns the refusal, checking exit 5 and the reason. */
async function refused(b: QemuBackend, reason: string): Promise<KexecError> {
  const e = await b.exec({}).then(() => assert.fail('exec succeeded'), (x: unknown) => x);
  assert.ok(e instanceof KexecError, String(e));
  assert.equal(e.code, 5, e.message);
  assert.equal(e.reason, reason, e.message);
  assert.doesNotMatch(e.message, /\n/, 'one line');
  return e;
}

const replace = (lines: string[], match: RegExp, by: (l: string) => string | undefined): string[] =>
  lines.flatMap((l) => (match.test(l) ? [by(l)].filter((x): x is string => x !== undefined) : [l]));

describe('qemu backend with a fake QEMU', () => {
  test('a correct probe transcript boots: report lines, command line, nothing staged afterwards, booted recorded', async (t) => {
    const s = await setup(t);
    const h = handoffOf(s.plan);
    const lines = ['SeaBIOS (version test)', 'qemu-shim: long mode, identity map 0-4 GiB, interrupts off; entering 0x00300000', ...probeTranscript(s.plan)];
    const b = s.backend(lines);
    assert.deepEqual((await b.target()).memoryMap, getProfile('qemu-amd64-1g').memoryMap);
    assert.equal((await b.status()).staged?.backend, 'qemu');
    const report = await b.exec({});
    assert.equal(report.backend, 'qemu');
    assert.equal(report.digest, s.plan.digest);
    assert.equal(report.entry, `0x${s.plan.entry.toString(16)}`);
    assert.equal(report.segmentsVerified, s.plan.segments.length);
    assert.deepEqual(report.lines.slice(0, -1), lines);
    assert.match(report.lines.at(-1) ?? '', new RegExp(`^qemu: PROBE OK and the plan agrees: 2 files .*, ${Object.keys(h.env).length} environment variables, howto 0x800, modulep ${h.modulep}, kernend ${h.kernend}; QEMU ran`));
    const probe = report.handoff.probe as {files: {name: string; crc32: string}[]; env: Record<string, string>};
    assert.deepEqual(probe.files.map((f) => f.name), h.files.map((f) => f.name));
    assert.equal(probe.env['test.spaces'], 'a b=c');

    const args = readFileSync(s.argsFile(), 'utf8').trimEnd().split('\n');
    assert.deepEqual(args.slice(0, 4), ['-M', 'pc', '-m', '1G']);
    assert.equal(args[args.indexOf('-append') + 1], `entry=0x${s.plan.entry.toString(16)}`);
    assert.match(args[args.indexOf('-kernel') + 1] ?? '', /examples\/qemu-shim\/shim\.elf$/);
    const loaders = args.filter((a) => a.startsWith('loader,'));
    assert.equal(loaders.length, s.plan.segments.length);
    s.plan.segments.forEach((seg, i) => {
      assert.match(loaders[i] ?? '', new RegExp(`^loader,file=.*/segment-${String(i).padStart(2, '0')}\\.bin,addr=0x${seg.mem.toString(16)},force-raw=on$`));
    });

    const st = await b.status();
    assert.equal(st.backend, 'qemu');
    assert.equal(st.staged, null);
    assert.equal(st.booted?.digest, s.plan.digest);
    const again = await b.exec({}).then(() => undefined, (e: unknown) => e);
    assert.ok(again instanceof KexecError && again.code === 7 && again.reason === 'nothing-staged' && /qemu: nothing is staged/.test(again.message));
  });

  const hello = /^PROBE FILE name=\S*hello\.ko /;
  const MISMATCHES: {name: string; edit: (lines: string[]) => string[]; message: RegExp}[] = [
    {name: 'a module CRC off by one', edit: (l) => replace(l, hello, (x) => x.replace(/crc32=(0x[0-9a-f]+)$/, (_m, c: string) => `crc32=0x${((Number(c) ^ 1) >>> 0).toString(16).padStart(8, '0')}`)),
      message: /^qemu: crc mismatch for FILE \S+hello\.ko: the probe read crc32 0x[0-9a-f]{8}, the plan's bytes at physical 0x[0-9a-f]+, 0x[0-9a-f]+ bytes give 0x[0-9a-f]{8}$/},
    {name: 'a module at another address', edit: (l) => replace(l, hello, (x) => x.replace(/addr=0x([0-9a-f]+)/, (_m, a: string) => `addr=0x${(parseInt(a, 16) + 0x1000).toString(16)}`)),
      message: /FILE \S+hello\.ko: the probe found addr 0x[0-9a-f]+ size 0x[0-9a-f]+, the plan has addr/},
    {name: 'a module of another size', edit: (l) => replace(l, hello, (x) => x.replace(/size=0x[0-9a-f]+/, 'size=0x1')), message: /the probe found addr .* size 0x1, the plan has/},
    {name: 'another file type', edit: (l) => replace(l, hello, (x) => x.replace('type=elf obj module', 'type=elf module')), message: /the probe found type "elf module", the plan has "elf obj module"/},
    {name: 'a missing FILE line', edit: (l) => replace(l, hello, () => undefined), message: /the probe reported no FILE line for \S+hello\.ko \(the plan has it at 0x/},
    {name: 'an extra FILE line', edit: (l) => [...l.slice(0, 2), 'PROBE FILE name=/boot/extra.ko type=elf obj module addr=0x1000 size=0x10 crc32=0x00000000', ...l.slice(2)],
      message: /the probe reported FILE \/boot\/extra\.ko, which the plan does not load/},
    {name: 'an environment value changed', edit: (l) => replace(l, /^PROBE ENV hw\.qemu_test=/, () => 'PROBE ENV hw.qemu_test=no'), message: /ENV hw\.qemu_test: the probe found "no", the plan sets "yes"/},
    {name: 'an environment variable missing', edit: (l) => replace(l, /^PROBE ENV hw\.qemu_test=/, () => undefined), message: /the probe reported no ENV hw\.qemu_test \(the plan sets hw\.qemu_test=yes\)/},
    {name: 'an extra environment variable', edit: (l) => replace(l, /^PROBE HOWTO/, (x) => `PROBE ENV extra=1\n${x}`).flatMap((x) => x.split('\n')), message: /the probe reported ENV extra, which the plan does not set/},
    {name: 'another howto', edit: (l) => replace(l, /^PROBE HOWTO/, () => 'PROBE HOWTO 0x0'), message: /^qemu: HOWTO: the probe found 0x0, the plan has 0x800$/},
    {name: 'no HOWTO line', edit: (l) => replace(l, /^PROBE HOWTO/, () => undefined), message: /the probe reported no HOWTO/},
    {name: 'another KERNEND', edit: (l) => replace(l, /^PROBE KERNEND/, () => 'PROBE KERNEND 0x0'), message: /KERNEND: the probe found 0x0, the plan has 0x/},
    {name: 'entered with another modulep', edit: (l) => replace(l, /^PROBE BEGIN/, (x) => x.replace(/modulep=0x[0-9a-f]+/, 'modulep=0x1000')), message: /the probe was entered with modulep 0x1000, the plan passes 0x/},
    {name: 'entered with another kernend', edit: (l) => replace(l, /^PROBE BEGIN/, (x) => x.replace(/kernend=0x[0-9a-f]+/, 'kernend=0x0')), message: /the probe was entered with kernend 0x0, the plan passes 0x/},
    {name: 'another arch', edit: (l) => replace(l, /^PROBE BEGIN/, (x) => x.replace('arch=amd64', 'arch=arm64')), message: /the probe reports arch arm64, the plan is for amd64/},
    {name: 'no BEGIN line', edit: (l) => replace(l, /^PROBE BEGIN/, () => undefined), message: /the probe printed no PROBE BEGIN line/},
    {name: 'a malformed PROBE line', edit: (l) => ['PROBE FILE name=x', ...l], message: /console line 1 does not follow the probe protocol: "PROBE FILE name=x"/},
  ];

  for (const c of MISMATCHES) {
    test(`probe-mismatch: ${c.name}`, async (t) => {
      const s = await setup(t);
      const e = await refused(s.backend(c.edit(probeTranscript(s.plan))), 'probe-mismatch');
      assert.match(e.message, c.message);
      assert.ok(Array.isArray(e.details?.problems) && Array.isArray(e.details.console));
      assert.notEqual((await s.backend([]).status()).staged, null, 'the staged image stays for another try');
    });
  }

  test('probe-mismatch: one module byte flipped in the staged segment after load (the probe sees it, plan.json does not)', async (t) => {
    const s = await setup(t);
    const st = s.backend([]).stateDir;
    const gen = readdirSync(st).find((n) => n.startsWith('gen-')) ?? assert.fail('no generation');
    const h = handoffOf(s.plan);
    const mod = h.files.find((f) => f.name.endsWith('hello.ko')) ?? assert.fail('no hello.ko');
    const phys = (BigInt(mod.addr) + BigInt(h.physOffset)) & ((1n << 64n) - 1n);
    const index = s.plan.segments.findIndex((g) => g.mem <= phys && phys < g.mem + g.bufsz);
    const file = join(st, gen, `segment-${String(index).padStart(2, '0')}.bin`);
    const bytes = readFileSync(file);
    const at = Number(phys - (s.plan.segments[index]?.mem ?? 0n)) + 0x10;
    bytes[at] = (bytes[at] ?? 0) ^ 0x40;
    writeFileSync(file, bytes);
    const flippedPlan: Plan = {...s.plan, segments: s.plan.segments.map((g, i) => (i === index ? {...g, parts: [{offset: 0n, data: bytes}]} : g))};
    const e = await refused(s.backend(probeTranscript(flippedPlan)), 'probe-mismatch');
    const seg = String(index).padStart(2, '0');
    assert.match(e.message, new RegExp(`^qemu: segment-${seg}\\.bin was changed after load \\(SHA-256 [0-9a-f]{12}… instead of plan\\.json's [0-9a-f]{12}…\\): ` +
      `QEMU booted bytes at 0x${s.plan.segments[index]?.mem.toString(16)} that are not the plan's, holding .*FILE \\S+hello\\.ko$`));
  });

  test('the staged plan.json\'s modulep patched after load: refused before QEMU runs, naming the hand-off', async (t) => {
    const s = await setup(t);
    const st = s.backend([]).stateDir;
    const gen = readdirSync(st).find((n) => n.startsWith('gen-')) ?? assert.fail('no generation');
    const path = join(st, gen, 'plan.json');
    const json = JSON.parse(readFileSync(path, 'utf8')) as {handoff: {modulep: string}};
    json.handoff.modulep = `0x${(BigInt(json.handoff.modulep) + 0x1000n).toString(16)}`;
    writeFileSync(path, JSON.stringify(json));
    const e = await refused(s.backend(probeTranscript(s.plan)), 'plan-tampered');
    assert.match(e.message, /plan\.json: "handoff" changed since the image was loaded/);
  });

  test('probe-fail: PROBE FAIL with its reason; the console is in the details', async (t) => {
    const s = await setup(t);
    const e = await refused(s.backend(['PROBE BEGIN arch=amd64 modulep=0x1 kernend=0x2', 'PROBE FAIL no MODINFOMD_ENVP record']), 'probe-fail');
    assert.equal(e.message, 'qemu: PROBE FAIL no MODINFOMD_ENVP record');
    assert.deepEqual((e.details?.console as string[]).slice(-1), ['PROBE FAIL no MODINFOMD_ENVP record']);
  });

  test('probe-fail: QEMU exits without a verdict (a triple fault under -no-reboot)', async (t) => {
    const s = await setup(t);
    const e = await refused(s.backend(['qemu-shim: long mode', 'half a line'], {exit: 1}), 'probe-fail');
    assert.equal(e.message, 'qemu: exited (status 1) without PROBE OK or PROBE FAIL; console: qemu-shim: long mode | half a line');
  });

  test('qemu-timeout: a guest that never answers is killed at the timeout', async (t) => {
    const s = await setup(t);
    // The fake sleeps a minute: only the kill at the timeout gives this reason (how soon: npm run bench:limits).
    const e = await refused(s.backend(['PROBE BEGIN arch=amd64 modulep=0x1 kernend=0x2'], {sleepSeconds: 60, timeoutMs: 700}), 'qemu-timeout');
    assert.equal(e.message, 'qemu: timed out after 0.7 s; console: PROBE BEGIN arch=amd64 modulep=0x1 kernend=0x2');
  });

  test('a guest that hangs after PROBE OK is killed after the grace period and still boots', async (t) => {
    const s = await setup(t);
    const report = await s.backend(probeTranscript(s.plan), {sleepSeconds: 60, graceMs: 300}).exec({});
    assert.match(report.lines.at(-1) ?? '', /^qemu: PROBE OK and the plan agrees/);
    assert.equal((report.handoff.qemu as {signal: string | null}).signal, 'SIGKILL', 'killed, not waited for (it sleeps a minute)');
  });

  test('qemu-missing: the binary is not installed; probe() says so and names the Debian package', async (t) => {
    const s = await setup(t);
    const b = createQemuBackend({stateDir: s.backend([]).stateDir, arch: 'amd64', qemuBinary: join(s.dir, 'no-such-qemu')});
    const p = await b.probe();
    assert.equal(p.available, false);
    assert.match(p.reason ?? '', /no-such-qemu not found \(Debian package qemu-system-x86\)/);
    const e = await refused(b, 'qemu-missing');
    assert.match(e.message, /^qemu: \S+no-such-qemu not found: install the Debian package qemu-system-x86$/);
    const arm = await createQemuBackend({stateDir: join(s.dir, 'arm'), arch: 'arm64', qemuBinary: 'qemu-system-nonexistent'}).probe();
    assert.match(arm.reason ?? '', /Debian package qemu-system-arm/);
  });

  test('options: an unknown arch and a non-positive timeout are usage errors (exit 2)', () => {
    const usage = (e: unknown): boolean => e instanceof KexecError && e.code === 2;
    assert.throws(() => createQemuBackend({stateDir: '/nonexistent', arch: 'riscv64' as unknown as 'amd64'}), usage);
    assert.throws(() => createQemuBackend({stateDir: '/nonexistent', arch: 'amd64', timeoutMs: 0}), usage);
    assert.throws(() => createQemuBackend({stateDir: '/nonexistent', arch: 'arm64', timeoutMs: Number.NaN}), usage);
  });

  test('load refuses a plan for the other architecture, and segments where SeaBIOS lives (the shared validator, said as qemu)', async (t) => {
    const dir = tempDir(t);
    const b = createQemuBackend({stateDir: join(dir, 'state'), arch: 'amd64'});
    const arm = rawCodePlan('arm64', new Uint8Array(16), 0x42000000n);
    await assert.rejects(b.load(arm), (e: unknown) => e instanceof KexecError && e.reason === 'arch-mismatch' && e.code === 5);
    const inSeaBios: Plan = {...rawCodePlan('amd64', new Uint8Array(16), 0x200000n)};
    const moved: Plan = {...inSeaBios, entry: 0x3f000000n, segments: inSeaBios.segments.map((g) => ({...g, mem: 0x3f000000n}))};
    await assert.rejects(b.load(moved), (e: unknown) => e instanceof KexecError && e.code === 5 && e.reason === 'target-phys-seg' &&
      /^qemu: the plan does not fit the emulated machine \(qemu-system-x86_64 -M pc -m 1G\): segment 0 \[0x3f000000, 0x3f001000\): not inside one RAM range of profile qemu-amd64-1g$/.test(e.message));
    assert.equal((await b.status()).staged, null);
  });
});
