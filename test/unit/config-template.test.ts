// The shipped config template, `init` (copying templates, never overwriting) and the scripted-upgrade script.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {chmod, mkdir, readFile, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {KexecError} from '../../src/errors.js';
import {initConfigName, templatesDir, writeInitFiles} from '../../src/config/init.js';
import {loadConfig} from '../../src/config/load-config.js';
import {mergeConfig} from '../../src/config/merge-config.js';
import {parseConfigText} from '../../src/config/parse-config.js';
import {renderConfigTemplate, uncommentExamples} from '../../src/config/template.js';
import {scratchDir} from '../helpers/scratch.js';

const TEMPLATES = fileURLToPath(new URL('../../templates/', import.meta.url));
const CONFIG_TEMPLATE = join(TEMPLATES, 'config/kexec-ts.yaml');
const SCRIPT = join(TEMPLATES, 'scripts/freebsd-update-kexec.sh');

test('the template file is the one generated from the schema', async () => {
  assert.equal(await readFile(CONFIG_TEMPLATE, 'utf8'), renderConfigTemplate(),
    'regenerate: node --import tsx -e "import(\'./src/config/template.ts\').then((m) => process.stdout.write(m.renderConfigTemplate()))" > templates/config/kexec-ts.yaml');
});

test('the template validates as shipped (all commented out) and with every example uncommented', async () => {
  const text = await readFile(CONFIG_TEMPLATE, 'utf8');
  assert.deepEqual(parseConfigText(CONFIG_TEMPLATE, text), {});
  const uncommented = uncommentExamples(text);
  assert.match(uncommented, /^backend: sim$/m);
  assert.match(uncommented, /^native:\n {2}library: /m);
  const config = parseConfigText(CONFIG_TEMPLATE, uncommented);
  assert.ok(config !== null);
  const effective = mergeConfig({config, source: CONFIG_TEMPLATE});
  for (const [key, setting] of Object.entries(effective)) assert.equal(setting.source, `config ${CONFIG_TEMPLATE}`, `${key} has no example in the template`);
});

test('templates are found from the module location', () => {
  assert.equal(templatesDir(), join(TEMPLATES).replace(/\/$/, ''));
});

test('writeInitFiles writes the template (and the script) and refuses to overwrite unless forced', async () => {
  const dir = join(scratchDir('kexec-init-'), 'new', 'dir');
  const written = await writeInitFiles({dir, withScript: true, force: false});
  assert.deepEqual(written, [join(dir, '.kexec-tsrc.yaml'), join(dir, 'freebsd-update-kexec.sh')]);
  assert.equal(await readFile(written[0] ?? '', 'utf8'), await readFile(CONFIG_TEMPLATE, 'utf8'));
  assert.equal(await readFile(written[1] ?? '', 'utf8'), await readFile(SCRIPT, 'utf8'));
  assert.ok(((await stat(written[1] ?? '')).mode & 0o111) !== 0, 'the script is executable');
  assert.deepEqual(await loadConfig({cwd: dir, env: {}}), {config: {}, source: join(dir, '.kexec-tsrc.yaml')});

  await writeFile(join(dir, '.kexec-tsrc.yaml'), 'backend: sim\n');
  const err = await writeInitFiles({dir, withScript: false, force: false}).catch((e: unknown) => e);
  assert.ok(err instanceof KexecError);
  assert.equal(err.code, 2);
  assert.equal(err.reason, 'init-exists');
  assert.equal(err.message, `${join(dir, '.kexec-tsrc.yaml')}: already exists; not overwriting`);
  assert.equal(await readFile(join(dir, '.kexec-tsrc.yaml'), 'utf8'), 'backend: sim\n', 'nothing was overwritten');

  assert.deepEqual(await writeInitFiles({dir, withScript: true, force: true}), written);
  assert.equal(await readFile(join(dir, '.kexec-tsrc.yaml'), 'utf8'), await readFile(CONFIG_TEMPLATE, 'utf8'));
});

test('in the system-wide directory init writes kexec-ts.yaml, which the fallback finds', async () => {
  const sys = scratchDir('kexec-sys-');
  const previous = process.env.KEXEC_TS_SYSCONFDIR;
  process.env.KEXEC_TS_SYSCONFDIR = sys;
  try {
    assert.equal(initConfigName(sys), 'kexec-ts.yaml');
    assert.equal(initConfigName(tmpdir()), '.kexec-tsrc.yaml');
    assert.deepEqual(await writeInitFiles({dir: sys, withScript: false, force: false}), [join(sys, 'kexec-ts.yaml')]);
  } finally {
    if (previous === undefined) delete process.env.KEXEC_TS_SYSCONFDIR;
    else process.env.KEXEC_TS_SYSCONFDIR = previous;
  }
});

/** Runs the upgrade script with every command it calls replaced by a stub that logs its arguments. */
async function runScript(args: string[], behaviour: {install?: number; load?: number; exec?: number} = {}) {
  const dir = scratchDir('kexec-script-');
  const bin = join(dir, 'bin');
  const calls = join(dir, 'calls');
  await mkdir(bin);
  const stub = (name: string, body = 'exit 0') => `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> ${JSON.stringify(calls)}\n${body}\n`;
  const stubs: Record<string, string> = {
    id: stub('id', 'echo 0'),
    logger: stub('logger'),
    sync: stub('sync'),
    shutdown: stub('shutdown'),
    'freebsd-update': stub('freebsd-update', `exit ${behaviour.install ?? 0}`),
    'kexec-ts': stub('kexec-ts', `case $1 in load) exit ${behaviour.load ?? 0};; exec) exit ${behaviour.exec ?? 0};; esac`),
  };
  for (const [name, text] of Object.entries(stubs)) {
    await writeFile(join(bin, name), text);
    await chmod(join(bin, name), 0o755);
  }
  const kernel = join(dir, 'kernel');
  await writeFile(kernel, 'ELF');
  const r = spawnSync('sh', [SCRIPT, '--kernel', kernel, ...args], {encoding: 'utf8', env: {PATH: `${bin}:/usr/bin:/bin`}});
  const log = existsSync(calls) ? (await readFile(calls, 'utf8')).split('\n').filter((l) => l !== '' && !l.startsWith('logger ') && l !== 'id -u') : [];
  const syslog = existsSync(calls) ? (await readFile(calls, 'utf8')).split('\n').filter((l) => l.startsWith('logger ')) : [];
  return {status: r.status, stdout: r.stdout, stderr: r.stderr, log, syslog, kernel};
}

test('upgrade script: POSIX sh syntax, usage errors exit 2', () => {
  assert.equal(spawnSync('sh', ['-n', SCRIPT]).status, 0);
  assert.equal(spawnSync('sh', [SCRIPT, '--bogus'], {encoding: 'utf8'}).status, 2);
});

test('upgrade script: install, load, exec; a failed exec falls back to shutdown -r now, all logged to syslog', async () => {
  const r = await runScript([], {exec: 5});
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.log, ['freebsd-update install', `kexec-ts load ${r.kernel}`, 'sync ', 'kexec-ts exec --yes', 'shutdown -r now']);
  assert.ok(r.syslog.some((l) => l.includes('-t freebsd-update-kexec') && l.includes('exec failed (status 5)')), r.syslog.join('\n'));
});

test('upgrade script: a failed load reboots normally without exec; a failed install stops everything', async () => {
  const load = await runScript(['--no-install'], {load: 4});
  assert.deepEqual(load.log, [`kexec-ts load ${load.kernel}`, 'shutdown -r now']);
  const install = await runScript([], {install: 1});
  assert.equal(install.status, 1);
  assert.deepEqual(install.log, ['freebsd-update install']);
});

test('upgrade script: --dry-run only prints', async () => {
  const r = await runScript(['--dry-run']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.log, [], 'nothing was run');
  assert.deepEqual(r.syslog, [], 'nothing was logged to syslog');
  assert.deepEqual(r.stdout.trim().split('\n'), [
    'would run: freebsd-update install',
    `would run: kexec-ts load ${r.kernel}`,
    'would run: sync',
    'would run: kexec-ts exec --yes',
    'would run, only if exec returned: shutdown -r now',
  ]);
});
