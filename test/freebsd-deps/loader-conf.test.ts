/**
 * loader.conf (freebsd-layout.md §3.4), the kernel environment and howto (§4.5): what `--loader-conf`,
 * `--env-file` and `--howto` do to the modules loaded, MODINFO_ARGS, the environment and RB_* flags; and the
 * usage errors (exit 2, naming FILE:LINE) for malformed input. In-process through planFiles, plus CLI runs.
 */
import {after, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {basename, dirname, join} from 'node:path';
import {CLI_BUILT, runCli} from '../helpers/corpus.js';
import {ModuleTree, RB_SINGLE, RB_VERBOSE, dep, planFails, planOk} from '../helpers/freebsd-deps-fixtures.js';
import {planJson} from '../helpers/plan-fixtures.js';

const cliSkip = CLI_BUILT ? false : 'dist/ is not built (npm run build)';
const tree = new ModuleTree();
after(() => tree.remove());
const kernel = tree.kernel();
const mods = tree.dir('conf-modules');
tree.module('conf-modules', {name: 'foo', version: 1, depends: [dep('dep', 1, 1, 1)]});
tree.module('conf-modules', {name: 'dep', version: 1});
tree.module('conf-modules', {name: 'bar', version: 1});
tree.module('conf-modules', {name: 'qux', version: 1});

const CONF = [
  '# loader.conf for the test',
  `module_path="${mods}"`,
  'foo_load="YES"',
  'foo_flags="-x 1"',
  'foo_before="echo before foo"',
  'bar_load="NO"',
  'qux_load="yes"   # any case',
  'qux_after="echo after"',
  'kernel_options="-s"',
  'boot_verbose="YES"',
  'hw.physmem="4G"',
  'plain=value',
  "quoted='single'",
  'loader_conf_files="/boot/other.conf"',
  '',
].join('\n');
const conf = tree.text('loader.conf', CONF);

describe('--loader-conf', () => {
  test('X_load, X_flags, module_path, kernel_options, boot_* and plain variables', async () => {
    const {handoff, order, plan} = await planOk({image: kernel, modules: [], loaderConf: [conf]});
    assert.deepEqual(order, ['foo.ko', 'dep.ko', 'qux.ko'], 'foo (with its dependency) then qux, in order of first mention; bar_load="NO" is not loaded');
    assert.equal(handoff.files[1]?.args, '-x 1', 'foo_flags is its MODINFO_ARGS');
    assert.equal(handoff.files[2]?.args, undefined, 'a dependency gets no args');
    assert.equal(handoff.files[0]?.args, '-s', 'kernel_options is the kernel\'s MODINFO_ARGS');
    const howto = Number(BigInt(handoff.howto));
    assert.equal(howto & RB_SINGLE, RB_SINGLE, `kernel_options="-s" sets RB_SINGLE (howto ${handoff.howto})`);
    assert.equal(howto & RB_VERBOSE, RB_VERBOSE, `boot_verbose="YES" sets RB_VERBOSE (howto ${handoff.howto})`);
    assert.equal(howto & ~(RB_SINGLE | RB_VERBOSE), 0, 'no other flag');
    assert.equal(handoff.env['hw.physmem'], '4G');
    assert.equal(handoff.env.plain, 'value');
    assert.equal(handoff.env.boot_verbose, 'YES');
    // config.lua: single quotes are not quotes; 'single' matches neither "..." nor a bare word [-%w%d][-%w%d_.]*,
    // so the line is "Malformed" and the loader skips it.
    assert.ok(!('quoted' in handoff.env), 'a single-quoted value is a malformed line');
    assert.ok(plan.notes.some((n) => n.startsWith(`${conf}:13: malformed line skipped, as the loader does`)), plan.notes.join(' | '));
    // config.lua processEnvVar/setEnv: module keys are environment variables too (kenv on a FreeBSD host shows
    // zfs_load="YES"); loader_conf_files is in loader_env_restricted_table and never exported.
    assert.deepEqual([handoff.env.foo_load, handoff.env.foo_flags, handoff.env.bar_load, handoff.env.qux_load], ['YES', '-x 1', 'NO', 'YES']);
    assert.ok(!('loader_conf_files' in handoff.env), 'loader_conf_files does not reach the kernel environment');
    assert.equal(handoff.env.module_path?.split(';')[0], dirname(kernel), 'module_path starts with the kernel directory (config.lua loadKernel)');
    // config.lua loadModule runs X_before/X_after as loader commands around the load; kexec-ts cannot.
    assert.ok(plan.notes.includes(`${conf}:5: foo_before="echo before foo" is a loader command; kexec-ts does not run it`), plan.notes.join(' | '));
    assert.ok(plan.notes.includes(`${conf}:8: qux_after="echo after" is a loader command; kexec-ts does not run it`), 'qux_after reported');
    assert.ok(plan.notes.some((n) => n.startsWith('added dep.ko for module "dep" needed by foo.ko')), 'the dependency is reported');
  });

  test('--module-path wins over module_path; modules on the command line load after loader.conf\'s', async () => {
    const other = tree.dir('conf-other');
    tree.module('conf-other', {name: 'bar', version: 1});
    // config.lua loadModule: a loader.conf module that fails to load is reported and the boot goes on without it.
    const without = await planOk({image: kernel, modules: [], loaderConf: [conf], modulePath: other});
    assert.deepEqual(without.order, []);
    assert.ok(without.plan.notes.some((n) => n.startsWith(`${conf}:3: loading foo failed, so the loader would boot without it: foo: module not found (searched ${dirname(kernel)};${other})`)), without.plan.notes.join(' | '));
    const e = await planFails({image: kernel, modules: ['foo'], loaderConf: [conf], modulePath: other});
    assert.deepEqual([e.code, e.reason], [3, 'module-not-found'], 'a module named on the command line must load');
    const {order} = await planOk({image: kernel, modules: ['bar'], loaderConf: [conf]});
    assert.deepEqual(order, ['foo.ko', 'dep.ko', 'qux.ko', 'bar.ko']);
  });

  test('a later file adds to and overrides an earlier one (loader.conf then loader.conf.local)', async () => {
    const local = tree.text('loader.conf.local', 'qux_load="NO"\nbar_load="YES"\nplain="local"\n');
    const {order, handoff} = await planOk({image: kernel, modules: [], loaderConf: [conf, local]});
    assert.deepEqual(order, ['foo.ko', 'dep.ko', 'bar.ko']);
    assert.equal(handoff.env.plain, 'local');
  });

  test('a malformed line is skipped with a note naming FILE:LINE, as the loader does; a missing file is an error', async () => {
    // config.lua config.parse(): "Malformed line (N):" is printed and the next line is read.
    const bad = tree.text('bad.conf', 'foo_load="YES"\n\n# fine so far\nthis is not an assignment\nx="1" trailing\n');
    const {order, plan, handoff} = await planOk({image: kernel, modules: [], loaderConf: [bad], modulePath: mods});
    assert.deepEqual(order, ['foo.ko', 'dep.ko']);
    assert.ok(plan.notes.includes(`${bad}:4: malformed line skipped, as the loader does: "this is not an assignment"`), plan.notes.join(' | '));
    assert.ok(plan.notes.includes(`${bad}:5: malformed line skipped, as the loader does: "x=\\"1\\" trailing"`), 'text after the value is malformed');
    assert.ok(!('x' in handoff.env));
    const unterminated = tree.text('quote.conf', 'x="1"\ny="unterminated\n');
    const u = await planOk({image: kernel, modules: [], loaderConf: [unterminated]});
    assert.equal(u.handoff.env.x, '1');
    assert.ok(u.plan.notes.some((n) => n.startsWith(`${unterminated}:2: malformed line skipped`)), u.plan.notes.join(' | '));
    const missing = join(tree.root, 'no-such.conf');
    const m = await planFails({image: kernel, modules: [], loaderConf: [missing]});
    assert.deepEqual([m.code, m.reason, m.message], [2, 'input-enoent', `loader.conf ${missing}: no such file`]);
  });
});

describe('CLI: --loader-conf, --env-file, --howto', {skip: cliSkip}, () => {
  test('--loader-conf: plan succeeds with foo_flags as the module\'s args; a missing file exits 2', async () => {
    const {r, plan} = await planJson([kernel, '--loader-conf', conf]);
    assert.equal(r.code, 0);
    const h = (plan as unknown as {handoff: {files: {name: string; args?: string}[]}}).handoff;
    assert.deepEqual(h.files.map((f) => [basename(f.name), f.args ?? null]), [['kernel', '-s'], ['foo.ko', '-x 1'], ['dep.ko', null], ['qux.ko', null]]);
    const missing = join(tree.root, 'cli-missing.conf');
    const text = await runCli(['plan', kernel, '--loader-conf', missing]);
    assert.equal(text.code, 2);
    assert.equal(text.stderr.split('\n')[0], `kexec-ts: loader.conf ${missing}: no such file`);
  });

  test('--env-file: NAME=VALUE lines reach the environment; a bad line exits 2 with FILE:LINE', async () => {
    const good = tree.text('good.env', '# comment\nA=1\nB="two words"\n\nhw.x=y=z\n');
    const {r, plan} = await planJson([kernel, '--env-file', good, '--env', 'A=override']);
    assert.equal(r.code, 0);
    const env = (plan as unknown as {handoff: {env: Record<string, string>}}).handoff.env;
    assert.deepEqual([env.A, env.B, env['hw.x']], ['override', 'two words', 'y=z']);
    const bad = tree.text('bad.env', 'A=1\n# comment\nno equals sign here\n');
    const j = await planJson(['--env-file', bad, kernel]);
    assert.deepEqual([j.r.code, j.error?.reason], [2, 'bad-env']);
    assert.ok(j.error?.message.startsWith(`${bad}:3: `), j.error?.message);
    const text = await runCli(['plan', '--env-file', bad, kernel]);
    assert.equal(text.code, 2);
    assert.match(text.stderr, new RegExp(`^kexec-ts: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3: `));
  });

  test('--howto: "-q" is refused (exit 2); "-s -v" sets RB_SINGLE|RB_VERBOSE and exports boot_single/boot_verbose', async () => {
    for (const form of [['--howto=-q'], ['--howto', '-q']]) {
      const q = await planJson([kernel, ...form]);
      assert.deepEqual([q.r.code, q.error?.reason], [2, 'bad-howto'], form.join(' '));
      assert.match(q.error?.message ?? '', /unknown flag "-q"/);
    }
    const ok = await planJson([kernel, '--howto', '-s -v']);
    assert.equal(ok.r.code, 0);
    const h = (ok.plan as unknown as {handoff: {howto: string; env: Record<string, string>}}).handoff;
    assert.equal(Number(BigInt(h.howto)), RB_SINGLE | RB_VERBOSE);
    assert.deepEqual([h.env.boot_single, h.env.boot_verbose], ['YES', 'YES']);
  });

  test('--loader-conf FILE and --env NAME=VALUE before IMAGE take one value each (oclif multipleNonGreedy)', async () => {
    const r = await runCli(['plan', '--loader-conf', conf, kernel]);
    assert.equal(r.code, 0, r.stderr);
    const e = await runCli(['plan', '--env', 'A=1', kernel]);
    assert.equal(e.code, 0, e.stderr);
  });
});
