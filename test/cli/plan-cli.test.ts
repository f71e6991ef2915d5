/**
 * `kexec-ts plan` as a user runs it (the compiled dist/, run in this process by test/helpers/cli.ts), on ELF images
 * built in code: the text report, --json, --export, memory maps from vm.phys_segs text, JSON and YAML files and
 * every built-in profile, usage errors (exit 2, map file errors as FILE:LINE:), --page-size, merging and ET_DYN
 * relocation. The five refusals (exit 4) and --entry are in plan-cli-refusals.test.ts.
 */
import {after, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {CLI_BUILT, runCli} from '../helpers/corpus.js';
import {assertLoaded, big, checkPlanOutput, checkSegmentShape, type PlanOut} from '../helpers/plan-check.js';
import {EM, fill, mustFail, mustPlan, pattern, physSegsText, writeElf, writeJsonMap, writeText} from '../helpers/plan-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'kp-'));
after(() => rmSync(dir, {recursive: true, force: true}));
const skip = CLI_BUILT ? false : 'dist/ is not built (npm run build)';

/** x86-64 ET_EXEC: PT_LOAD 0 at 0x200000 (0x1800 bytes + bss to 0x3000), PT_LOAD 1 at 0x400000 (0x100 bytes). */
const A0 = pattern(0x1800, 1);
const A1 = pattern(0x100, 2);
const amd64 = writeElf(dir, 'a.elf', {
  entry: 0x200010n, segments: [{vaddr: 0x200000n, data: A0, memsz: 0x3000n}, {vaddr: 0x400000n, data: A1}],
});

function checkAmd64Bytes(plan: PlanOut, exportDir: string): void {
  const mem = checkPlanOutput(plan, exportDir);
  assertLoaded(mem, 0x200000n, A0, 0x3000n, 'PT_LOAD 0');
  assertLoaded(mem, 0x400000n, A1, 0x100n, 'PT_LOAD 1');
  mem.assertOnly([{start: 0x200000n, length: A0.length}, {start: 0x400000n, length: A1.length}]);
}

describe('plan: output forms', {skip, concurrency: 4}, () => {
  test('text: summary, segment table, segments N/16, entry, memory-map picture within 80 columns', async () => {
    const r = await runCli(['plan', amd64]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.replace(/\n$/, '').split('\n');
    assert.match(r.stdout, /^ {2}entry 0x200010$/m);
    assert.match(r.stdout, /^ {2}segments: 2\/16$/m);
    const header = lines.findIndex((l) => /^\s+#\s+mem\s+memsz\s+bufsz\s+sha256\s+holds$/.test(l));
    assert.ok(header > 0, `segment table header:\n${r.stdout}`);
    assert.match(lines[header + 1] as string, /^\s+0\s+0x200000\s+0x3000\s+0x1800\s+[0-9a-f]{12}\s+PT_LOAD 0$/);
    assert.match(lines[header + 2] as string, /^\s+1\s+0x400000\s+0x1000\s+0x100\s+[0-9a-f]{12}\s+PT_LOAD 1$/);
    const pic = lines.findIndex((l) => l.trim() === 'memory map:');
    assert.ok(pic > header, 'a memory map section follows the table');
    const picture = lines.slice(pic + 1).filter((l) => !/^\s+digest /.test(l));
    assert.ok(picture.some((l) => /0x100000-0xb0000000 ram +\|[^|]*[01+][^|]*\|$/.test(l)), `segments drawn in the RAM range:\n${picture.join('\n')}`);
    assert.ok(picture.some((l) => /reserved \|#+\|$/.test(l)), 'reserved ranges drawn with #');
    assert.ok(picture.some((l) => /0-f segment/.test(l)), 'a legend');
    assert.match(r.stdout, /^ {2}digest [0-9a-f]{64}$/m);
    for (const l of lines.slice(1)) assert.ok(l.length <= 80, `line of ${l.length} columns (max 80): ${JSON.stringify(l)}`);
  });

  test('--json: one JSON plan on stdout, nothing on stderr; --export writes plan.json and the segment files', async () => {
    const out = join(dir, 'export-a');
    const plan = await mustPlan(['--export', out, amd64]);
    assert.equal(plan.entry, '0x200010');
    assert.equal(plan.arch, 'amd64');
    assert.equal(plan.kind, 'elf');
    assert.equal(plan.memoryMap.source, 'profile amd64-4g');
    assert.deepEqual(plan.segments.map((s) => [s.mem, s.memsz, s.bufsz]), [['0x200000', '0x3000', '0x1800'], ['0x400000', '0x1000', '0x100']]);
    checkAmd64Bytes(plan, out);
  });

  test('--export without --json prints the report and names the export', async () => {
    const out = join(dir, 'export-text');
    const r = await runCli(['plan', '--export', out, amd64]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`exported to ${out}/plan.json and 2 segment files`), r.stdout);
    const json = await mustPlan([amd64]);
    checkAmd64Bytes(json, out);
  });
});

describe('plan: memory maps', {skip, concurrency: 4}, () => {
  test('--memmap with `sysctl vm.phys_segs` output', async () => {
    const segs = [
      {start: 0x10000n, end: 0x9d000n, domain: 0},
      {start: 0x100000n, end: 0x1000000n, domain: 0},
      {start: 0x2d00000n, end: 0xbfe00000n, domain: 0},
      {start: 0x100000000n, end: 0x240000000n, domain: 1},
    ];
    const file = writeText(dir, 'phys_segs.txt', physSegsText(segs));
    const out = join(dir, 'export-physsegs');
    const plan = await mustPlan(['--memmap', file, '--export', out, amd64]);
    assert.equal(plan.memoryMap.source, `vm.phys_segs (${file})`);
    assert.deepEqual(plan.memoryMap.ranges, segs.map((s, i) => ({
      start: `0x${s.start.toString(16)}`, end: `0x${s.end.toString(16)}`, type: 'ram', label: `SEGMENT ${i} (domain ${s.domain})`,
    })));
    checkAmd64Bytes(plan, out);
  });

  test('--memmap with a JSON map file (reserved ranges and labels kept)', async () => {
    const file = writeJsonMap(dir, 'map.json', [
      {start: 0x100000n, end: 0x300000n, label: 'low'},
      {start: 0x300000n, end: 0x380000n, type: 'reserved', label: 'firmware'},
      {start: 0x380000n, end: 0x800000n},
    ]);
    const plan = await mustPlan(['--memmap', file, amd64]);
    assert.equal(plan.memoryMap.source, `map file ${file}`);
    assert.deepEqual(plan.memoryMap.ranges, [
      {start: '0x100000', end: '0x300000', type: 'ram', label: 'low'},
      {start: '0x300000', end: '0x380000', type: 'reserved', label: 'firmware'},
      {start: '0x380000', end: '0x800000', type: 'ram'},
    ]);
    checkSegmentShape(plan);
  });

  test('--memmap with a YAML map file (hex strings, bare integers, default type ram)', async () => {
    const file = writeText(dir, 'map.yaml', [
      '# target memory', 'ranges:', '  - start: "0x100000"', '    end: 0x400000', '    label: low RAM',
      '  - start: 4194304', '    end: "0x10000000"', '    type: ram', '',
    ].join('\n'));
    const plan = await mustPlan(['--memmap', file, amd64]);
    assert.deepEqual(plan.memoryMap.ranges, [
      {start: '0x100000', end: '0x400000', type: 'ram', label: 'low RAM'},
      {start: '0x400000', end: '0x10000000', type: 'ram'},
    ]);
    assert.deepEqual(plan.segments.map((s) => s.mem), ['0x200000', '0x400000']);
  });

  const profiles: [string, number, bigint, 32 | 64, boolean][] = [
    ['amd64-4g', EM.X86_64, 0x200000n, 64, true],
    ['arm64-virt-2g', EM.AARCH64, 0x42200000n, 64, true],
    ['riscv64-virt-2g', EM.RISCV, 0x80200000n, 64, true],
    ['flat-4g', EM.PPC, 0x10000n, 32, false],
  ];
  for (const [name, machine, base, cls, le] of profiles) {
    test(`--profile ${name}: an image that fits plans, in RAM, bytes in place`, async () => {
      const d0 = pattern(0x2345, machine);
      const image = writeElf(dir, `p-${name}.elf`, {
        class: cls, littleEndian: le, machine, entry: base + 0x100n, segments: [{vaddr: base, data: d0, memsz: 0x5000n}],
      });
      const out = join(dir, `export-${name}`);
      const plan = await mustPlan(['--profile', name, '--export', out, image]);
      assert.equal(plan.memoryMap.source, `profile ${name}`);
      assert.equal(plan.entry, `0x${(base + 0x100n).toString(16)}`);
      assertLoaded(checkPlanOutput(plan, out), base, d0, 0x5000n, 'PT_LOAD 0');
      if (name !== 'flat-4g') {
        const byDefault = await mustPlan([image]);
        assert.equal(byDefault.memoryMap.source, `profile ${name}`, 'the machine\'s default profile');
      }
    });
  }
});

describe('plan: usage and memory map errors exit 2', {skip, concurrency: 4}, () => {
  const cases: [string, string, string, number][] = [
    ['bad JSON syntax on line 3', 'bad-syntax.json',
      '{\n  "ranges": [\n    {"start": "0x100000", "end": "0x200000" "type": "ram"}\n  ]\n}\n', 3],
    ['an unknown key on line 4', 'bad-key.json',
      '{\n  "ranges": [\n    {"start": "0x100000",\n     "size": "0x200000", "end": "0x300000"}\n  ]\n}\n', 4],
    ['a YAML file with a bad value on line 6', 'bad-value.yaml',
      'ranges:\n  - start: 0x100000\n    end: 0x200000\n\n  - start: 0x300000\n    end: 4 GiB\n', 6],
    ['vm.phys_segs text with a bad end on line 12', 'bad-phys.txt',
      `${physSegsText([{start: 0x1000n, end: 0x9f000n, domain: 0}])}\nSEGMENT 1:\n\nstart:     0x100000\nend:       0x40000000z\n`, 12],
  ];
  for (const [what, name, text, line] of cases) {
    test(`--memmap: ${what} → FILE:${line}:`, async () => {
      const file = writeText(dir, name, text);
      const r = await runCli(['plan', '--memmap', file, amd64]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.ok(r.stderr.includes(`${file}:${line}: `), `message names ${file}:${line}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
      const e = await mustFail(['--memmap', file, amd64], 2);
      assert.ok(e.message.startsWith(`${file}:${line}: `), e.message);
    });
  }

  test('--memmap naming a missing file', async () => {
    const missing = join(dir, 'no-such-map.json');
    const e = await mustFail(['--memmap', missing, amd64], 2);
    assert.equal(e.message, `memory map ${missing}: no such file`);
  });

  test('--memmap and --profile together', async () => {
    const file = writeJsonMap(dir, 'ok-map.json', [{start: 0x100000n, end: 0x1000000n}]);
    const e = await mustFail(['--memmap', file, '--profile', 'flat-4g', amd64], 2);
    assert.match(e.message, /--memmap.*--profile/);
  });

  test('--page-size 0x3000 (not a power of two)', async () => {
    const e = await mustFail(['--page-size', '0x3000', amd64], 2);
    assert.ok(e.message.includes('0x3000'), e.message);
  });

  test('a machine without a default profile and no --memmap/--profile', async () => {
    const ppc = writeElf(dir, 'ppc.elf', {class: 32, littleEndian: false, machine: EM.PPC, entry: 0x10000n, segments: [{vaddr: 0x10000n, data: fill(16, 1)}]});
    const e = await mustFail([ppc], 2);
    assert.match(e.message, /--memmap|--profile/);
  });
});

describe('plan: page size, merging, relocation', {skip, concurrency: 4}, () => {
  test('--page-size 16K on an arm64 image: every segment 16 KiB aligned', async () => {
    const d0 = pattern(0x1800, 7);
    const d1 = pattern(0x300, 8);
    const image = writeElf(dir, 'arm64-16k.elf', {
      machine: EM.AARCH64, entry: 0x42201000n,
      segments: [{vaddr: 0x42201000n, data: d0, memsz: 0x2000n}, {vaddr: 0x42209000n, data: d1}],
    });
    const out = join(dir, 'export-16k');
    const plan = await mustPlan(['--page-size', '16K', '--export', out, image]);
    assert.equal(plan.pageSize, '0x4000');
    for (const s of plan.segments) {
      assert.equal(big(s.mem) % 0x4000n, 0n, `mem ${s.mem} is 16 KiB aligned`);
      assert.equal(big(s.memsz) % 0x4000n, 0n, `memsz ${s.memsz} is a 16 KiB multiple`);
    }
    const mem = checkPlanOutput(plan, out);
    assertLoaded(mem, 0x42201000n, d0, 0x2000n, 'PT_LOAD 0');
    assertLoaded(mem, 0x42209000n, d1, 0x300n, 'PT_LOAD 1');
  });

  test('17 PT_LOADs in one RAM range with small gaps: merged down to at most 16 segments', async () => {
    const datas = Array.from({length: 17}, (_, i) => pattern(0x100 + i, 100 + i));
    const at = (i: number): bigint => 0x300000n + BigInt(i) * 0x2000n;
    const image = writeElf(dir, 'seventeen-one-range.elf', {entry: at(0), segments: datas.map((data, i) => ({vaddr: at(i), data}))});
    const out = join(dir, 'export-17');
    const plan = await mustPlan(['--export', out, image]);
    assert.ok(plan.segments.length <= 16, `${plan.segments.length} segments`);
    assert.ok(plan.merges.length >= 1, 'merges reported');
    assert.match(plan.merges[0] as string, /0x[0-9a-f]+/);
    const mem = checkPlanOutput(plan, out);
    datas.forEach((d, i) => assertLoaded(mem, at(i), d, BigInt(d.length), `PT_LOAD ${i}`));
    mem.assertOnly(datas.map((d, i) => ({start: at(i), length: d.length})));
  });

  test('ET_DYN linked at 0 (not RAM in amd64-4g) is moved as one block; the entry moves with it', async () => {
    const d0 = pattern(0x1800, 21);
    const d1 = pattern(0x180, 22);
    const image = writeElf(dir, 'dyn.elf', {
      type: 3, entry: 0x10n,
      segments: [{vaddr: 0n, data: d0, memsz: 0x3000n, align: 0x200000n}, {vaddr: 0x4000n, data: d1, align: 0x200000n}],
    });
    const out = join(dir, 'export-dyn');
    const plan = await mustPlan(['--export', out, image]);
    const mem = checkPlanOutput(plan, out);
    const c0 = plan.segments.flatMap((s) => s.contents).find((c) => c.label === 'PT_LOAD 0');
    assert.ok(c0 !== undefined, 'PT_LOAD 0 is in the plan');
    const offset = big(c0.mem);
    assert.ok(offset >= 0x100000n, `moved into RAM (to ${c0.mem})`);
    assert.equal(offset % 0x200000n, 0n, 'the new base honours p_align');
    assert.equal(big(plan.entry), 0x10n + offset, 'entry moved by the same offset');
    assertLoaded(mem, offset, d0, 0x3000n, 'PT_LOAD 0 relocated');
    assertLoaded(mem, 0x4000n + offset, d1, 0x180n, 'PT_LOAD 1 relocated');
  });
});
