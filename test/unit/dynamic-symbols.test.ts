/**
 * Dynamic symbols as FreeBSD's loader looks them up (src/elf/dynamic-symbols.ts, stand/common/load_elf.c
 * __elfN(lookup_symbol)), on the committed probe kernels and arm64 modules, whose DT_HASH tables GNU ld built: every
 * named global of .dynsym (read through the section headers, a path the lookup does not use) must be found at its
 * own index, which checks elf_hash and the chain walk against the linker's. Then the loader's refusals, on copies
 * with one field changed: a chain reaching a nameless symbol or an index past nchain ("corrupt symbol table"), a
 * symbol of the wrong type or value 0, and a kernel whose table lacks __start_set_modmetadata_set, which kexec-ts
 * must refuse to plan as the loader refuses to load it.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {SHT} from '../../src/elf/constants.js';
import {dynamicSymbolTable, elfHash} from '../../src/elf/dynamic-symbols.js';
import {ElfFile} from '../../src/elf/elf-file.js';
import {loaderSetBounds, readModuleMetadata} from '../../src/elf/freebsd.js';
import {STB, STT} from '../../src/elf/symbols.js';
import {KexecError} from '../../src/errors.js';
import {planFiles} from '../../src/pipeline/plan-files.js';

const BUILD = fileURLToPath(new URL('../../examples/probe-kernel/build/', import.meta.url));
const FILES = ['amd64/kernel', 'arm64/kernel', 'arm64/probe_dep.ko', 'arm64/probe_hello.ko'];

const bytesOf = (rel: string): Uint8Array => new Uint8Array(readFileSync(join(BUILD, rel)));
const parse = (bytes: Uint8Array, name: string): ElfFile => ElfFile.parse(bytes, name);

/** The file offset of the SysV hash table, through its section header (not the path under test). */
function hashSection(elf: ElfFile): {offset: number; nbucket: number; nchain: number} {
  const sh = elf.sections.find((s) => s.type === SHT.HASH) ?? assert.fail(`${elf.file}: no SHT_HASH section`);
  const head = elf.reader.slice(sh.offset, 8n, 'SHT_HASH header');
  const dv = new DataView(head.buffer, head.byteOffset, 8);
  return {offset: Number(sh.offset), nbucket: dv.getUint32(0, true), nchain: dv.getUint32(4, true)};
}

test('elf_hash of known names (the gABI hash; values computed by hand from its definition)', () => {
  assert.equal(elfHash(''), 0);
  // "a" = 0x61; "ab" = (0x61 << 4) + 0x62 = 0x672.
  assert.equal(elfHash('a'), 0x61);
  assert.equal(elfHash('ab'), 0x672);
  // Eight characters push bits into the top nibble, which is folded back: the result always fits in 28 bits.
  assert.ok(elfHash('__start_set_modmetadata_set') < 0x10000000);
});

for (const rel of FILES) {
  describe(`DT_HASH lookups in the committed ${rel}`, () => {
    const elf = parse(bytesOf(rel), rel);
    const dyn = dynamicSymbolTable(elf) ?? assert.fail('no dynamic symbol table');

    test('every named global of .dynsym is found at its own index (elf_hash and chains agree with GNU ld\'s)', () => {
      const globals = elf.dynamicSymbols().filter((s) => s.name !== '' && s.bind !== STB.LOCAL && s.value !== 0n);
      assert.ok(globals.length >= 2);
      for (const s of globals) {
        const r = dyn.lookup(s.name, s.type);
        assert.ok('symbol' in r, `${s.name}: ${'missing' in r ? r.missing : ''}`);
        assert.equal(r.symbol.index, s.index);
        assert.equal(r.symbol.value, s.value);
      }
      assert.equal(dyn.nchain, elf.dynamicSymbols().length, 'nchain = number of .dynsym entries');
    });

    test('the modmetadata_set bounds are found as load_elf.c finds them, equal to .symtab\'s', () => {
      const b = loaderSetBounds(elf);
      assert.ok(b.table && 'start' in b, JSON.stringify(b, (_, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v)));
      const sym = (n: string): bigint => elf.symbols().find((s) => s.name === n)?.value ?? assert.fail(`${n} not in .symtab`);
      assert.equal(b.start, sym('__start_set_modmetadata_set'));
      assert.equal(b.stop, sym('__stop_set_modmetadata_set'));
    });

    test('a name of the wrong type, and an absent name, are not found', () => {
      const wrongType = dyn.lookup('__start_set_modmetadata_set', STT.OBJECT);
      assert.ok('missing' in wrongType && /of type 0, not 1/.test(wrongType.missing), JSON.stringify(wrongType));
      const absent = dyn.lookup('no_such_symbol_anywhere', STT.NOTYPE);
      assert.ok('missing' in absent && /not in the DT_HASH table/.test(absent.missing));
    });
  });
}

test('amd64 kernel: kernphys is an STT_OBJECT the loader finds (is_kernphys_relocatable)', () => {
  const dyn = dynamicSymbolTable(parse(bytesOf('amd64/kernel'), 'kernel')) ?? assert.fail('no table');
  const r = dyn.lookup('kernphys', STT.OBJECT);
  assert.ok('symbol' in r);
  assert.equal(r.symbol.size, 8n);
});

/** A copy of `rel` with bucket `b` of its hash table pointing at symbol `index`. */
function withBucket(rel: string, name: string, index: number): ElfFile {
  const bytes = bytesOf(rel).slice();
  const h = hashSection(parse(bytes, rel));
  new DataView(bytes.buffer).setUint32(h.offset + 8 + 4 * (elfHash(name) % h.nbucket), index, true);
  return parse(bytes, `${rel} (bucket changed)`);
}

describe('the loader\'s "corrupt symbol table" refusals', () => {
  test('a chain that reaches a symbol without a name (GNU ld\'s section symbols in an arm64 module\'s .dynsym)', () => {
    const elf = parse(bytesOf('arm64/probe_hello.ko'), 'probe_hello.ko');
    const nameless = elf.dynamicSymbols().find((s) => s.index > 0 && s.name === '') ?? assert.fail('no nameless .dynsym entry');
    const bad = withBucket('arm64/probe_hello.ko', '__start_set_modmetadata_set', nameless.index);
    const r = loaderSetBounds(bad);
    assert.ok(r.table && 'missing' in r && /corrupt symbol table: .* has no name/.test(r.missing), JSON.stringify(r));
    assert.deepEqual(readModuleMetadata(bad).modules, [], 'a set the loader cannot find declares nothing');
  });

  test('a chain that reaches an index past nchain', () => {
    const h = hashSection(parse(bytesOf('arm64/kernel'), 'kernel'));
    const bad = withBucket('arm64/kernel', '__stop_set_modmetadata_set', h.nchain + 5);
    const r = loaderSetBounds(bad);
    assert.ok(r.table && 'missing' in r && /reaches index \d+ \(nchain \d+\)/.test(r.missing), JSON.stringify(r));
  });

  test('plan refuses a kernel whose DT_HASH table lacks __start_set_modmetadata_set (exit 3), as load_elf.c fails the load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dynsym-'));
    try {
      const bytes = bytesOf('amd64/kernel').slice();
      const text = Buffer.from(bytes.buffer);
      const at = text.indexOf('__start_set_modmetadata_set\0');
      assert.ok(at > 0);
      text.write('X', at + 2, 'latin1'); // "__Xtart_..." in .dynstr (and wherever else the string is shared)
      const kernel = join(dir, 'kernel');
      writeFileSync(kernel, bytes);
      const e = await planFiles({image: kernel, modules: [], loaderConf: [], profile: 'amd64-4g'}).then(() => assert.fail('planned'), (x: unknown) => x);
      assert.ok(e instanceof KexecError, String(e));
      assert.equal(e.code, 3, e.message);
      assert.match(e.message, /PT_DYNAMIC: "__start_set_modmetadata_set" is not in the DT_HASH table; FreeBSD's loader .* refuses the file/);
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });
});
