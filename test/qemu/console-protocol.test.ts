/**
 * The probe's console protocol as the QEMU backend reads it (src/backend/qemu/console-protocol.ts): a full
 * transcript, then named edge cases: SeaBIOS text before a PROBE line, escape sequences and carriage returns,
 * names and types with spaces, FAIL with and without a reason, lines after the verdict, repeated lines and
 * lines that do not follow the protocol.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {cleanConsoleLine, isVerdictLine, parseProbeConsole, probePart} from '../../src/backend/qemu/console-protocol.js';

const FULL = [
  'SeaBIOS (version 1.16.2-debian-1.16.2-1)',
  'Booting from ROM..',
  'qemu-shim: long mode, identity map 0-4 GiB, interrupts off; entering 0x00300000',
  'PROBE BEGIN arch=amd64 modulep=0x210000 kernend=0x211000',
  'PROBE FILE name=/boot/kernel/kernel type=elf kernel addr=0x200000 size=0xc128 crc32=0x0badf00d',
  'PROBE FILE name=/boot/kernel/hello.ko type=elf obj module addr=0x20d000 size=0x700 crc32=0xcbf43926',
  'PROBE ENV kernelname=/boot/kernel/kernel',
  'PROBE ENV hw.demo=a=b c',
  'PROBE HOWTO 0x800',
  'PROBE KERNEND 0x211000',
  'PROBE OK',
];

test('a full transcript: begin, files, env (values may hold "=" and spaces), howto, kernend, OK', () => {
  const t = parseProbeConsole(FULL);
  assert.deepEqual(t.begin, {arch: 'amd64', modulep: 0x210000n, kernend: 0x211000n});
  assert.deepEqual(t.files, [
    {name: '/boot/kernel/kernel', type: 'elf kernel', addr: 0x200000n, size: 0xc128n, crc32: 0x0badf00d},
    {name: '/boot/kernel/hello.ko', type: 'elf obj module', addr: 0x20d000n, size: 0x700n, crc32: 0xcbf43926},
  ]);
  assert.deepEqual(t.env, [['kernelname', '/boot/kernel/kernel'], ['hw.demo', 'a=b c']]);
  assert.equal(t.howto, 0x800n);
  assert.equal(t.kernend, 0x211000n);
  assert.deepEqual(t.verdict, {ok: true});
  assert.deepEqual(t.malformed, []);
});

const CASES: {name: string; lines: string[]; check: (t: ReturnType<typeof parseProbeConsole>) => void}[] = [
  {name: 'a PROBE line glued to SeaBIOS output without a newline', lines: ['Booting from ROM..PROBE BEGIN arch=arm64 modulep=0xffff000000a1b000 kernend=0x0'],
    check: (t) => assert.deepEqual(t.begin, {arch: 'arm64', modulep: 0xffff000000a1b000n, kernend: 0n})},
  {name: 'FAIL with a reason', lines: ['PROBE FAIL no MODINFOMD_KERNEND record'], check: (t) => assert.deepEqual(t.verdict, {ok: false, reason: 'no MODINFOMD_KERNEND record'})},
  {name: 'FAIL without a reason', lines: ['PROBE FAIL'], check: (t) => assert.deepEqual(t.verdict, {ok: false, reason: '(no reason given)'})},
  {name: 'the first verdict wins; later lines are not read', lines: ['PROBE OK', 'PROBE FAIL late', 'PROBE HOWTO 0x1'],
    check: (t) => { assert.deepEqual(t.verdict, {ok: true}); assert.equal(t.howto, undefined); }},
  {name: 'no verdict at all', lines: ['PROBE BEGIN arch=amd64 modulep=0x1000 kernend=0x2000'], check: (t) => assert.equal(t.verdict, undefined)},
  {name: 'upper-case hex digits', lines: ['PROBE FILE name=k type=elf kernel addr=0xABC size=0x10 crc32=0xCBF43926'],
    check: (t) => assert.deepEqual(t.files[0], {name: 'k', type: 'elf kernel', addr: 0xabcn, size: 0x10n, crc32: 0xcbf43926})},
  {name: 'a crc32 of more than eight digits is malformed', lines: ['PROBE FILE name=k type=t addr=0x1 size=0x1 crc32=0x123456789'],
    check: (t) => { assert.equal(t.files.length, 0); assert.equal(t.malformed.length, 1); }},
  {name: 'a FILE line without crc32 is malformed', lines: ['PROBE FILE name=k type=t addr=0x1 size=0x1'], check: (t) => assert.equal(t.malformed[0]?.line, 1)},
  {name: 'an unknown PROBE word is malformed', lines: ['x', 'PROBE HELLO there'], check: (t) => assert.deepEqual(t.malformed, [{line: 2, text: 'PROBE HELLO there'}])},
  {name: 'a second BEGIN is malformed, the first is kept', lines: ['PROBE BEGIN arch=amd64 modulep=0x1 kernend=0x2', 'PROBE BEGIN arch=amd64 modulep=0x3 kernend=0x4'],
    check: (t) => { assert.equal(t.begin?.modulep, 1n); assert.equal(t.malformed.length, 1); }},
  {name: 'ENV without "=" is malformed', lines: ['PROBE ENV novalue'], check: (t) => assert.equal(t.malformed.length, 1)},
  {name: 'a name containing spaces, up to the first " type="', lines: ['PROBE FILE name=/my dir/k type=elf obj module addr=0x1 size=0x2 crc32=0x3'],
    check: (t) => { assert.equal(t.files[0]?.name, '/my dir/k'); assert.equal(t.files[0]?.type, 'elf obj module'); }},
  {name: 'an ENV value ending in a blank keeps it (acpi.oem="BOCHS ")', lines: [cleanConsoleLine('PROBE ENV acpi.oem=BOCHS \r')],
    check: (t) => assert.deepEqual(t.env, [['acpi.oem', 'BOCHS ']])},
  {name: 'lines without PROBE are ignored', lines: ['PROBING nothing', 'SeaBIOS'], check: (t) => { assert.equal(t.malformed.length, 0); assert.equal(t.files.length, 0); }},
];

for (const c of CASES) test(`parse: ${c.name}`, () => c.check(parseProbeConsole(c.lines)));

test('cleanConsoleLine drops escape sequences, carriage returns and control characters', () => {
  assert.equal(cleanConsoleLine('\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1.16.2)\r'), 'SeaBIOS (version 1.16.2)');
  assert.equal(cleanConsoleLine('PROBE OK\r'), 'PROBE OK');
  assert.equal(cleanConsoleLine('a\x00b\x07c\tTab  '), 'abc\tTab  ', 'trailing spaces are kept: a value may end with them');
  assert.equal(probePart(cleanConsoleLine('PROBE ENV acpi.oem=BOCHS \r')), 'PROBE ENV acpi.oem=BOCHS ', 'acpi.oem="BOCHS " as the loader sets it on QEMU');
  assert.equal(cleanConsoleLine('\x1b]0;title\x07PROBE OK'), 'PROBE OK');
});

test('probePart and isVerdictLine find the protocol anywhere in a line', () => {
  assert.equal(probePart('Booting from ROM..PROBE OK'), 'PROBE OK');
  assert.equal(probePart('no protocol here'), undefined);
  assert.ok(isVerdictLine('PROBE OK'));
  assert.ok(isVerdictLine('junk PROBE FAIL because'));
  assert.ok(!isVerdictLine('PROBE FILE name=PROBE OK type=t addr=0x1 size=0x1 crc32=0x1'), 'a file named "PROBE OK" is no verdict');
  assert.ok(!isVerdictLine('PROBE OKAY'));
});
