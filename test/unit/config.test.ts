// Config files: every mistake in a hand-edited file is exit 2 with "file:line:" and the key, and only JSON/YAML parse.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {KexecError} from '../../src/errors.js';
import {loadConfig} from '../../src/config/load-config.js';
import {parseConfigText} from '../../src/config/parse-config.js';
import {validateConfig} from '../../src/config/schema.js';
import {scratchDir} from '../helpers/scratch.js';

async function project(files: Record<string, string>): Promise<string> {
  const dir = scratchDir('kexec-config-');
  await writeFile(join(dir, 'package.json'), files['package.json'] ?? '{"name": "fixture"}\n');
  for (const [name, text] of Object.entries(files)) if (name !== 'package.json') await writeFile(join(dir, name), text);
  return dir;
}

/** Loads `name` from a fresh project and expects a usage error whose message contains every part. */
async function expectConfigError(name: string, text: string, reason: string, parts: (file: string) => string[]): Promise<KexecError> {
  const dir = await project({[name]: text});
  const file = join(dir, name);
  const err = await loadConfig({cwd: dir, env: {}}).then(
    () => assert.fail(`${name} should have been refused`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof KexecError, String(err));
  assert.equal(err.code, 2);
  assert.equal(err.reason, reason);
  for (const part of parts(file)) assert.ok(err.message.includes(part), `${JSON.stringify(err.message)} should include ${JSON.stringify(part)}`);
  return err;
}

test('a broken YAML file: exit 2, file and line of the error', async () => {
  const err = await expectConfigError('.kexec-tsrc.yaml', 'backend: sim\npageSize: 4K\nenv: [unclosed\n', 'config-syntax', (f) => [`${f}:4: syntax error:`]);
  assert.equal(err.details?.line, 4);
});

test('duplicate keys are a syntax error on the second one', async () => {
  await expectConfigError('.kexec-tsrc.yml', 'backend: sim\nbackend: qemu\n', 'config-syntax', (f) => [`${f}:2: syntax error:`]);
});

test('an unknown top-level key: exit 2, file, line, key and a suggestion', async () => {
  const err = await expectConfigError('.kexec-tsrc.yaml', '# comment\nbackend: sim\npagesize: 4K\n', 'config-unknown-key', (f) => [
    `${f}:3: unknown key "pagesize"`,
    'known: backend, stateDir',
    'did you mean "pageSize"?',
  ]);
  assert.equal(err.details?.key, 'pagesize');
});

test('an unknown nested key: exit 2 naming "native.libary" and its line', async () => {
  const text = 'backend: native\nnative:\n  rebootHeader: /usr/include/sys/reboot.h\n  libary: /lib/libsys.so.7\n';
  await expectConfigError('.kexec-tsrc.yaml', text, 'config-unknown-key', (f) => [
    `${f}:4: unknown key "native.libary" (known: library, rebootHeader, rbKexec)`,
    'did you mean "native.library"?',
  ]);
});

test('an unknown key with nothing close gets no suggestion, and $import is just an unknown key', async () => {
  const err = await expectConfigError('.kexec-tsrc.json', '{\n  "$import": "./evil.js"\n}\n', 'config-unknown-key', (f) => [`${f}:2: unknown key "$import"`]);
  assert.ok(!err.message.includes('did you mean'));
});

test('a wrong type: exit 2, file, line, key, what it must be and what it got', async () => {
  await expectConfigError('.kexec-tsrc.yaml', 'backend: sim\n\npageSize: 17K\n', 'config-type', (f) => [
    `${f}:3: "pageSize" must be a power of two of at least 4K`,
    'got "17K"',
  ]);
  await expectConfigError('.kexec-tsrc.yaml', 'sim:\n  privileged: yes\n', 'config-type', (f) => [`${f}:2: "sim.privileged" must be true or false; got "yes"`]);
  await expectConfigError('.kexec-tsrc.yaml', 'backend: smi\n', 'config-type', (f) => [`${f}:1: "backend" must be one of "native", "sim", "qemu"; got "smi" (did you mean "sim"?)`]);
  await expectConfigError('.kexec-tsrc.yaml', 'native: /lib/libc.so.7\n', 'config-type', (f) => [`${f}:1: "native" must be a mapping of library, rebootHeader, rbKexec`]);
});

test('wrong types inside env and modulePath name the entry and its line', async () => {
  await expectConfigError('.kexec-tsrc.yaml', 'env:\n  boot_verbose: 1\n  hw.list: [1, 2]\n', 'config-type', (f) => [`${f}:3: "env.hw.list" must be a string, number or boolean; got a list`]);
  await expectConfigError('.kexec-tsrc.yaml', 'modulePath:\n  - /boot/kernel\n  - 7\n', 'config-type', (f) => [`${f}:3: "modulePath.1" must be a list of non-empty directory strings`]);
  await expectConfigError('.kexec-tsrc.yaml', 'native:\n  rbKexec: 0x3\n', 'config-type', (f) => [`${f}:2: "native.rbKexec" must be a single reboot(2) howto bit`, 'got 3']);
});

test('a config that is not a mapping is a type error at its first line', async () => {
  await expectConfigError('.kexec-tsrc', '\n- backend\n- sim\n', 'config-type', (f) => [`${f}:2: the configuration must be a mapping of keys; got a list`]);
});

test('several problems: the first is reported, with the count of the others', () => {
  assert.throws(() => parseConfigText('/x/.kexec-tsrc.yaml', 'bad1: 1\nbackend: 3\nbad2: 2\n'), (e: unknown) =>
    e instanceof KexecError && e.message === '/x/.kexec-tsrc.yaml:1: unknown key "bad1" (known: backend, stateDir, memmap, profile, pageSize, modulePath, env, loaderConf, host, native, sim) (and 2 more problems)');
});

test('JSON config: values, hex and sizes as strings', async () => {
  const text = '{\n\t"backend": "sim",\n\t"pageSize": "0x4000",\n\t"native": {"rbKexec": 16777216},\n\t"sim": {"securelevel": 1}\n}\n';
  const dir = await project({'.kexec-tsrc.json': text});
  const loaded = await loadConfig({cwd: dir, env: {}});
  assert.equal(loaded.source, join(dir, '.kexec-tsrc.json'));
  assert.deepEqual(loaded.config, {backend: 'sim', pageSize: '0x4000', native: {rbKexec: 16777216}, sim: {securelevel: 1}});
});

test('broken JSON, including what only YAML would accept, names file and line', async () => {
  await expectConfigError('.kexec-tsrc.json', '{\n  "backend": "sim"\n  "pageSize": 4096\n}\n', 'config-syntax', (f) => [`${f}:3: syntax error`]);
  await expectConfigError('.kexec-tsrc.json', '{\n  "backend": "sim",\n}\n', 'config-syntax', (f) => [`${f}:3: syntax error`, 'not valid JSON']);
});

test('package.json: the "kexec-ts" property is the config; errors give package.json lines', async () => {
  const good = await project({'package.json': '{\n  "name": "p",\n  "kexec-ts": {"backend": "qemu", "modulePath": ["/boot/kernel"]}\n}\n'});
  assert.deepEqual(await loadConfig({cwd: good, env: {}}), {config: {backend: 'qemu', modulePath: ['/boot/kernel']}, source: join(good, 'package.json')});

  const bad = await project({'package.json': '{\n  "name": "p",\n  "kexec-ts": {\n    "sim": {\n      "securelvl": 1\n    }\n  }\n}\n'});
  const err = await loadConfig({cwd: bad, env: {}}).catch((e: unknown) => e);
  assert.ok(err instanceof KexecError);
  assert.equal(err.code, 2);
  assert.match(err.message, /package\.json:5: unknown key "sim\.securelvl" .*did you mean "sim\.securelevel"\?$/);
});

test('.kexec-tsrc without an extension is YAML', async () => {
  const dir = await project({'.kexec-tsrc': 'backend: sim\nenv:\n  boot_verbose: true\n'});
  assert.deepEqual(await loadConfig({cwd: dir, env: {}}), {config: {backend: 'sim', env: {boot_verbose: true}}, source: join(dir, '.kexec-tsrc')});
});

test('empty files and empty sections are an empty config, not an error', async () => {
  const dir = await project({'.kexec-tsrc.yaml': '# all commented out\n'});
  assert.deepEqual(await loadConfig({cwd: dir, env: {}}), {config: {}, source: join(dir, '.kexec-tsrc.yaml')});
  assert.deepEqual(parseConfigText('/x/c.yaml', 'native:\nsim:\nbackend: sim\n'), {backend: 'sim'});
});

test('explicit path: loads exactly that file, any name, relative to cwd', async () => {
  const dir = await project({'.kexec-tsrc.yaml': 'backend: qemu\n', 'host.conf': 'backend: sim\n'});
  assert.deepEqual(await loadConfig({explicitPath: 'host.conf', cwd: dir, env: {}}), {config: {backend: 'sim'}, source: join(dir, 'host.conf')});
  assert.deepEqual(await loadConfig({cwd: dir, env: {KEXEC_TS_CONFIG: join(dir, 'host.conf')}}), {config: {backend: 'sim'}, source: join(dir, 'host.conf')});
});

test('explicit path that does not exist: exit 2 naming the path', async () => {
  const dir = await project({});
  const missing = join(dir, 'nope.yaml');
  for (const options of [{explicitPath: missing}, {env: {KEXEC_TS_CONFIG: missing}}]) {
    const err = await loadConfig({cwd: dir, env: {}, ...options}).catch((e: unknown) => e);
    assert.ok(err instanceof KexecError);
    assert.equal(err.code, 2);
    assert.equal(err.reason, 'config-missing');
    assert.equal(err.message, `${missing}: config file not found`);
  }
});

test('validateConfig: every key of the schema accepted, unknown ones rejected', () => {
  const all = {
    backend: 'native', stateDir: 'state', memmap: '/m', profile: 'amd64-4g', pageSize: 16384, modulePath: '/boot/kernel;/boot/modules',
    env: {a: 'b', n: 1, t: false}, loaderConf: '/boot/loader.conf', native: {library: '/lib/libsys.so.7', rebootHeader: '/h', rbKexec: '0x1000000'},
    sim: {profile: 'flat-4g', privileged: false, securelevel: 3},
  };
  assert.deepEqual(validateConfig(all), {ok: true, config: all});
  const bad = validateConfig({sim: {securelevel: 4}, __proto__: 1});
  assert.ok(!bad.ok);
  assert.deepEqual(bad.issues.map((i) => i.path.join('.')), ['sim.securelevel']);
  const proto = validateConfig(JSON.parse('{"__proto__": {"backend": "sim"}}'));
  assert.ok(!proto.ok && proto.issues[0]?.message.startsWith('unknown key "__proto__"'));
});
