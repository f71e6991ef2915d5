/**
 * Property test of every other input kexec-ts reads (issue 13, Must show 3): FreeBSD modules (ELF parse, module
 * metadata, the loader's ET_REL layout), linker.hints, loader.conf (and the kernel environment it yields) and
 * memory maps (`sysctl vm.phys_segs` text, JSON and YAML map files), each mutated by byte flips, truncations,
 * insertions of hostile tokens and field overwrites. Every mutant must be accepted or refused with a KexecError
 * whose exit code is a documented one other than 1 and whose message is one line; nothing else may be thrown.
 * 21,000 mutants per run in all (FUZZ_RUNS scales every target); fast-check prints the seed of any failure.
 * In-process, so it stays fast; a sample also goes through the CLI to show no exit 1 and no stack trace.
 */
import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import fc from 'fast-check';
import {ElfFile} from '../../src/elf/elf-file.js';
import {readModuleMetadata} from '../../src/elf/freebsd.js';
import {KexecError} from '../../src/errors.js';
import {encodeEnvironment} from '../../src/image/freebsd/boot-env.js';
import {parseLinkerHints} from '../../src/image/freebsd/linker-hints.js';
import {readLoaderConfig} from '../../src/image/freebsd/loader-config.js';
import {RootFs} from '../../src/io/root-fs.js';
import {layoutObjModule} from '../../src/image/freebsd/obj-module-layout.js';
import {parseMemoryMapText} from '../../src/memory/map-file.js';
import {buildFreeBsdModule} from '../fixtures/freebsd-module.js';
import {IN_PROCESS_SKIP, cli} from '../helpers/cli.js';
import {hintModule, hintVersion, writeLinkerHints} from '../helpers/linker-hints-writer.js';
import {physSegsText} from '../helpers/plan-fixtures.js';

const SCALE = Number(process.env.FUZZ_RUNS ?? 20000) / 20000;
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));
const dir = mkdtempSync(join(tmpdir(), 'kexec-input-fuzz-'));
after(() => rmSync(dir, {recursive: true, force: true}));

/** Only a KexecError with a documented exit code other than 1 and a one-line message may escape. */
function refusedWell(e: unknown, codes: readonly number[]): boolean {
  if (!(e instanceof KexecError)) throw e;
  assert.ok(codes.includes(e.code), `exit ${e.code} (${e.reason}): ${e.message}`);
  assert.ok(!e.message.includes('\n'), `one line: ${JSON.stringify(e.message)}`);
  return true;
}

type ByteMutation = {kind: 'flip'; pos: number; xor: number} | {kind: 'cut'; pos: number} | {kind: 'word'; pos: number; value: number};

const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({kind: fc.constant('flip' as const), pos: fc.nat(), xor: fc.integer({min: 1, max: 255})}),
  fc.record({kind: fc.constant('cut' as const), pos: fc.nat()}),
  fc.record({kind: fc.constant('word' as const), pos: fc.nat(), value: fc.constantFrom(0, 1, 3, 0x7f, 0xff, 0xffff, 0x7fffffff, -1, -4, 0x100000)}),
);

function mutateBytes(seed: Uint8Array, muts: readonly ByteMutation[]): Uint8Array {
  let b = seed.slice();
  for (const m of muts) {
    if (b.length === 0) break;
    const pos = m.pos % b.length;
    if (m.kind === 'flip') b[pos] = (b[pos] ?? 0) ^ m.xor;
    else if (m.kind === 'cut') b = b.slice(0, pos);
    else if (pos + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setInt32(pos & ~3, m.value, true);
  }
  return b;
}

type TextMutation = {kind: 'flip'; pos: number; xor: number} | {kind: 'cut'; pos: number} | {kind: 'insert'; pos: number; token: string} | {kind: 'dup'; pos: number; len: number};

const TOKENS = ['\0', '\n', '\r\n', '"', "'", '#', '=', ':', '{', '}', '[', ']', '-', '0x', '0xffffffffffffffff', '0x10000000000000000', '&a', '*a', '!!js/function', '<<: *a',
  'SEGMENT 0:', 'start:', 'end:', 'free list:', 'domain:', '_load="YES"', 'module_path=', 'kernel_options=', '../', '\u001b[2J', '\u00ff', 'é', '\t', ' '.repeat(40)];

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({kind: fc.constant('flip' as const), pos: fc.nat(), xor: fc.integer({min: 1, max: 127})}),
  fc.record({kind: fc.constant('cut' as const), pos: fc.nat()}),
  fc.record({kind: fc.constant('insert' as const), pos: fc.nat(), token: fc.constantFrom(...TOKENS)}),
  fc.record({kind: fc.constant('dup' as const), pos: fc.nat(), len: fc.integer({min: 1, max: 200})}),
);

function mutateText(seed: string, muts: readonly TextMutation[]): string {
  let s = seed;
  for (const m of muts) {
    const pos = s.length === 0 ? 0 : m.pos % s.length;
    if (m.kind === 'flip') s = s.slice(0, pos) + String.fromCharCode((s.charCodeAt(pos) || 32) ^ m.xor) + s.slice(pos + 1);
    else if (m.kind === 'cut') s = s.slice(0, pos);
    else if (m.kind === 'insert') s = s.slice(0, pos) + m.token + s.slice(pos);
    else s = s.slice(0, pos) + s.slice(pos, pos + m.len).repeat(3) + s.slice(pos);
  }
  return s;
}

const MODULES = [
  buildFreeBsdModule({name: 'fuzzmod', version: 3, depends: [{name: 'kernel', min: 1, preferred: 2, max: 3}]}),
  buildFreeBsdModule({name: 'other', version: 1, textSize: 0x80, depends: [{name: 'fuzzmod', min: 1, preferred: 3, max: 5}, {name: 'x', min: 0, preferred: 0, max: 0}]}),
];

test('modules: parse, metadata and ET_REL layout accept or refuse with exit 3/4 (6,000 mutants)', {timeout: 300000}, () => {
  fc.assert(fc.property(fc.nat(MODULES.length - 1), fc.array(byteMutation, {minLength: 1, maxLength: 4}), (which, muts) => {
    const bytes = mutateBytes(MODULES[which] as Uint8Array, muts);
    try {
      const elf = ElfFile.parse(bytes, 'fuzz.ko');
      readModuleMetadata(elf);
      layoutObjModule(elf, 'fuzz.ko', 0x2000000n);
    } catch (e) {
      refusedWell(e, [3, 4]);
    }
  }), {numRuns: runs(6000)});
});

const HINTS = writeLinkerHints([hintModule('fuzz_pci', 'fuzz.ko'), hintVersion('fuzz', 3, 'fuzz.ko'), hintVersion('other', 12, 'other.ko'),
  {type: 'pnp', bus: 'pci', format: 'U16:vendor;U16:device', nentries: 1, entries: Uint8Array.of(0x86, 0x80, 0x34, 0x12)}]);

test('linker.hints: parsed or refused with exit 3, never a name that leaves the directory (5,000 mutants)', {timeout: 300000}, () => {
  fc.assert(fc.property(fc.array(byteMutation, {minLength: 1, maxLength: 4}), (muts) => {
    try {
      for (const r of parseLinkerHints(mutateBytes(HINTS, muts), 'linker.hints')) {
        assert.ok(!r.kldfile.includes('/') && !r.kldfile.includes('..') && !r.modname.includes('/'), JSON.stringify(r));
      }
    } catch (e) {
      refusedWell(e, [3]);
    }
  }), {numRuns: runs(5000)});
});

const LOADER_CONF = [
  '# loader.conf', 'kernel="kernel"', 'kernel_options="-v"', 'module_path="/boot/kernel;/boot/modules"', 'if_em_load="YES"',
  'geom_eli_load="YES"', 'mymod_name="/boot/modules/my.ko"', 'mymod_type="elf module"', 'vfs.root.mountfrom="ufs:/dev/ada0p2"',
  "hint.uart.0.flags='0x10'", 'console=comconsole', 'boot_verbose="YES"', 'kern.geom.eli.passphrase="x"', '',
].join('\n');

test('loader.conf: parsed (and its environment encoded) or refused with exit 2 or 4 (5,000 mutants)', {timeout: 300000}, async () => {
  const file = join(dir, 'loader.conf');
  await fc.assert(fc.asyncProperty(fc.array(textMutation, {minLength: 1, maxLength: 5}), async (muts) => {
    writeFileSync(file, mutateText(LOADER_CONF, muts));
    try {
      const conf = await readLoaderConfig(new RootFs('/'), () => undefined, [file]);
      encodeEnvironment(new Map([...conf.env].map(([k, v]) => [k, v.value])));
    } catch (e) {
      refusedWell(e, [2, 4]);
    }
  }), {numRuns: runs(5000)});
});

const MAPS = [
  physSegsText([{start: 0x1000n, end: 0x9f000n, domain: 0}, {start: 0x100000n, end: 0xbff00000n, domain: 0}, {start: 0x100000000n, end: 0x240000000n, domain: 1}]),
  JSON.stringify({ranges: [{start: '0x100000', end: '0x80000000', type: 'ram', label: 'low'}, {start: '0xfee00000', end: '0xfee01000', type: 'mmio'}]}, null, 2),
  'ranges:\n  - start: 0x100000\n    end: 0x80000000\n    type: ram\n  - {start: 0x100000000, end: 0x140000000}\n',
];

test('memory maps (vm.phys_segs, JSON, YAML): parsed or refused with exit 2 (5,000 mutants)', {timeout: 300000}, () => {
  fc.assert(fc.property(fc.nat(MAPS.length - 1), fc.array(textMutation, {minLength: 1, maxLength: 5}), (which, muts) => {
    try {
      const map = parseMemoryMapText(mutateText(MAPS[which] as string, muts), 'map');
      for (const r of map.ranges) assert.ok(r.range.start < r.range.end);
    } catch (e) {
      refusedWell(e, [2]);
    }
  }), {numRuns: runs(5000)});
});

test('through the CLI: mutated maps and loader.conf files never exit 1 and never print a stack', {skip: IN_PROCESS_SKIP, timeout: 300000}, async () => {
  const kernel = join(process.cwd(), 'examples/probe-kernel/build/amd64/kernel');
  const map = join(dir, 'cli-map');
  const conf = join(dir, 'cli-loader.conf');
  await fc.assert(fc.asyncProperty(fc.nat(MAPS.length - 1), fc.array(textMutation, {minLength: 1, maxLength: 4}), async (which, muts) => {
    writeFileSync(map, mutateText(MAPS[which] as string, muts));
    writeFileSync(conf, mutateText(LOADER_CONF, muts));
    const r = await cli(['plan', '--json', '--memmap', map, '--loader-conf', conf, kernel]);
    assert.notEqual(r.code, 1, r.stdout);
    assert.doesNotMatch(`${r.stdout}\n${r.stderr}`, /^\s+at .*:\d+:\d+\)?$/m, 'no stack trace');
    JSON.parse(r.stdout);
  }), {numRuns: runs(60)});
});
