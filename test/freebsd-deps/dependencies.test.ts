/**
 * Module dependencies as stand/common/module.c resolves them (freebsd-layout.md §3.2-3.3, freebsd-kexec.md §6):
 * the real FreeBSD 14.2 amd64 module set (../shared/corpus/freebsd-14-amd64, skipped when absent) against an
 * oracle computed here from its modules.json, and synthetic trees (modules from test/fixtures/freebsd-module.ts,
 * linker.hints from test/helpers/linker-hints-writer.ts) for search order, version preference and refusals.
 */
import {after, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, readFileSync, readdirSync} from 'node:fs';
import {basename, join} from 'node:path';
import {CLI_BUILT, CORPUS_DIR} from '../helpers/corpus.js';
import {MODULE_TEXT, ModuleTree, dep, planBytes, planFails, planOk} from '../helpers/freebsd-deps-fixtures.js';
import {hintModule, hintVersion, readLinkerHintsForTest} from '../helpers/linker-hints-writer.js';
import {planJson} from '../helpers/plan-fixtures.js';

const FB14 = join(CORPUS_DIR, 'freebsd-14-amd64');
const corpusSkip = existsSync(join(FB14, 'modules.json')) && existsSync(join(FB14, 'linker.hints')) ? false : `corpus folder ${FB14} is absent`;
const cliSkip = CLI_BUILT ? false : 'dist/ is not built (npm run build)';
const tree = new ModuleTree();
after(() => tree.remove());

interface OracleDep {name: string; min: number; pref: number; max: number; by: string; hint?: string}
interface OracleModule {metadata: {type: string; name: string; version?: number}[]; deps_kernel_first: OracleDep[]}

describe('freebsd-14-amd64: a module by name pulls in exactly its closure, in module.c order', {skip: corpusSkip}, () => {
  const oracle = corpusSkip ? {} : (JSON.parse(readFileSync(join(FB14, 'modules.json'), 'utf8')) as {modules: Record<string, OracleModule>}).modules;
  const hints = corpusSkip ? [] : readLinkerHintsForTest(readFileSync(join(FB14, 'linker.hints')));
  const kernelRecords = hints.flatMap((r) => (r.type === 'version' && r.kldfile === 'kernel' ? [{name: r.modname, version: r.version}] : []));
  const builtins = kernelRecords.filter((r) => r.name !== 'kernel');
  const kernel = corpusSkip ? '' : tree.kernel({version: 1402000, builtins});
  const names = Object.keys(oracle).sort();

  /** module.c: each file's DEPLIST walked in reverse; an unsatisfied dependency is loaded (and expanded) right away. */
  function expected(root: string): {order: string[]; added: string[]} {
    const have = new Map<string, number[]>();
    const provide = (name: string, v: number): void => void have.set(name, [...(have.get(name) ?? []), v]);
    provide('kernel', 1402000);
    for (const b of builtins) provide(b.name, b.version);
    const satisfied = (d: OracleDep): boolean => (have.get(d.name) ?? []).some((v) => v === d.pref || (v >= d.min && v <= d.max));
    const order: string[] = [];
    const added: string[] = [];
    const load = (file: string): void => {
      const m = oracle[file];
      assert.ok(m !== undefined, `modules.json has ${file}`);
      order.push(file);
      for (const r of m.metadata) if (r.type === 'VERSION') provide(r.name, r.version as number);
      for (const d of [...m.deps_kernel_first].reverse()) {
        if (d.by === 'self' || satisfied(d)) continue;
        assert.notEqual(d.by, 'kernel', `${file}: ${d.name} is marked "kernel" but the kernel's linker.hints records lack it`);
        added.push(`${d.by} for ${d.name} needed by ${file}`);
        load(d.by);
      }
    };
    load(root);
    return {order, added};
  }

  test('modules.json has the shape the oracle relies on, and the kernel records come from linker.hints', () => {
    const kos = readdirSync(FB14).filter((f) => f.endsWith('.ko')).sort();
    assert.deepEqual(names, kos);
    assert.equal(names.length, 77);
    for (const [file, m] of Object.entries(oracle)) {
      for (const d of m.deps_kernel_first) {
        assert.ok(Number.isInteger(d.min) && Number.isInteger(d.pref) && Number.isInteger(d.max), `${file}: ${d.name} has a version range`);
        if (d.by !== 'self' && d.by !== 'kernel') {
          assert.ok(names.includes(d.by), `${file}: ${d.name} is provided by ${d.by}, a file of the set`);
          assert.equal(d.hint, d.by, `${file}: ${d.name}: linker.hints names the same file`);
        }
      }
    }
    assert.deepEqual(kernelRecords.filter((r) => r.name === 'kernel'), [{name: 'kernel', version: 1402000}]);
    assert.equal(builtins.length, 128, 'the kernel has 129 MDT_VERSION records in linker.hints, one of them "kernel"');
    for (const n of ['wlan', 'firmware', 'wlan_amrr', 'pci', 'ether']) assert.ok(builtins.some((b) => b.name === n), `kernel provides ${n}`);
  });

  test('if_bwn: the 6-deep chain, each dependency after the module that needs it, reported in handoff and notes', async () => {
    const {plan, handoff, order} = await planOk({image: kernel, modules: ['if_bwn'], modulePath: FB14});
    const want = expected('if_bwn.ko');
    assert.deepEqual(order, want.order);
    assert.deepEqual(new Set(order), new Set(['if_bwn.ko', 'bhnd.ko', 'gpiobus.ko', 'bhndb.ko', 'bhndb_pci.ko', 'bhnd_pci_hostb.ko',
      'bhnd_pci.ko', 'bcma_bhndb.ko', 'bcma.ko', 'siba_bhndb.ko', 'siba.ko']));
    assert.ok(!order.includes('wlan.ko') && !order.includes('firmware.ko'), 'wlan and firmware are satisfied by the kernel');
    const got = handoff.dependencies.map((d) => `${basename(d.file)} for ${d.module} needed by ${basename(d.neededBy)}`);
    assert.deepEqual([...got].sort(), [...want.added].sort());
    for (const d of handoff.dependencies) {
      assert.ok(order.indexOf(basename(d.file)) > order.indexOf(basename(d.neededBy)), `${basename(d.file)} comes after ${basename(d.neededBy)}`);
      assert.match(d.how, /^linker\.hints in .*freebsd-14-amd64 \(\S+ v1 in \S+\.ko\)$/);
      assert.ok(plan.notes.some((n) => n.startsWith(`added ${basename(d.file)} for module "${d.module}" needed by ${basename(d.neededBy)} (`)), `a note for ${basename(d.file)}`);
    }
    let end = 0n;
    for (const f of handoff.files) {
      assert.ok(BigInt(f.addr) >= end, `${basename(f.name)} at ${f.addr} follows the previous file`);
      if (f.type !== 'elf kernel') assert.equal(BigInt(f.addr) % 0x1000n, 0n, `${basename(f.name)} is page aligned`);
      end = BigInt(f.addr) + BigInt(f.size);
    }
  });

  describe('every module of the set, one at a time', () => {
    for (const file of names) {
      test(file, async (t) => {
        const name = file.replace(/\.ko$/, '');
        // module.c mod_load(): `load NAME` first asks file_findmodule(NULL, NAME); a module the kernel already
        // provides (linker.hints credits it to "kernel") is not loaded again.
        const builtin = builtins.some((b) => b.name === name);
        const want = builtin ? {order: [], added: []} : expected(file);
        try {
          const {order, handoff, plan} = await planOk({image: kernel, modules: [name], modulePath: FB14});
          assert.deepEqual(order, want.order);
          assert.equal(handoff.dependencies.length, Math.max(0, want.order.length - 1));
          if (builtin) assert.ok(plan.notes.some((n) => n.startsWith(`module '${name}' already loaded (in `)), `a note says ${name} is in the kernel`);
        } catch (e) {
          if ((e as {reason?: string}).reason !== 'dependency-cycle') throw e;
          assert.match((e as Error).message, /\.ko -> .*\.ko/);
          t.diagnostic(`real-data cycle, refused (documented): ${(e as Error).message}`);
        }
      });
    }
  });

  test('all 77 modules at once: each file is loaded once; those the kernel provides are skipped with a note (module.c mod_load)', async () => {
    const all = names.map((f) => f.replace(/\.ko$/, ''));
    const {order, plan} = await planOk({image: kernel, modules: all, modulePath: FB14});
    assert.equal(new Set(order).size, order.length, `no file twice: ${order.join(' ')}`);
    const provided = all.filter((m) => builtins.some((b) => b.name === m));
    assert.deepEqual([...order].sort(), names.filter((f) => !provided.includes(f.replace(/\.ko$/, ''))).sort(), 'every file the kernel does not provide, once');
    for (const m of provided) assert.ok(plan.notes.some((x) => x.startsWith(`module '${m}' already loaded (in `)), `${m} is reported as provided by the kernel`);
    assert.ok(provided.length > 0, 'the corpus kernel provides some of the set (wlan, firmware...)');
    // As a dependency: file_load_dependencies finds it with file_findmodule in the kernel and loads nothing.
    assert.ok(plan.notes.some((x) => /^module 'wlan' already loaded \(in kernel\), needed by \S+\.ko/.test(x)), plan.notes.filter((x) => x.startsWith('module')).join(' | '));
  });

  test('a kernel of another version: modules built KLD_TIED to 1402000 are refused, naming the chain and the range', async () => {
    const other = tree.kernel({version: 1401000, builtins});
    const e = await planFails({image: other, modules: ['if_em'], modulePath: FB14});
    // "kernel" is found by name (the kernel file itself, first in the module path), so module.c says "exists but with wrong version".
    assert.deepEqual([e.code, e.reason], [4, 'dependency-version']);
    assert.match(e.message, /^if_em\.ko( -> iflib\.ko)? -> kernel: module kernel \[1402000, 1402000\] \(preferred 1402000\) exists but with wrong version \(kernel provides v1401000\)$/);
  });

  test('CLI: plan --json if_bwn exits 0 and lists the 10 added files', {skip: cliSkip}, async () => {
    const {r, plan} = await planJson(['--module-path', FB14, kernel, 'if_bwn']);
    assert.equal(r.code, 0);
    const h = (plan as unknown as {handoff: {dependencies: unknown[]; files: unknown[]}}).handoff;
    assert.equal(h.dependencies.length, 10);
    assert.equal(h.files.length, 12);
  });
});

describe('synthetic trees: search, versions and refusals', () => {
  const kernel = tree.kernel();
  const plan = (modulePath: string, ...modules: string[]): ReturnType<typeof planOk> => planOk({image: kernel, modules, modulePath});
  const fails = (modulePath: string, ...modules: string[]): ReturnType<typeof planFails> => planFails({image: kernel, modules, modulePath});

  test('a missing dependency two levels down: exit 4 dependency-missing, with the chain and the wanted range', async () => {
    const d = tree.dir('missing');
    tree.module('missing', {name: 'a', version: 1, depends: [dep('b', 1, 1, 1)]});
    tree.module('missing', {name: 'b', version: 1, depends: [dep('c', 2, 2, 3)]});
    const e = await fails(d, 'a');
    assert.equal(e.code, 4);
    assert.equal(e.reason, 'dependency-missing');
    assert.ok(e.message.startsWith('a.ko -> b.ko: needs module c [2, 3] (preferred 2)'), e.message);
    assert.ok(e.message.includes(d), 'the message names the module path searched');
  });

  test('hints offer v1, the module wants [2, 3]: dependency-version when b.ko is found by name, dependency-missing when not', async () => {
    const d = tree.dir('wrongver');
    tree.module('wrongver', {name: 'a', version: 1, depends: [dep('b', 2, 2, 3)]});
    tree.module('wrongver', {name: 'b', version: 1});
    tree.hints('wrongver', [hintModule('b', 'b.ko'), hintVersion('b', 1, 'b.ko'), hintVersion('a', 1, 'a.ko')]);
    const e = await fails(d, 'a');
    assert.deepEqual([e.code, e.reason], [4, 'dependency-version']);
    assert.ok(e.message.startsWith('a.ko -> b.ko: module b [2, 3] (preferred 2) exists but with wrong version (b.ko provides v1)'), e.message);

    const d2 = tree.dir('wrongver2');
    tree.module('wrongver2', {name: 'a', version: 1, depends: [dep('b', 2, 2, 3)]});
    tree.module('wrongver2', {name: 'b', version: 1}, 'bee.ko');
    tree.hints('wrongver2', [hintVersion('b', 1, 'bee.ko')]);
    const e2 = await fails(d2, 'a');
    assert.deepEqual([e2.code, e2.reason], [4, 'dependency-missing']);
    assert.ok(e2.message.startsWith('a.ko: needs module b [2, 3] (preferred 2)'), e2.message);
  });

  test('version preference: the exact preferred version, else the highest in range, whatever the hints order', async () => {
    const d = tree.dir('prefs');
    const d5 = tree.dir('prefs5');
    for (const v of [1, 2, 3]) tree.module('prefs', {name: 'b', version: v}, `b${v}.ko`);
    tree.hints('prefs', [3, 1, 2].map((v) => hintVersion('b', v, `b${v}.ko`)));
    for (const v of [1, 3, 5]) tree.module('prefs5', {name: 'b', version: v}, `b${v}.ko`);
    tree.hints('prefs5', [1, 5, 3].map((v) => hintVersion('b', v, `b${v}.ko`)));
    const cases: [string, string, ReturnType<typeof dep>, string][] = [
      [d, 'p2', dep('b', 1, 2, 3), 'b2.ko'], [d, 'p5', dep('b', 1, 5, 3), 'b3.ko'], [d, 'p9', dep('b', 1, 9, 2), 'b2.ko'],
      [d5, 'x5', dep('b', 1, 5, 3), 'b5.ko'], // module.c: an exact preferred match wins even outside [min, max]
    ];
    for (const [dir, name, want, file] of cases) {
      tree.module(basename(dir), {name, version: 1, depends: [want]});
      const {order, handoff} = await plan(dir, name);
      assert.deepEqual(order, [`${name}.ko`, file], `${name} wants b [${want.min}, ${want.max}] preferred ${want.preferred}`);
      assert.equal(handoff.dependencies[0]?.how, `linker.hints in ${dir} (b v${file.slice(1, 2)} in ${file})`);
    }
  });

  test('a cycle a -> b -> a is refused (dependency-cycle, with the chain); so is a -> b -> c -> a', async () => {
    const d = tree.dir('cycle');
    tree.module('cycle', {name: 'a', version: 1, depends: [dep('b', 1, 1, 1)]});
    tree.module('cycle', {name: 'b', version: 1, depends: [dep('a', 1, 1, 1)]});
    const e = await fails(d, 'a');
    assert.deepEqual([e.code, e.reason], [4, 'dependency-cycle']);
    assert.match(e.message, /a\.ko -> b\.ko -> a\.ko/);
    const d3 = tree.dir('cycle3');
    tree.module('cycle3', {name: 'a', version: 1, depends: [dep('b', 1, 1, 1)]});
    tree.module('cycle3', {name: 'b', version: 1, depends: [dep('c', 1, 1, 1)]});
    tree.module('cycle3', {name: 'c', version: 1, depends: [dep('a', 1, 1, 1)]});
    const e3 = await fails(d3, 'a');
    assert.equal(e3.reason, 'dependency-cycle');
    assert.match(e3.message, /a\.ko -> b\.ko -> c\.ko -> a\.ko/);
  });

  test('a module that depends on itself, and a diamond a -> {b, c} -> d, load each file once', async () => {
    const d = tree.dir('self');
    tree.module('self', {name: 's', version: 1, depends: [dep('s', 1, 1, 1)]});
    const s = await plan(d, 's');
    assert.deepEqual([s.order, s.handoff.dependencies], [['s.ko'], []]);
    tree.module('self', {name: 'a', version: 1, depends: [dep('b', 1, 1, 1), dep('c', 1, 1, 1)]});
    tree.module('self', {name: 'b', version: 1, depends: [dep('d', 1, 1, 1)]});
    tree.module('self', {name: 'c', version: 1, depends: [dep('d', 1, 1, 1)]});
    tree.module('self', {name: 'd', version: 1});
    assert.deepEqual((await plan(d, 'a')).order, ['a.ko', 'c.ko', 'd.ko', 'b.ko'], 'DEPLIST walked in reverse: c first');
  });

  test('module path order: the first directory that yields the module wins, even with a worse version', async () => {
    const [one, two] = [tree.dir('path1'), tree.dir('path2')];
    tree.module('path1', {name: 'b', version: 1});
    tree.hints('path1', [hintVersion('b', 1, 'b.ko')]);
    tree.module('path2', {name: 'b', version: 3});
    tree.hints('path2', [hintVersion('b', 3, 'b.ko')]);
    tree.module('path2', {name: 'a', version: 1, depends: [dep('b', 1, 3, 3)]});
    const first = await plan(`${one};${two}`, 'a');
    assert.equal(first.handoff.dependencies[0]?.file, join(one, 'b.ko'));
    assert.deepEqual(first.handoff.files.map((f) => f.modules.join()), ['kernel@1402000', 'a@1', 'b@1']);
    const second = await plan(`${two}/;${one}`, 'a');
    assert.equal(second.handoff.dependencies[0]?.file, join(two, 'b.ko'));
  });

  test('fallback to NAME.ko when the hints have no record of it, but not when a record names a missing file', async () => {
    const d = tree.dir('fallback');
    tree.module('fallback', {name: 'a', version: 1, depends: [dep('b', 1, 1, 1)]});
    tree.module('fallback', {name: 'b', version: 1});
    tree.hints('fallback', [hintModule('x', 'x.ko'), hintVersion('x', 1, 'x.ko')]);
    const {order, handoff} = await plan(d, 'a');
    assert.deepEqual(order, ['a.ko', 'b.ko']);
    assert.match(handoff.dependencies[0]?.how ?? '', /^file name b\.ko in /);
    const d2 = tree.dir('stale');
    tree.module('stale', {name: 'a', version: 1, depends: [dep('b', 1, 1, 1)]});
    tree.module('stale', {name: 'b', version: 1});
    tree.hints('stale', [hintVersion('b', 1, 'gone.ko')]);
    assert.equal((await fails(d2, 'a')).reason, 'dependency-missing', 'module.c: a hints match disables the NAME.ko fallback');
  });

  test('CLI: missing dependency and cycle exit 4 with their reasons', {skip: cliSkip}, async () => {
    const miss = await planJson(['--module-path', tree.dir('missing'), kernel, 'a']);
    assert.deepEqual([miss.r.code, miss.error?.reason], [4, 'dependency-missing']);
    assert.match(miss.error?.message ?? '', /a\.ko -> b\.ko: needs module c \[2, 3\]/);
    const cyc = await planJson(['--module-path', tree.dir('cycle'), kernel, 'a']);
    assert.deepEqual([cyc.r.code, cyc.error?.reason], [4, 'dependency-cycle']);
  });

  test('the module bytes in the plan are the file bytes', async () => {
    const d = tree.dir('bytes');
    tree.module('bytes', {name: 'a', version: 1});
    const {plan: p} = await plan(d, 'a');
    const text = p.segments.flatMap((s) => s.contents).find((c) => c.label === 'a.ko .text');
    assert.ok(text !== undefined, 'the plan has a.ko .text');
    assert.ok(planBytes(p, text.mem, MODULE_TEXT).every((b) => b === 0xcc), 'a.ko .text is MODULE_TEXT bytes of 0xcc, as in the file');
  });

  test('a version-0 record is never "best" in module.c (bestver starts at 0): the loader falls back to b.ko', async () => {
    const d = tree.dir('v0');
    tree.module('v0', {name: 'a', version: 1, depends: [dep('b', 0, 1, 1)]});
    tree.module('v0', {name: 'b', version: 0}, 'bzero.ko');
    tree.module('v0', {name: 'b', version: 1});
    tree.hints('v0', [hintVersion('b', 0, 'bzero.ko')]);
    assert.deepEqual((await plan(d, 'a')).order, ['a.ko', 'b.ko']);
  });
});
