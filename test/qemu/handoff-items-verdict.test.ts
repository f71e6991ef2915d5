/**
 * The probe's hand-off item lines (ROOT, ACPI, HINT, MEMMAP, FW_HANDLE; examples/probe-kernel/README.md) without an
 * emulator: the parser on hand-written lines, the kernel's reading of acpi.rsdp and vfs.root.mountfrom as a table
 * of named cases from FreeBSD's rules, and the verdict through a fake QEMU: the correct transcript boots, and each
 * way an item line can disagree with the plan is refused with exit 5 (probe-mismatch) naming the item.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {parseProbeConsole} from '../../src/backend/qemu/console-protocol.js';
import {createQemuBackend} from '../../src/backend/qemu/index.js';
import {kernelQuad, rootCandidates} from '../../src/backend/qemu/kernel-env-model.js';
import {QEMU_MACHINES} from '../../src/backend/qemu/qemu-machines.js';
import {KexecError} from '../../src/errors.js';
import {planFiles} from '../../src/pipeline/plan-files.js';
import {buildFreeBsdKernel} from '../fixtures/freebsd-kernel.js';
import {getenvQuad, probeTranscript} from './probe-model.js';
import {fakeQemu, tempDir} from './qemu-fixtures.js';

test('parse: the item lines, in the protocol\'s order', () => {
  const t = parseProbeConsole([
    'PROBE ROOT zfs:zroot/ROOT/default',
    'PROBE ROOT ufs:/dev/ada0p2',
    'PROBE ACPI rsdp=0x7FE14',
    'PROBE HINT hint.uart.0.at=isa',
    'PROBE HINT hint.sc.0.flags=0x100',
    'PROBE MEMMAP name=EFI_MAP type=0x1004 size=0x7a0 entries=0x28 crc32=0xcbf43926',
    'PROBE FW_HANDLE 0x7fe9f018',
    'PROBE OK',
  ]);
  assert.deepEqual(t.root, ['zfs:zroot/ROOT/default', 'ufs:/dev/ada0p2']);
  assert.equal(t.acpi, 0x7fe14n);
  assert.deepEqual(t.hints, [['hint.uart.0.at', 'isa'], ['hint.sc.0.flags', '0x100']]);
  assert.deepEqual(t.memmap, {name: 'EFI_MAP', type: 0x1004, size: 0x7a0, entries: 40, crc32: 0xcbf43926});
  assert.equal(t.fwHandle, 0x7fe9f018n);
  assert.deepEqual(t.malformed, []);
});

const PARSE_EDGES: {name: string; lines: string[]; check: (t: ReturnType<typeof parseProbeConsole>) => void}[] = [
  {name: 'ACPI invalid is null, not absent', lines: ['PROBE ACPI rsdp=invalid'], check: (t) => assert.equal(t.acpi, null)},
  {name: 'no ACPI line leaves acpi undefined', lines: ['PROBE OK'], check: (t) => assert.equal(t.acpi, undefined)},
  {name: 'a ROOT line with a blank in it is malformed (the kernel splits there)', lines: ['PROBE ROOT ufs:/a b'], check: (t) => assert.equal(t.malformed.length, 1)},
  {name: 'a second MEMMAP is malformed, the first is kept', lines: [
    'PROBE MEMMAP name=SMAP type=0x1001 size=0x3c entries=0x3 crc32=0x1', 'PROBE MEMMAP name=SMAP type=0x1001 size=0x14 entries=0x1 crc32=0x2',
  ], check: (t) => { assert.equal(t.memmap?.size, 0x3c); assert.equal(t.malformed.length, 1); }},
  {name: 'a MEMMAP line without crc32 is malformed', lines: ['PROBE MEMMAP name=SMAP type=0x1001 size=0x3c entries=0x3'], check: (t) => assert.equal(t.malformed.length, 1)},
  {name: 'a second FW_HANDLE is malformed', lines: ['PROBE FW_HANDLE 0x1', 'PROBE FW_HANDLE 0x2'], check: (t) => { assert.equal(t.fwHandle, 1n); assert.equal(t.malformed.length, 1); }},
];
for (const c of PARSE_EDGES) test(`parse: ${c.name}`, () => c.check(parseProbeConsole(c.lines)));

/* sys/kern/kern_environment.c getenv_quad: strtoq(value, &vtp, 0); fails if vtp == value or more than one char
 * follows; k/m/g/t multiply by 1024 per step (the switch falls through). Values worked out by hand. */
const QUADS: [string, bigint | null][] = [
  ['0x7fe14', 0x7fe14n], ['0X7FE14', 0x7fe14n], ['  0x10', 0x10n], ['017', 15n], ['0', 0n], ['42', 42n],
  ['4k', 4096n], ['1M', 1n << 20n], ['2g', 2n << 30n], ['1t', 1n << 40n],
  ['', null], ['0x', null], ['7fe14', null], ['1kb', null], ['09', null], ['abc', null],
  ['-1', (1n << 64n) - 1n], ['99999999999999999999', (1n << 63n) - 1n],
];
for (const [value, want] of QUADS) {
  test(`getenv_quad(${JSON.stringify(value)}) is ${want === null ? 'refused' : `0x${want.toString(16)}`} (the verdict's and the probe model's)`, () => {
    assert.equal(kernelQuad(value), want);
    assert.equal(getenvQuad(value) ?? null, want);
  });
}

test('vfs.root.mountfrom candidates: runs of non-blank characters (vfs_mountroot.c parse_token)', () => {
  assert.deepEqual(rootCandidates('zfs:zroot/ROOT/default'), ['zfs:zroot/ROOT/default']);
  assert.deepEqual(rootCandidates(' ufs:/dev/ada0p2\tufs:/dev/ada1p2\n'), ['ufs:/dev/ada0p2', 'ufs:/dev/ada1p2']);
  assert.deepEqual(rootCandidates('   '), []);
});

/* The plan's environment and what a correct probe prints for it (worked out by hand, sorted as the loader sorts). */
const ENV = new Map([['vfs.root.mountfrom', 'ufs:/dev/vtbd0p2'], ['acpi.rsdp', '0xf5a40'], ['hint.uart.0.at', 'isa']]);
const FW = 0x3fe9f018n;
const ITEM_LINES = ['PROBE ACPI rsdp=0xf5a40', 'PROBE HINT hint.uart.0.at=isa'];

describe('verdict on the item lines (fake QEMU, amd64)', async () => {
  const cases: {name: string; edit: (lines: string[]) => string[]; says: RegExp}[] = [
    {name: 'ROOT missing', edit: (l) => l.filter((x) => !x.startsWith('PROBE ROOT')), says: /ROOT \(vfs\.root\.mountfrom candidates\): the probe found \[\]/},
    {name: 'ROOT another device', edit: (l) => l.map((x) => x.replace('vtbd0p2', 'vtbd0p3')), says: /ROOT .*vtbd0p3.*vtbd0p2/},
    {name: 'ACPI another address', edit: (l) => l.map((x) => x.replace('rsdp=0xf5a40', 'rsdp=0xf5a48')), says: /ACPI: the probe found rsdp 0xf5a48, the plan's acpi.rsdp gives 0xf5a40/},
    {name: 'ACPI invalid', edit: (l) => l.map((x) => x.replace('rsdp=0xf5a40', 'rsdp=invalid')), says: /ACPI: the probe found rsdp invalid/},
    {name: 'an extra HINT', edit: (l) => l.flatMap((x) => (x.startsWith('PROBE HINT') ? [x, 'PROBE HINT hint.uart.1.at=isa'] : [x])), says: /HINT: the probe found/},
    {name: 'MEMMAP missing', edit: (l) => l.filter((x) => !x.startsWith('PROBE MEMMAP')), says: /no MEMMAP line \(the plan passes SMAP/},
    {name: 'MEMMAP with another entry count', edit: (l) => l.map((x) => x.replace(/entries=0x[0-9a-f]+/, 'entries=0x63')), says: /MEMMAP: the probe found SMAP .* with 99 entries/},
    {name: 'MEMMAP of the other kind', edit: (l) => l.map((x) => x.replace('name=SMAP type=0x1001', 'name=EFI_MAP type=0x1004')), says: /MEMMAP: the probe found EFI_MAP type 0x1004/},
    {name: 'FW_HANDLE missing', edit: (l) => l.filter((x) => !x.startsWith('PROBE FW_HANDLE')), says: /FW_HANDLE: the probe found nothing, the plan passes 0x3fe9f018/},
  ];

  async function setup(t: {after: (fn: () => void) => void}): Promise<{dir: string; lines: string[]; load: (lines: string[]) => Promise<ReturnType<typeof createQemuBackend>>}> {
    const dir = tempDir(t);
    const kernel = join(dir, 'kernel');
    writeFileSync(kernel, buildFreeBsdKernel({arch: 'amd64', version: 1500000, textSize: 0x5000}));
    const {plan} = await planFiles({
      image: kernel, modules: [], loaderConf: [], env: [...ENV].map(([name, value]) => ({name, value, source: '--env'})), fwHandle: FW,
      target: {arch: 'amd64', pageSize: 0x1000n, memoryMap: QEMU_MACHINES.amd64.profile.memoryMap, source: 'the emulated machine'},
    });
    // The transcript comes from the probe model (the plan's memory bytes); its item lines must be the hand-worked ones.
    const lines = probeTranscript(plan);
    assert.deepEqual(lines.filter((l) => /^PROBE (ROOT|ACPI|HINT|FW_HANDLE) /.test(l)),
      ['PROBE ROOT ufs:/dev/vtbd0p2', ...ITEM_LINES, `PROBE FW_HANDLE 0x${FW.toString(16)}`]);
    const load = async (console: string[]): Promise<ReturnType<typeof createQemuBackend>> => {
      const fake = fakeQemu(dir, console);
      const b = createQemuBackend({stateDir: join(dir, 'state'), arch: 'amd64', qemuBinary: fake.binary, timeoutMs: 20000, graceMs: 5000});
      await b.load(plan);
      return b;
    };
    return {dir, lines, load};
  }

  test('the correct transcript boots', async (t) => {
    const s = await setup(t);
    const report = await (await s.load(s.lines)).exec({});
    assert.match(report.lines.at(-1) ?? '', /^qemu: PROBE OK and the plan agrees/);
  });

  for (const c of cases) {
    test(`refused: ${c.name}`, async (t) => {
      const s = await setup(t);
      const e = await (await s.load(c.edit(s.lines))).exec({}).then(() => assert.fail('exec succeeded'), (x: unknown) => x);
      assert.ok(e instanceof KexecError, String(e));
      assert.equal(e.code, 5, e.message);
      assert.equal(e.reason, 'probe-mismatch', e.message);
      const problems = (e.details as {problems: string[]}).problems;
      assert.ok(problems.some((p) => c.says.test(p)), problems.join('\n'));
    });
  }
});
