/**
 * The probe kernel (examples/probe-kernel): the committed binaries against their sources, and against what kexec-ts
 * must see in a FreeBSD kernel and its modules.
 *   - Rebuilt by build.sh into a temporary directory when the cross tools are installed, every output equals the
 *     committed file byte for byte (skipped, naming the Debian packages, when a tool is missing; skipped, naming
 *     both, when the compiler or linker differs from the one recorded in build/toolchain.txt, because another
 *     version emits other, equally valid, bytes).
 *   - Always: read through src/elf, the kernels are FreeBSD kernels (OSABI 9, __FreeBSD_version 1500000 in the ABI
 *     note, PT_INTERP /red/herring, MODULE_VERSION(kernel), linked at KERNBASE, kernphys on amd64, no build-id) and
 *     the modules declare their versions and dependencies as sys/sys/module.h does.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {ET, PT} from '../../src/elf/constants.js';
import {ElfFile} from '../../src/elf/elf-file.js';
import {freebsdFacts, loaderSetBounds, readModuleMetadata, type ModuleDepend} from '../../src/elf/freebsd.js';
import {STB, STT} from '../../src/elf/symbols.js';
import {isFreeBsdKernel} from '../../src/image/freebsd/detect.js';

const DIR = fileURLToPath(new URL('../../examples/probe-kernel/', import.meta.url));
const BUILD = join(DIR, 'build');
const ARCHES = ['amd64', 'arm64'] as const;
const FILES = ['kernel', 'probe_dep.ko', 'probe_hello.ko'] as const;
const OUTPUTS = [...ARCHES.flatMap((a) => FILES.map((f) => `${a}/${f}`)), 'toolchain.txt'];

const VERSION = 1500000;
const KERNBASE = {amd64: 0xffffffff80000000n, arm64: 0xffff000000000000n} as const;
const MACHINE = {amd64: 62, arm64: 183} as const;

/** The tools build.sh runs, with the Debian package that provides each. */
const TOOLS: readonly [string, string][] = [
  ['gcc', 'gcc'],
  ['ld', 'binutils'],
  ['elfedit', 'binutils'],
  ['aarch64-linux-gnu-gcc', 'gcc-aarch64-linux-gnu'],
  ['aarch64-linux-gnu-ld', 'binutils-aarch64-linux-gnu'],
];

const runs = (cmd: string): boolean => spawnSync(cmd, ['--version'], {stdio: 'ignore'}).status === 0;

function buildSkip(): string | false {
  const missing = TOOLS.filter(([cmd]) => !runs(cmd));
  if (missing.length === 0) return false;
  const packages = [...new Set(missing.map(([, pkg]) => pkg))].join(', ');
  return `${missing.map(([cmd]) => cmd).join(', ')} not installed (Debian packages: ${packages})`;
}

const open = (rel: string): ElfFile => ElfFile.parse(new Uint8Array(readFileSync(join(BUILD, rel))), rel);
const byName = (a: ModuleDepend, b: ModuleDepend): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

describe('probe kernel: build.sh reproduces the committed binaries', () => {
  test('every output of a fresh build equals the committed file byte for byte', {skip: buildSkip()}, (t) => {
    const out = mkdtempSync(join(tmpdir(), 'probe-kernel-'));
    try {
      const r = spawnSync('sh', [join(DIR, 'build.sh'), out], {encoding: 'utf8'});
      assert.equal(r.status, 0, `build.sh failed:\n${r.stdout}${r.stderr}`);
      const committed = readFileSync(join(BUILD, 'toolchain.txt'), 'utf8');
      const here = readFileSync(join(out, 'toolchain.txt'), 'utf8');
      if (committed !== here) {
        const oneLine = (text: string): string => text.trim().split('\n').join('; ');
        t.skip(`the committed binaries were built with ${oneLine(committed)}; this machine has ${oneLine(here)}`);
        return;
      }
      for (const rel of OUTPUTS) {
        const fresh = readFileSync(join(out, rel));
        const kept = readFileSync(join(BUILD, rel));
        assert.ok(fresh.equals(kept), `${rel}: the rebuilt file (${fresh.length} bytes) differs from the committed one (${kept.length} bytes); run examples/probe-kernel/build.sh`);
      }
    } finally {
      rmSync(out, {recursive: true, force: true});
    }
  });
});

for (const arch of ARCHES) {
  describe(`probe kernel: committed ${arch} binaries`, () => {
    test('the kernel is a FreeBSD kernel linked at KERNBASE', () => {
      const elf = open(`${arch}/kernel`);
      assert.equal(elf.header.type, ET.EXEC);
      assert.equal(elf.header.machine, MACHINE[arch]);
      assert.equal(elf.header.osabi, 9, 'EI_OSABI FreeBSD');
      assert.deepEqual(freebsdFacts(elf), {osabi: true, version: VERSION, interpreter: '/red/herring'});
      assert.ok(isFreeBsdKernel(elf), 'kexec-ts plans it as a FreeBSD kernel');
      assert.ok(elf.programHeaders.some((p) => p.type === PT.NOTE), 'the ABI note is in a PT_NOTE');
      assert.ok(!elf.notes().some((n) => n.name === 'GNU'), 'no GNU notes (build-id, property)');
      assert.ok(elf.programHeaders.some((p) => p.type === PT.DYNAMIC), 'PT_DYNAMIC: linked -Bdynamic --export-dynamic as kern.post.mk links a kernel');
      const bounds = loaderSetBounds(elf);
      assert.ok(bounds.table && 'start' in bounds, 'stand/common/load_elf.c finds the modmetadata_set bounds through DT_HASH');

      const md = readModuleMetadata(elf);
      assert.deepEqual(md.versions, [{name: 'kernel', version: VERSION}]);
      assert.deepEqual(md.modules, ['kernel']);
      assert.deepEqual(md.depends, []);
      const start = elf.findSymbol('__start_set_modmetadata_set');
      const stop = elf.findSymbol('__stop_set_modmetadata_set');
      assert.ok(start !== undefined && stop !== undefined, 'the linker defined the set bounds');
      assert.equal(stop.value - start.value, 16n, 'two pointers: MDT_MODULE and MDT_VERSION');

      const loads = elf.loadSegments;
      const first = loads[0];
      assert.ok(first !== undefined);
      assert.equal(first.offset, 0n, 'the ELF header is in the first PT_LOAD');
      const entrySymbol = elf.findSymbol(arch === 'amd64' ? 'btext' : '_start');
      assert.equal(entrySymbol?.value, elf.header.entry, 'entry is btext / _start');
      if (arch === 'amd64') {
        assert.equal(first.vaddr, KERNBASE.amd64 + 0x200000n, 'text at KERNSTART');
        for (const p of loads) assert.equal(p.paddr, p.vaddr - KERNBASE.amd64, 'p_paddr = p_vaddr - KERNBASE');
        assert.equal(elf.entryPhysical(), elf.header.entry - KERNBASE.amd64);
        const kernphys = elf.findSymbol('kernphys');
        assert.ok(kernphys !== undefined, 'kexec-ts refuses amd64 kernels without kernphys');
        assert.equal(kernphys.type, STT.OBJECT);
        assert.equal(kernphys.bind, STB.GLOBAL);
      } else {
        assert.equal(first.vaddr, KERNBASE.arm64, 'the first PT_LOAD starts at KERNBASE');
      }
      assert.ok(elf.header.entry >= first.vaddr && elf.header.entry < first.vaddr + first.filesz, 'entry in the text');
      assert.ok(elf.symbols().length > 0, 'not stripped');
    });

    test('the modules declare MODULE_VERSION and MODULE_DEPEND as FreeBSD modules do', () => {
      const want: Record<string, {version: number; depends: ModuleDepend[]}> = {
        probe_dep: {version: 1, depends: [{name: 'kernel', min: VERSION, preferred: VERSION, max: 1599999}]},
        probe_hello: {
          version: 1,
          depends: [
            {name: 'kernel', min: VERSION, preferred: VERSION, max: 1599999},
            {name: 'probe_dep', min: 1, preferred: 1, max: 1},
          ],
        },
      };
      for (const [name, w] of Object.entries(want)) {
        const elf = open(`${arch}/${name}.ko`);
        assert.equal(elf.header.type, arch === 'amd64' ? ET.REL : ET.DYN, `${name}.ko: amd64 modules are ET_REL, arm64 ET_DYN`);
        assert.equal(elf.header.machine, MACHINE[arch]);
        assert.equal(elf.header.osabi, 9, `${name}.ko: EI_OSABI FreeBSD`);
        assert.equal(freebsdFacts(elf)?.osabi, true);
        assert.equal(isFreeBsdKernel(elf), false, `${name}.ko is not a kernel`);
        const md = readModuleMetadata(elf);
        assert.deepEqual(md.modules, [name]);
        assert.deepEqual(md.versions, [{name, version: w.version}]);
        assert.deepEqual([...md.depends].sort(byName), w.depends);
        const data = elf.sectionByName('.data');
        assert.ok(data !== undefined && data.size > 0n, `${name}.ko has a .data with something in it`);
        if (arch === 'arm64') {
          assert.ok(elf.dynamicSymbols().some((s) => s.name === '__start_set_modmetadata_set'), `${name}.ko exports the set bounds (load_elf.c looks them up by name)`);
          const bounds = loaderSetBounds(elf);
          assert.ok(bounds.table && 'start' in bounds, `${name}.ko: load_elf.c finds the set bounds through DT_HASH`);
        }
      }
    });
  });
}
