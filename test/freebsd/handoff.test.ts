/**
 * The FreeBSD hand-off, read back the way the new kernel would read it: `kexec-ts plan --json --export DIR` on a
 * FreeBSD-shaped test kernel with real modules (freebsd-14-amd64 with linker.hints, freebsd-10.1-amd64 without)
 * and on an arm64 kernel with an ET_DYN module; physical memory is rebuilt from the segment files and the preload
 * metadata at handoff.metadata is walked with an independent decoder (test/helpers/modinfo-decoder.ts). Every
 * file's bytes, the environment, HOWTO, KERNEND, MODULEP, the memory map record and the entry contract
 * (trampoline parameters, amd64 page tables) are checked against the input files and the reference notes.
 */
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {basename, join} from 'node:path';
import {CLI_BUILT, CORPUS_SKIP} from '../helpers/corpus.js';
import {SHT} from '../helpers/elf64-lite.js';
import {FB101_DIR, FB14_DIR, planExport, writeArm64DynModule, writeFb101Kernel, writeFb14Kernel, writeKernel, type PlanRun} from '../helpers/freebsd-plan-run.js';
import {checkElfFile, checkFileList, checkObjModule, checkPlacement, decodeHandoff, objSectionMismatches, type HandoffContext} from '../helpers/handoff-checks.js';
import {checkAmd64Entry, checkArm64Entry, checkBootInfo} from '../helpers/handoff-entry-checks.js';
import {MODINFOMD, toPhys} from '../helpers/modinfo-decoder.js';
import {PhysicalMemory, segmentFile} from '../helpers/physical-memory.js';

const NOT_BUILT = CLI_BUILT ? false : 'dist/ is not built (npm run build)';
const skipCorpus = CORPUS_SKIP || NOT_BUILT;
const ENV = {'acpi.rsdp': '0x7fe14000', 'hw.test.greeting': 'hello world', 'kern.hz': '100', 'vfs.root.mountfrom': 'ufs:/dev/ada0p2'};
const ENV_ARGS = Object.entries(ENV).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
const RB_SINGLE = 0x2;
const RB_VERBOSE = 0x800;
const BOOT = {env: {...ENV, boot_single: 'YES', boot_verbose: 'YES'}, howto: RB_SINGLE | RB_VERBOSE};
const FB14_MODULES = ['if_bwn', 'if_iwm', 'dummynet', 'if_em', 'nfsd', 'ng_ubt'];
const FB101_MODULES = ['accf_data', 'nullfs', 'rc4', 'vmm', 'linux'];

let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'kexec-ts-handoff-'));
});
after(() => {
  if (tmp !== '') rmSync(tmp, {recursive: true, force: true});
});

/** Writes the kernel (and any inputs) into a fresh directory, plans `--export DIR/export ARGS KERNEL MODULES`. */
async function planCase(name: string, kernel: (dir: string) => string, args: string[], modules: (dir: string) => string[]): Promise<HandoffContext> {
  const dir = mkdtempSync(join(tmp, `${name}-`));
  const k = kernel(dir);
  const run = await planExport(join(dir, 'export'), [...ENV_ARGS, '--howto', '-s -v', ...args, k, ...modules(dir)]);
  return decodeHandoff(run);
}

/** Section comparisons done for the obj modules of `c` (for the report). */
function countSections(c: HandoffContext): number {
  return c.md.slice(1).reduce((n, m) => n + (m.shdr?.sections.filter((s) => s.addr !== 0n && s.size !== 0n).length ?? 0), 0);
}

/** The amd64 checks shared by both corpus cases. */
function amd64Suite(label: string, get: () => HandoffContext): void {
  test(`${label}: NAME first, kernel first, types, ADDR/SIZE as the hand-off reports them`, () => checkFileList(get(), 'elf obj module'));
  test(`${label}: files inside loaded memory, disjoint, each on the page after the previous one`, () => checkPlacement(get()));
  test(`${label}: kernel PT_LOADs at vaddr - KERNBASE + physOffset, bss zero, ELFHDR/SHDR, symbol block SSYM..ESYM`, () => checkElfFile(get(), 0));
  test(`${label}: every module's sections at their SHDR sh_addr (recomputed as obj_loadimage), NOBITS and holes zero`, () => {
    const c = get();
    for (let i = 1; i < c.files.length; i++) checkObjModule(c, i);
    assert.ok(countSections(c) > 10 * (c.files.length - 1), `${countSections(c)} sections compared`);
  });
  test(`${label}: HOWTO, ENVP and environment, KERNEND, MODULEP, SMAP/EFI_MAP`, () => checkBootInfo(get(), BOOT));
  test(`${label}: amd64 entry contract (trampoline parameters, page tables as amd64_loadaddr walks them)`, () => checkAmd64Entry(get()));
}

describe('amd64 test kernel (1402000) + freebsd-14-amd64 modules', {skip: skipCorpus}, () => {
  let c: HandoffContext | undefined;
  const get = (): HandoffContext => {
    assert.ok(c !== undefined, 'the plan was made');
    return c;
  };
  before(async () => {
    c = await planCase('fb14', writeFb14Kernel, ['--module-path', FB14_DIR], () => FB14_MODULES);
  });
  amd64Suite('fb14', get);

  test('fb14: the requested modules and their linker.hints dependencies are loaded; provides match modules.json', () => {
    const h = get().run.h;
    const names = h.files.map((f) => basename(f.name));
    for (const m of FB14_MODULES) assert.ok(names.includes(`${m}.ko`), `${m}.ko loaded`);
    assert.ok(h.dependencies.length > 0 && names.length > FB14_MODULES.length + 1, 'dependencies were added');
    for (const d of h.dependencies) assert.ok(names.includes(basename(d.file)), `${d.file} is among the files`);
    const oracle = JSON.parse(readFileSync(join(FB14_DIR, 'modules.json'), 'utf8')) as {modules: Record<string, {metadata: {type: string; name: string; version?: number}[]}>};
    for (const f of h.files.slice(1)) {
      const want = (oracle.modules[basename(f.name)]?.metadata ?? []).filter((r) => r.type === 'VERSION').map((r) => `${r.name}@${r.version}`);
      assert.deepEqual([...f.modules].sort(), want.sort(), `${basename(f.name)}: modules it provides (MDT_VERSION)`);
    }
  });
});

describe('amd64 test kernel (1001000) + freebsd-10.1-amd64 modules (no linker.hints)', {skip: skipCorpus}, () => {
  let c: HandoffContext | undefined;
  const get = (): HandoffContext => {
    assert.ok(c !== undefined, 'the plan was made');
    return c;
  };
  before(async () => {
    c = await planCase('fb101', writeFb101Kernel, ['--module-path', FB101_DIR], () => FB101_MODULES);
  });
  amd64Suite('fb101', get);

  test('fb101: exactly the five modules, in order, no dependency added (the kernel provides sysv*)', () => {
    const h = get().run.h;
    assert.deepEqual(h.files.slice(1).map((f) => basename(f.name)), FB101_MODULES.map((m) => `${m}.ko`));
    assert.deepEqual(h.dependencies, []);
    assert.deepEqual(h.files.slice(1).map((f) => f.modules), [[], [], ['rc4@1'], ['vmm@1'], ['linux@1']], 'MDT_VERSION records of each module');
  });
});

describe('arm64 test kernel + an ET_DYN module', {skip: NOT_BUILT}, () => {
  let c: HandoffContext | undefined;
  const get = (): HandoffContext => {
    assert.ok(c !== undefined, 'the plan was made');
    return c;
  };
  before(async () => {
    const kernel = (dir: string): string => writeKernel(dir, 'kernel', {arch: 'arm64', version: 1500000});
    c = await planCase('arm64', kernel, ['--kernel-options', 'kern.test_arg=1'], (dir) => [writeArm64DynModule(dir, 'dyntest')]);
  });

  test('arm64: NAME first, kernel first, "elf kernel" / "elf module"', () => checkFileList(get(), 'elf module'));
  test('arm64: files inside loaded memory, disjoint, chained', () => checkPlacement(get()));
  test('arm64: kernel at its VAs (off 0) + physOffset, ADDR = KERNBASE, symbol block', () => {
    checkElfFile(get(), 0);
    assert.equal(get().files[0]?.addr, 0xffff000000000000n, 'kernel ADDR is KERNBASE (a KVA)');
  });
  test('arm64: ET_DYN module PT_LOADs at p_vaddr + ADDR, its own symbol block, ELFHDR ESYM SSYM SHDR', () => {
    checkElfFile(get(), 1);
    assert.deepEqual(get().md[1]?.order, [MODINFOMD.ELFHDR, MODINFOMD.ESYM, MODINFOMD.SSYM, MODINFOMD.SHDR]);
  });
  test('arm64: MODINFO_ARGS carries kernel_options (kernel only) and its k=v word reached the environment', () => {
    assert.deepEqual(get().files.map((f) => f.args), ['kern.test_arg=1', undefined]);
    assert.equal(get().run.h.env['kern.test_arg'], '1');
  });
  test('arm64: HOWTO, ENVP and environment, KERNEND, EFI_MAP (0x1001)', () => checkBootInfo(get(), BOOT));
  test('arm64: entry contract (x0 = modulep KVA, branch to the kernel PA)', () => checkArm64Entry(get()));
});

describe('the section comparison is live', {skip: skipCorpus}, () => {
  test('flipping one byte of a module in a segment file is reported at that address', async () => {
    const c = await planCase('flip', writeFb101Kernel, ['--module-path', FB101_DIR], () => ['nullfs']);
    const beforeFlip = objSectionMismatches(c, 1);
    const clean = (c.md[1]?.shdr?.sections ?? []).filter((s) => s.addr !== 0n && s.type !== SHT.NOBITS && s.size > 16n)
      .filter((s) => !beforeFlip.some((m) => m.pa >= toPhys(s.addr, c.physOffset) && m.pa < toPhys(s.addr + s.size, c.physOffset)))
      .sort((a, b) => (a.size > b.size ? -1 : 1))[0];
    assert.ok(clean !== undefined, 'nullfs.ko has a placed section that matches before the flip');
    const pa = toPhys(clean.addr + clean.size / 2n, c.physOffset);
    const seg = c.run.plan.segments.find((s) => pa >= BigInt(s.mem) && pa < BigInt(s.mem) + BigInt(s.bufsz));
    assert.ok(seg !== undefined, 'the byte is in a segment file');
    const path = segmentFile(c.run.dir, seg.index);
    const bytes = readFileSync(path);
    const off = Number(pa - BigInt(seg.mem));
    bytes[off] = (bytes[off] ?? 0) ^ 0xff;
    writeFileSync(path, bytes);
    const flipped: PlanRun = {...c.run, memory: PhysicalMemory.fromExport(c.run.dir).memory};
    const afterFlip = objSectionMismatches(decodeHandoff(flipped), 1);
    assert.ok(afterFlip.some((m) => m.pa === pa), `the flipped byte at 0x${pa.toString(16)} is reported: ${afterFlip.map((m) => m.message).join('; ')}`);
    assert.equal(afterFlip.length, beforeFlip.length + 1, 'exactly one more mismatch');
  });
});
