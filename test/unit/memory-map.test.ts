/**
 * Memory maps are what keeps a plan off the running kernel, so every way of getting one (vm.phys_segs text, map
 * files, profiles) is tested for the happy path and for each malformed input naming the right file and line.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {KexecError} from '../../src/errors.js';
import {Range} from '../../src/memory/range.js';
import {makeMemoryMap, memoryMapToJSON, ramRangeContaining, ramRanges} from '../../src/memory/memory-map.js';
import {parsePhysSegs} from '../../src/memory/phys-segs.js';
import {parseMapFile} from '../../src/memory/map-file.js';
import {readMemoryMapFile as loadMemoryMap} from '../../src/pipeline/memory-map-file.js';
import {PROFILE_NAMES, defaultProfileForArch, getProfile} from '../../src/memory/profiles.js';

function assertUsage(fn: () => unknown, prefix: string, line: number, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof KexecError, `expected KexecError, got ${String(e)}`);
    assert.equal(e.code, 2);
    assert.ok(e.message.startsWith(`${prefix}:${line}:`), `message "${e.message}" should start with ${prefix}:${line}:`);
    for (const f of fragments) assert.ok(e.message.includes(f), `message "${e.message}" should contain "${f}"`);
    return true;
  });
}

const seg = (n: number, start: string, end: string, extra: string[] = []): string =>
  ['', `SEGMENT ${n}:`, '', `start:     ${start}`, `end:       ${end}`, ...extra].join('\n');

// Realistic amd64 output: `sysctl vm.phys_segs` with the name line, NUMA domain lines and a bare 0.
const SAMPLE_DOMAIN = `vm.phys_segs: ${[
  seg(0, '0', '0x9f000', ['domain:    0', 'free list: 0xffffffff81a5f0d0']),
  seg(1, '0x100000', '0x1000000', ['domain:    0', 'free list: 0xffffffff81a5f0d0']),
  seg(2, '0x2a0b000', '0xbf5e9000', ['domain:    0', 'free list: 0xffffffff81a5ee70']),
  seg(3, '0x100000000', '0x43f000000', ['domain:    0', 'free list: 0xffffffff81a5ec10']),
].join('\n')}\n`;
// `sysctl -n` form from an older kernel without domain lines.
const SAMPLE_PLAIN = `${[
  seg(0, '0x1000', '0x9f000', ['free list: 0xffffffff81a5f0d0']),
  seg(1, '0x100000', '0xb0000000', ['free list: 0xffffffff81a5ee70']),
].join('\n')}\n`;

test('parsePhysSegs reads multi-segment output with domain lines and a bare 0', () => {
  const map = parsePhysSegs(SAMPLE_DOMAIN, '/tmp/segs.txt');
  assert.equal(map.source, 'vm.phys_segs (/tmp/segs.txt)');
  assert.deepEqual(
    map.ranges.map((r) => [r.range.start, r.range.end, r.type]),
    [[0n, 0x9f000n, 'ram'], [0x100000n, 0x1000000n, 'ram'], [0x2a0b000n, 0xbf5e9000n, 'ram'], [0x100000000n, 0x43f000000n, 'ram']],
  );
  assert.equal(map.ranges[0]?.label, 'SEGMENT 0 (domain 0)');
});

test('parsePhysSegs reads the sysctl -n form without domain lines, CRLF tolerated', () => {
  const map = parsePhysSegs(SAMPLE_PLAIN.replace(/\n/g, '\r\n'), 'segs');
  assert.deepEqual(ramRanges(map).map((r) => r.toString()), ['[0x1000, 0x9f000)', '[0x100000, 0xb0000000)']);
  assert.equal(map.ranges[1]?.label, 'SEGMENT 1');
});

const physSegsBad: {name: string; text: string; line: number; fragments: string[]}[] = [
  {name: 'unknown key', text: `${seg(0, '0x0', '0x1000')}\ncolour:    blue\n`, line: 6, fragments: ['colour', 'blue']},
  {name: 'bad number', text: seg(0, '0x1000', '0x12g00'), line: 5, fragments: ['end', '0x12g00']},
  {name: 'decimal instead of %#jx', text: seg(0, '4096', '0x2000'), line: 4, fragments: ['start', '4096']},
  {name: 'value >= 2^64', text: seg(0, '0x0', '0x10000000000000000'), line: 5, fragments: ['end', '0x10000000000000000']},
  {name: 'end < start', text: seg(0, '0x2000', '0x1000'), line: 5, fragments: ['end', '0x1000', '0x2000']},
  {name: 'end == start', text: seg(0, '0x2000', '0x2000'), line: 5, fragments: ['empty']},
  {name: 'missing end', text: ['', 'SEGMENT 0:', '', 'start: 0x0', '', 'SEGMENT 1:', 'start: 0x1000', 'end: 0x2000'].join('\n'), line: 2, fragments: ['SEGMENT 0', 'end']},
  {name: 'missing start', text: `${seg(0, '0x0', '0x1000')}\n\nSEGMENT 1:\n\nend: 0x3000\n`, line: 7, fragments: ['SEGMENT 1', 'start']},
  {name: 'bad domain', text: seg(0, '0x0', '0x1000', ['domain:    x1']), line: 6, fragments: ['domain', 'x1']},
  {name: 'bad free list', text: seg(0, '0x0', '0x1000', ['free list: nope']), line: 6, fragments: ['free list', 'nope']},
  {name: 'duplicate key', text: seg(0, '0x0', '0x1000', ['start: 0x0']), line: 6, fragments: ['start', 'twice']},
  {name: 'key before SEGMENT', text: 'start: 0x0\n', line: 1, fragments: ['start']},
  {name: 'garbage line', text: `${seg(0, '0x0', '0x1000')}\nhello world\n`, line: 6, fragments: ['hello world']},
  {name: 'overlapping segments', text: [seg(0, '0x0', '0x2000'), seg(1, '0x1000', '0x3000')].join('\n'), line: 7, fragments: ['SEGMENT 1', 'SEGMENT 0', 'line 2']},
  {name: 'duplicate SEGMENT number', text: [seg(0, '0x0', '0x1000'), seg(0, '0x2000', '0x3000')].join('\n'), line: 7, fragments: ['SEGMENT 0', 'line 2']},
  {name: 'no segments', text: 'vm.phys_segs: \n\n', line: 1, fragments: ['SEGMENT']},
  {name: 'empty text', text: '', line: 1, fragments: ['SEGMENT']},
];
for (const c of physSegsBad) {
  test(`parsePhysSegs refuses: ${c.name}`, () => assertUsage(() => parsePhysSegs(c.text, '/x/segs'), '/x/segs', c.line, ...c.fragments));
}

const JSON_MAP = `{
  "ranges": [
    {"start": "0x1000", "end": "0x9f000", "type": "ram", "label": "low"},
    {"start": 651264, "end": "1048576", "type": "reserved", "label": "BIOS"},
    {"start": "0x100000", "end": 4294967296}
  ]
}
`;
const YAML_MAP = `# a YAML map
ranges:
  - start: "0x100000"
    end: 0x40000000   # plain YAML hex integer
  - {start: "0x40000000", end: "0x42000000", type: reserved, label: running kernel}
  - start: 1107296256
    end: "0x80000000"
    type: ram
`;

test('parseMapFile reads JSON with hex strings, integers, decimal strings, types and labels', () => {
  const map = parseMapFile(JSON_MAP, 'm.json');
  assert.equal(map.source, 'map file m.json');
  assert.deepEqual(memoryMapToJSON(map), {
    source: 'map file m.json',
    ranges: [
      {start: '0x1000', end: '0x9f000', type: 'ram', label: 'low'},
      {start: '0x9f000', end: '0x100000', type: 'reserved', label: 'BIOS'},
      {start: '0x100000', end: '0x100000000', type: 'ram'},
    ],
  });
});

test('parseMapFile reads YAML with the same rules', () => {
  const map = parseMapFile(YAML_MAP, 'm.yaml');
  assert.deepEqual(
    map.ranges.map((r) => [r.range.toString(), r.type, r.label]),
    [
      ['[0x100000, 0x40000000)', 'ram', undefined],
      ['[0x40000000, 0x42000000)', 'reserved', 'running kernel'],
      ['[0x42000000, 0x80000000)', 'ram', undefined],
    ],
  );
  assert.deepEqual(ramRanges(map).length, 2);
});

test('parseMapFile sorts ranges and accepts an end of 2^64', () => {
  const map = parseMapFile('ranges:\n  - {start: "0xffff000000000000", end: "0x10000000000000000"}\n  - {start: 0, end: 4096}\n', 'm');
  assert.deepEqual(map.ranges.map((r) => r.range.start), [0n, 0xffff000000000000n]);
});

const mapBad: {name: string; text: string; line: number; fragments: string[]}[] = [
  {name: 'JSON syntax error (missing comma)', text: '{"ranges": [\n  {"start": "0x0"\n   "end": "0x1000"}\n]}\n', line: 3, fragments: ['syntax error', '"end"']},
  {name: 'JSON unterminated', text: '{"ranges": [\n  {"start": "0x0", "end": "0x1000"}\n', line: 3, fragments: ['syntax error']},
  {name: 'YAML bad indentation', text: 'ranges:\n  - start: 0x0\n    end: 0x1000\n   type: ram\n', line: 4, fragments: ['syntax error']},
  {name: 'YAML duplicate key', text: 'ranges:\n  - start: 0x0\n    start: 0x10\n    end: 0x1000\n', line: 3, fragments: ['syntax error', 'start: 0x10']},
  {name: 'unknown key in a range', text: '{"ranges": [\n  {"start": "0x0", "end": "0x1000",\n   "flags": 3}\n]}', line: 3, fragments: ['flags', '3']},
  {name: 'unknown top-level key', text: 'ranges: []\nmachine: pc\n', line: 2, fragments: ['machine', 'pc']},
  {name: 'start of wrong type', text: 'ranges:\n  - start: true\n    end: 0x1000\n', line: 2, fragments: ['start', 'true']},
  {name: 'end is a list', text: 'ranges:\n  - start: 0\n    end: [1, 2]\n', line: 3, fragments: ['end', '[1, 2]']},
  {name: 'type not a string', text: 'ranges:\n  - start: 0\n    end: 4096\n    type: 7\n', line: 4, fragments: ['type', '7']},
  {name: 'bad hex string', text: '{"ranges": [{"start": "0xZZ", "end": "0x1000"}]}', line: 1, fragments: ['start', '0xZZ']},
  {name: 'negative integer', text: '{"ranges": [\n{"start": -4096, "end": "0x1000"}]}', line: 2, fragments: ['start', '-4096']},
  {name: 'fractional number', text: '{"ranges": [\n{"start": 0, "end": 4096.5}]}', line: 2, fragments: ['end', '4096.5']},
  {name: 'unsafe integer', text: '{"ranges": [\n  {"start": 0,\n   "end": 9007199254740993}\n]}', line: 3, fragments: ['end', '9007199254740993', 'write it as a hex string']},
  {name: 'unsafe plain YAML hex', text: 'ranges:\n  - start: 0\n    end: 0x10000000000000000\n', line: 3, fragments: ['end', '0x10000000000000000', 'write it as a hex string']},
  {name: 'value beyond 64 bits', text: '{"ranges": [{"start": "0x10000000000000000", "end": "0x10000000000000001"}]}', line: 1, fragments: ['start', '0x10000000000000000']},
  {name: 'end < start', text: 'ranges:\n  - start: "0x2000"\n    end: "0x1000"\n', line: 3, fragments: ['end', '0x1000', '0x2000']},
  {name: 'empty range', text: 'ranges:\n  - start: "0x2000"\n    end: 8192\n', line: 3, fragments: ['empty']},
  {name: 'missing end', text: 'ranges:\n  - start: 0\n  - start: 0x1000\n    end: 0x2000\n', line: 2, fragments: ['ranges[0]', 'end']},
  {name: 'overlap', text: 'ranges:\n  - {start: 0, end: 0x2000}\n  - {start: 0x3000, end: 0x4000}\n  - {start: 0x1000, end: 0x3000, type: reserved}\n', line: 4, fragments: ['[0x1000, 0x3000)', '[0x0, 0x2000)', 'line 2']},
  {name: 'ranges not a list', text: 'ranges: 5\n', line: 1, fragments: ['ranges', '5']},
  {name: 'ranges empty', text: 'ranges: []\n', line: 1, fragments: ['empty']},
  {name: 'no ranges key', text: '{}\n', line: 1, fragments: ['ranges']},
  {name: 'top level is a list', text: '- 1\n- 2\n', line: 1, fragments: ['mapping']},
  {name: 'empty file', text: '', line: 1, fragments: ['empty']},
  {name: 'range is a scalar', text: 'ranges:\n  - 0x1000\n', line: 2, fragments: ['ranges[0]', '0x1000']},
];
for (const c of mapBad) {
  test(`parseMapFile refuses: ${c.name}`, () => assertUsage(() => parseMapFile(c.text, '/m/map.yaml'), '/m/map.yaml', c.line, ...c.fragments));
}

test('loadMemoryMap picks the format and names the path and OS error code when unreadable', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kexec-ts-mm-'));
  try {
    const segs = join(dir, 'segs.txt');
    const json = join(dir, 'map.json');
    await writeFile(segs, SAMPLE_DOMAIN);
    await writeFile(json, JSON_MAP);
    assert.equal((await loadMemoryMap(segs)).source, `vm.phys_segs (${segs})`);
    assert.equal((await loadMemoryMap(json)).source, `map file ${json}`);
    const missing = join(dir, 'nope.json');
    await assert.rejects(loadMemoryMap(missing), (e: unknown) => e instanceof KexecError && e.code === 2 && e.message.includes(missing) && e.message.includes('no such file') && e.reason === 'input-enoent');
  } finally {
    await rm(dir, {recursive: true, force: true});
  }
});

test('makeMemoryMap sorts, and refuses overlaps and empty ranges naming the source and both ranges', () => {
  const m = makeMemoryMap('t', [{range: new Range(0x2000n, 0x3000n), type: 'ram'}, {range: new Range(0n, 0x1000n), type: 'reserved'}]);
  assert.deepEqual(m.ranges.map((r) => r.range.start), [0n, 0x2000n]);
  assert.throws(
    () => makeMemoryMap('src', [{range: new Range(0n, 0x2000n), type: 'ram'}, {range: new Range(0x1000n, 0x3000n), type: 'reserved', label: 'k'}]),
    (e: unknown) => e instanceof KexecError && e.code === 2 && e.message.startsWith('src:') && e.message.includes('[0x0, 0x2000)') && e.message.includes('[0x1000, 0x3000)'),
  );
  assert.throws(() => makeMemoryMap('src', [{range: new Range(0x1000n, 0x1000n), type: 'ram'}]), (e: unknown) => e instanceof KexecError && e.code === 2);
});

test('ramRangeContaining does not merge adjacent ram ranges and ignores reserved ones', () => {
  const m = makeMemoryMap('t', [
    {range: new Range(0x1000n, 0x2000n), type: 'ram'},
    {range: new Range(0x2000n, 0x4000n), type: 'ram'},
    {range: new Range(0x4000n, 0x5000n), type: 'reserved'},
  ]);
  assert.equal(ramRangeContaining(m, new Range(0x1800n, 0x2800n)), undefined);
  assert.equal(ramRangeContaining(m, new Range(0x2000n, 0x4000n))?.toString(), '[0x2000, 0x4000)');
  assert.equal(ramRangeContaining(m, new Range(0x1000n, 0x2000n))?.toString(), '[0x1000, 0x2000)');
  assert.equal(ramRangeContaining(m, new Range(0x4000n, 0x4800n)), undefined);
});

for (const name of PROFILE_NAMES) {
  test(`profile ${name} is sorted, non-overlapping, page-aligned and has ram`, () => {
    const p = getProfile(name);
    assert.equal(p.name, name);
    assert.equal(p.memoryMap.source, `profile ${name}`);
    assert.ok(!p.description.includes('\n'));
    const rs = p.memoryMap.ranges;
    for (let i = 1; i < rs.length; i++) assert.ok((rs[i - 1]?.range.end ?? 0n) <= (rs[i]?.range.start ?? 0n));
    for (const r of rs) assert.ok(r.range.start % p.pageSize === 0n && r.range.end % p.pageSize === 0n && r.range.size > 0n);
    assert.ok(ramRanges(p.memoryMap).length > 0);
    if (p.arch !== 'any') assert.ok(rs.some((r) => r.type === 'reserved' && r.label !== undefined));
  });
}

test('getProfile refuses an unknown name listing the known ones; defaults by e_machine', () => {
  assert.throws(
    () => getProfile('vax-1m'),
    (e: unknown) => e instanceof KexecError && e.code === 2 && e.message === `unknown machine profile "vax-1m" (known: ${PROFILE_NAMES.join(', ')})`,
  );
  assert.deepEqual([...PROFILE_NAMES], ['amd64-4g', 'arm64-virt-2g', 'riscv64-virt-2g', 'qemu-amd64-1g', 'flat-4g']);
  assert.equal(defaultProfileForArch('amd64')?.name, 'amd64-4g');
  assert.equal(defaultProfileForArch('arm64')?.name, 'arm64-virt-2g');
  assert.equal(defaultProfileForArch('riscv64')?.name, 'riscv64-virt-2g');
  assert.equal(defaultProfileForArch('i386'), undefined);
  const running = getProfile('amd64-4g').memoryMap.ranges.find((r) => r.label === 'running kernel');
  assert.equal(running?.range.toString(), '[0xb0000000, 0xb2000000)');
  assert.equal(ramRangeContaining(getProfile('amd64-4g').memoryMap, new Range(0xb0000000n, 0xb0001000n)), undefined);
});
