// Where the config comes from: explicit path, env, project search, system directory; and that no script ever runs.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {chmod, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {pathToFileURL} from 'node:url';
import {KexecError} from '../../src/errors.js';
import {loadConfig, systemConfigDir} from '../../src/config/load-config.js';
import {unsafeConfigReason} from '../../src/config/config-file.js';

type TestContext = {after: (fn: () => Promise<void>) => void};

/**
 * A temp directory holding `files` (paths may contain '/'), removed when the test ends; a package.json at its root
 * ends the project search.
 */
async function tree(t: TestContext, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kexec-search-'));
  t.after(() => rm(dir, {recursive: true, force: true}));
  for (const [name, text] of Object.entries({'package.json': '{"name": "fixture"}\n', ...files})) {
    await mkdir(dirname(join(dir, name)), {recursive: true});
    await writeFile(join(dir, name), text);
  }
  return dir;
}

/**
 * Script text that, if anything ever evaluates it (CommonJS, ESM or TypeScript alike, all in this process: the
 * config code spawns nothing), counts itself in a global before anything else, synchronously: by the time
 * loadConfig() settles, a script it evaluated has run its first line, so the check needs no waiting.
 */
const RAN = 'kexecConfigScriptsRun';
const sideEffect = `globalThis.${RAN} = (globalThis.${RAN} || 0) + 1;\nthrow new Error('config script ran');\n`;

function scriptsRun(): number {
  return (globalThis as Record<string, unknown>)[RAN] as number | undefined ?? 0;
}

test('the project search walks up from cwd and stops at the directory holding package.json', async (t) => {
  const dir = await tree(t, {'.kexec-tsrc.yaml': 'backend: qemu\n', 'a/b/c/keep': ''});
  assert.deepEqual(await loadConfig({cwd: join(dir, 'a/b/c'), env: {}}), {config: {backend: 'qemu'}, source: join(dir, '.kexec-tsrc.yaml')});

  const outer = await tree(t, {'.kexec-tsrc.yaml': 'backend: qemu\n', 'inner/package.json': '{}\n'});
  const sys = await tree(t, {});
  assert.deepEqual(await loadConfig({cwd: join(outer, 'inner'), env: {KEXEC_TS_SYSCONFDIR: sys}}), {config: {}, source: null});
});

test('search places in cosmiconfig order: package.json property, then .kexec-tsrc, .json, .yaml, .yml', async (t) => {
  const dir = await tree(t, {'.kexec-tsrc.json': '{"backend": "sim"}', '.kexec-tsrc.yml': 'backend: qemu\n'});
  assert.equal((await loadConfig({cwd: dir, env: {}})).source, join(dir, '.kexec-tsrc.json'));
  const withPkg = await tree(t, {'package.json': '{"kexec-ts": {"backend": "native"}}', '.kexec-tsrc': 'backend: sim\n'});
  assert.deepEqual((await loadConfig({cwd: withPkg, env: {}})).config, {backend: 'native'});
});

test('script configs are never loaded by the search: .kexec-tsrc.{js,cjs,mjs,ts}, kexec-ts.config.js, .config/*', async (t) => {
  const scripts = ['.kexec-tsrc.js', '.kexec-tsrc.cjs', '.kexec-tsrc.mjs', '.kexec-tsrc.ts', 'kexec-ts.config.js', 'kexec-ts.config.mjs', '.config/kexec-tsrc.js', '.config/kexec-tsrc'];
  const dir = await tree(t, Object.fromEntries(scripts.map((s) => [s, s === '.config/kexec-tsrc' ? 'backend: sim\n' : sideEffect])));
  const sys = await tree(t, {});
  assert.deepEqual(await loadConfig({cwd: dir, env: {KEXEC_TS_SYSCONFDIR: sys}}), {config: {}, source: null});

  const both = await tree(t, {'.kexec-tsrc.js': sideEffect, '.kexec-tsrc.yaml': 'backend: sim\n'});
  assert.deepEqual(await loadConfig({cwd: both, env: {}}), {config: {backend: 'sim'}, source: join(both, '.kexec-tsrc.yaml')});
  assert.equal(scriptsRun(), 0, 'a config script was evaluated');
});

test("cosmiconfig's meta config (.config/config.js in the working directory) is never evaluated", async (t) => {
  const dir = await tree(t, {'.config/config.js': sideEffect, '.config/config.mjs': sideEffect, '.kexec-tsrc.yaml': 'backend: sim\n'});
  const previous = process.cwd();
  process.chdir(dir);
  try {
    assert.deepEqual((await loadConfig({env: {}})).config, {backend: 'sim'});
  } finally {
    process.chdir(previous);
  }
  assert.equal(scriptsRun(), 0, 'the meta config script was evaluated');
});

test('an explicit script config is refused before it is read, as a usage error', async (t) => {
  const dir = await tree(t, {'.kexec-tsrc.js': sideEffect});
  for (const options of [{explicitPath: '.kexec-tsrc.js'}, {env: {KEXEC_TS_CONFIG: join(dir, '.kexec-tsrc.js')}}]) {
    const err = await loadConfig({cwd: dir, env: {}, ...options}).catch((e: unknown) => e);
    assert.ok(err instanceof KexecError);
    assert.equal(err.code, 2);
    assert.equal(err.reason, 'config-executable');
    assert.ok(err.message.startsWith(`${join(dir, '.kexec-tsrc.js')}: refusing to load a .js configuration`));
  }
  assert.equal(scriptsRun(), 0, 'the refused script was evaluated');
});

test('the script text counts itself when evaluated as CommonJS or ESM (so the checks above can fail)', async (t) => {
  const dir = await tree(t, {'probe.cjs': sideEffect, 'probe.mjs': sideEffect});
  const before = scriptsRun();
  assert.throws(() => createRequire(import.meta.url)(join(dir, 'probe.cjs')), /config script ran/);
  await assert.rejects(import(pathToFileURL(join(dir, 'probe.mjs')).href), /config script ran/);
  assert.equal(scriptsRun() - before, 2);
  (globalThis as Record<string, unknown>)[RAN] = before;
});

test('precedence: --config over KEXEC_TS_CONFIG over the project over the system directory', async (t) => {
  const sys = await tree(t, {'kexec-ts.yaml': 'backend: native\n'});
  const dir = await tree(t, {'.kexec-tsrc.yaml': 'backend: qemu\n', 'env.yaml': 'backend: sim\n', 'flag.yaml': 'profile: flat-4g\n'});
  const env = {KEXEC_TS_SYSCONFDIR: sys, KEXEC_TS_CONFIG: join(dir, 'env.yaml')};
  assert.equal((await loadConfig({cwd: dir, env, explicitPath: 'flag.yaml'})).source, join(dir, 'flag.yaml'));
  assert.equal((await loadConfig({cwd: dir, env})).source, join(dir, 'env.yaml'));
  assert.equal((await loadConfig({cwd: dir, env: {...env, KEXEC_TS_CONFIG: ''}})).source, join(dir, '.kexec-tsrc.yaml'));
});

test('KEXEC_TS_SYSCONFDIR: the system-wide fallback, kexec-ts.json before kexec-ts.yaml', async (t) => {
  const project = await tree(t, {});
  const sys = await tree(t, {'kexec-ts.yaml': 'backend: sim\n'});
  assert.deepEqual(await loadConfig({cwd: project, env: {KEXEC_TS_SYSCONFDIR: sys}}), {config: {backend: 'sim'}, source: join(sys, 'kexec-ts.yaml')});
  await writeFile(join(sys, 'kexec-ts.json'), '{"backend": "qemu"}\n');
  assert.deepEqual(await loadConfig({cwd: project, env: {KEXEC_TS_SYSCONFDIR: sys}}), {config: {backend: 'qemu'}, source: join(sys, 'kexec-ts.json')});
  assert.equal(systemConfigDir({}), '/usr/local/etc');
  assert.equal(systemConfigDir({KEXEC_TS_SYSCONFDIR: sys}), sys);
});

test('errors in the system-wide file name it and the line', async (t) => {
  const sys = await tree(t, {'kexec-ts.yaml': 'backend: sim\nstatedir: /var/db/kexec-ts\n'});
  const err = await loadConfig({cwd: await tree(t, {}), env: {KEXEC_TS_SYSCONFDIR: sys}}).catch((e: unknown) => e);
  assert.ok(err instanceof KexecError);
  assert.equal(err.message, `${join(sys, 'kexec-ts.yaml')}:2: unknown key "statedir" (known: backend, stateDir, memmap, profile, pageSize, modulePath, env, loaderConf, host, native, sim); did you mean "stateDir"?`);
});

test('a world-writable config file is refused, found or named', async (t) => {
  const dir = await tree(t, {'.kexec-tsrc.yaml': 'native:\n  library: /tmp/evil.so\n'});
  await chmod(join(dir, '.kexec-tsrc.yaml'), 0o666);
  for (const options of [{}, {explicitPath: '.kexec-tsrc.yaml'}]) {
    const err = await loadConfig({cwd: dir, env: {}, ...options}).catch((e: unknown) => e);
    assert.ok(err instanceof KexecError);
    assert.equal(err.code, 2);
    assert.equal(err.reason, 'config-insecure');
    assert.match(err.message, /\.kexec-tsrc\.yaml: refusing to use this config file: it is writable by every user$/);
  }
});

test('as root a config must be owned by root, found or named; a user trusts their own files and root\'s (issue 13 item 8)', () => {
  assert.match(unsafeConfigReason({uid: 1001, mode: 0o100644}, 0) ?? '', /owned by uid 1001, not root/);
  assert.equal(unsafeConfigReason({uid: 1001, mode: 0o100644}, 1001), undefined);
  assert.equal(unsafeConfigReason({uid: 0, mode: 0o100644}, 1001), undefined);
  assert.match(unsafeConfigReason({uid: 1002, mode: 0o100644}, 1001) ?? '', /owned by uid 1002, not by you \(uid 1001\) or root/);
  assert.match(unsafeConfigReason({uid: 0, mode: 0o100664}, 0) ?? '', /writable by its group/);
  assert.match(unsafeConfigReason({uid: 0, mode: 0o100646}, 0) ?? '', /writable by every user/);
});
