/**
 * FreeBSD module metadata (modmetadata_set) read by readModuleMetadata() against oracles:
 * - freebsd-14-amd64/modules.json (77 ET_REL modules, decoded independently when the corpus was made);
 * - for the i386 ET_DYN modules, a small decoder in this file that takes the section map from `readelf -S` and
 *   follows the in-place pointers (R_386_RELATIVE, implicit addends, load base 0) through the raw bytes;
 * - hand-checked values (readelf -r / -x) for FreeBSD 10.1 amd64 ET_REL modules.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync, readdirSync} from 'node:fs';
import {ElfFile} from '../../src/elf/elf-file.js';
import {readModuleMetadata, type ModuleMetadata} from '../../src/elf/freebsd.js';
import {CORPUS_PRESENT, CORPUS_SKIP, READELF_SKIP, corpusFile, readelf} from '../helpers/corpus.js';

interface OracleRecord {
  type: 'VERSION' | 'MODULE' | 'DEPEND' | 'PNP_INFO';
  name: string;
  version?: number;
  min?: number;
  pref?: number;
  max?: number;
}

interface ModulesJson {
  modules: Record<string, {metadata: OracleRecord[]}>;
}

const FB14 = 'freebsd-14-amd64/';
const oracle: ModulesJson = CORPUS_PRESENT
  ? (JSON.parse(readFileSync(corpusFile(`${FB14}modules.json`), 'utf8')) as ModulesJson)
  : {modules: {}};

/** The oracle's records in the shape readModuleMetadata() returns (set order kept within each kind). */
function expectedFrom(records: OracleRecord[]): ModuleMetadata {
  const of = (type: OracleRecord['type']): OracleRecord[] => records.filter((r) => r.type === type);
  return {
    modules: of('MODULE').map((r) => r.name),
    versions: of('VERSION').map((r) => ({name: r.name, version: r.version as number})),
    depends: of('DEPEND').map((r) => ({name: r.name, min: r.min as number, preferred: r.pref as number, max: r.max as number})),
  };
}

async function metadataOf(rel: string): Promise<ModuleMetadata> {
  return readModuleMetadata(await ElfFile.open(corpusFile(rel)));
}

/** Copies without extra properties or prototypes, so deepEqual compares only the documented fields. */
function plain(md: ModuleMetadata): ModuleMetadata {
  return {
    modules: [...md.modules],
    versions: md.versions.map((v) => ({name: v.name, version: v.version})),
    depends: md.depends.map((d) => ({name: d.name, min: d.min, preferred: d.preferred, max: d.max})),
  };
}

describe('freebsd-14-amd64: readModuleMetadata matches modules.json', {skip: CORPUS_SKIP}, () => {
  const names = Object.keys(oracle.modules).sort();

  test('modules.json covers every .ko of the folder and has real content', () => {
    const kos = readdirSync(corpusFile(FB14)).filter((f) => f.endsWith('.ko')).sort();
    assert.deepEqual(names, kos);
    const all = names.flatMap((n) => oracle.modules[n]?.metadata ?? []);
    for (const type of ['MODULE', 'VERSION', 'DEPEND'] as const) {
      assert.ok(all.some((r) => r.type === type), `the oracle has no ${type} record`);
    }
  });

  for (const name of names) {
    test(name, async () => {
      const expected = expectedFrom(oracle.modules[name]?.metadata ?? []);
      assert.deepEqual(plain(await metadataOf(FB14 + name)), expected, `${FB14}${name}: metadata differs from modules.json`);
    });
  }
});

/** Independent decoder for ET_DYN i386 modules: section map from readelf, pointers as stored in the file. */
function decodeEtDynI386(path: string): ModuleMetadata {
  const bytes = readFileSync(path);
  const sections: {name: string; type: string; addr: number; off: number; size: number}[] = [];
  for (const m of readelf(['-S', '-W', path]).matchAll(/^\s*\[\s*\d+\] (\S+)\s+(\S+)\s+([0-9a-f]{8}) ([0-9a-f]{6,}) ([0-9a-f]{6,})/gm)) {
    sections.push({name: m[1] as string, type: m[2] as string, addr: parseInt(m[3] as string, 16), off: parseInt(m[4] as string, 16), size: parseInt(m[5] as string, 16)});
  }
  const toOffset = (vaddr: number): number => {
    const s = sections.find((x) => x.type !== 'NOBITS' && x.addr !== 0 && vaddr >= x.addr && vaddr < x.addr + x.size);
    assert.ok(s, `${path}: address 0x${vaddr.toString(16)} is in no section with file bytes`);
    return s.off + (vaddr - s.addr);
  };
  const u32At = (vaddr: number): number => bytes.readUInt32LE(toOffset(vaddr));
  const i32At = (vaddr: number): number => bytes.readInt32LE(toOffset(vaddr));
  const cstr = (vaddr: number): string => {
    const off = toOffset(vaddr);
    return bytes.subarray(off, bytes.indexOf(0, off)).toString('latin1');
  };
  const set = sections.find((s) => s.name === 'set_modmetadata_set');
  assert.ok(set, `${path}: no set_modmetadata_set section`);
  const md: ModuleMetadata = {modules: [], versions: [], depends: []};
  for (let i = 0; i < set.size / 4; i++) {
    const at = bytes.readUInt32LE(set.off + 4 * i); // struct mod_metadata {int md_version, md_type; md_data, md_cval}
    const type = i32At(at + 4);
    const name = cstr(u32At(at + 12));
    const data = u32At(at + 8);
    if (type === 2) md.modules.push(name);
    if (type === 3) md.versions.push({name, version: i32At(data)});
    if (type === 1) md.depends.push({name, min: i32At(data), preferred: i32At(data + 4), max: i32At(data + 8)});
  }
  return md;
}

describe('freebsd-i386 ET_DYN modules: readModuleMetadata matches a readelf-guided decoder', {skip: CORPUS_SKIP || READELF_SKIP}, () => {
  for (const name of ['pflog.ko', 'pf.ko', 'pfsync.ko', 'geom_eli.ko']) {
    test(name, async () => {
      const rel = `freebsd-i386/${name}`;
      const elf = await ElfFile.open(corpusFile(rel));
      assert.equal(elf.header.type, 3, `${rel} should be ET_DYN`);
      assert.equal(elf.header.class, 32);
      const expected = decodeEtDynI386(corpusFile(rel));
      assert.ok(expected.modules.length > 0, `${rel}: the decoder found no MODULE record`);
      assert.deepEqual(plain(readModuleMetadata(elf)), expected);
    });
  }
});

const KERNEL_10_1 = {name: 'kernel', min: 1001000, preferred: 1001000, max: 1099999};

describe('hand-checked metadata of FreeBSD 10.1 and i386 modules', {skip: CORPUS_SKIP}, () => {
  test('freebsd-i386/pflog.ko: VERSION pflog 1, DEPEND pf [1,1,1]', async () => {
    assert.deepEqual(plain(await metadataOf('freebsd-i386/pflog.ko')), {
      modules: ['pflog'],
      versions: [{name: 'pflog', version: 1}],
      depends: [KERNEL_10_1, {name: 'pf', min: 1, preferred: 1, max: 1}],
    });
  });

  test('freebsd-i386/geom_eli.ko: module g_eli, no VERSION, depends on crypto', async () => {
    assert.deepEqual(plain(await metadataOf('freebsd-i386/geom_eli.ko')), {
      modules: ['g_eli'],
      versions: [],
      depends: [KERNEL_10_1, {name: 'crypto', min: 1, preferred: 1, max: 1}],
    });
  });

  test('freebsd-10.1-amd64/rc4.ko', async () => {
    assert.deepEqual(plain(await metadataOf('freebsd-10.1-amd64/rc4.ko')), {
      modules: ['rc4'], versions: [{name: 'rc4', version: 1}], depends: [KERNEL_10_1],
    });
  });

  test('freebsd-10.1-amd64/vmm.ko: two modules, kernel dependency twice', async () => {
    assert.deepEqual(plain(await metadataOf('freebsd-10.1-amd64/vmm.ko')), {
      modules: ['vmm', 'ppt_pci'], versions: [{name: 'vmm', version: 1}], depends: [KERNEL_10_1, KERNEL_10_1],
    });
  });

  test('freebsd-10.1-amd64/linux.ko: module linuxelf provides linux 1, kernel max 1001000', async () => {
    assert.deepEqual(plain(await metadataOf('freebsd-10.1-amd64/linux.ko')), {
      modules: ['linuxelf'],
      versions: [{name: 'linux', version: 1}],
      depends: [
        {name: 'sysvmsg', min: 1, preferred: 1, max: 1},
        {name: 'sysvsem', min: 1, preferred: 1, max: 1},
        {name: 'sysvshm', min: 1, preferred: 1, max: 1},
        {...KERNEL_10_1, max: 1001000},
      ],
    });
  });

  test('freebsd-10.1-amd64/dtraceall.ko: 13 dependencies in set order', async () => {
    const md = await metadataOf('freebsd-10.1-amd64/dtraceall.ko');
    assert.deepEqual(md.depends.map((d) => d.name), [
      'kernel', 'cyclic', 'opensolaris', 'dtrace', 'dtmalloc', 'dtnfscl', 'fbt', 'fasttrap', 'lockstat', 'sdt',
      'systrace', 'systrace_freebsd32', 'profile',
    ]);
    assert.deepEqual(md.versions, [{name: 'dtraceall', version: 1}]);
  });

  test('freebsd-10.1-amd64/userboot.so (no modmetadata_set): empty metadata', async () => {
    assert.deepEqual(plain(await metadataOf('freebsd-10.1-amd64/userboot.so')), {modules: [], versions: [], depends: []});
  });
});
