// mergeConfig: a flag beats the config file, which beats the default; values come out parsed, with their origin.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {KexecError} from '../../src/errors.js';
import {mergeConfig} from '../../src/config/merge-config.js';
import {CONFIG_KEYS} from '../../src/config/schema.js';

const FILE = '/etc/kexec/.kexec-tsrc.yaml';

test('flag beats config beats default, key by key, with the origin of each', () => {
  const loaded = {config: {backend: 'sim' as const, pageSize: '16K', profile: 'amd64-4g', sim: {securelevel: 1}}, source: FILE};
  const e = mergeConfig(loaded, {pageSize: '0x10000', 'sim.privileged': false, profile: undefined});
  assert.deepEqual(e.pageSize, {value: 0x10000n, source: 'flag'});
  assert.deepEqual(e['sim.privileged'], {value: false, source: 'flag'});
  assert.deepEqual(e.backend, {value: 'sim', source: `config ${FILE}`});
  assert.deepEqual(e.profile, {value: 'amd64-4g', source: `config ${FILE}`}, 'an undefined flag is a flag not given');
  assert.deepEqual(e['sim.securelevel'], {value: 1, source: `config ${FILE}`});
  assert.deepEqual(e.memmap, {value: undefined, source: 'default'});
  assert.deepEqual(e.env, {value: {}, source: 'default'});
  assert.deepEqual(e['native.rebootHeader'], {value: '/usr/include/sys/reboot.h', source: 'default'});
});

test('without a config file every key has its default', () => {
  const e = mergeConfig({config: {}, source: null});
  assert.deepEqual(e.pageSize, {value: 0x1000n, source: 'default'});
  assert.deepEqual(e['sim.privileged'], {value: true, source: 'default'});
  assert.deepEqual(e['sim.securelevel'], {value: -1, source: 'default'});
  assert.deepEqual(Object.keys(e).sort(), CONFIG_KEYS.map((k) => k.key).sort());
});

test('values are parsed: sizes and RB_KEXEC as bigint, module paths split, env as strings', () => {
  const e = mergeConfig({
    config: {pageSize: 4096, modulePath: '/boot/kernel/;;/boot/modules;/boot/kernel', env: {a: true, b: false, c: 12, d: 'x y'}, native: {rbKexec: '0x1000000'}},
    source: FILE,
  });
  assert.equal(e.pageSize.value, 0x1000n);
  assert.deepEqual(e.modulePath.value, ['/boot/kernel', '/boot/modules']);
  assert.deepEqual(e.env.value, {a: '1', b: '0', c: '12', d: 'x y'});
  assert.equal(e['native.rbKexec'].value, 0x1000000n);
});

test('relative paths in a config file are relative to that file; in flags they are kept as given', () => {
  const e = mergeConfig({config: {stateDir: 'state', memmap: '/abs/map.txt', modulePath: ['mods', '/boot/kernel']}, source: FILE}, {loaderConf: 'loader.conf'});
  assert.equal(e.stateDir.value, '/etc/kexec/state');
  assert.equal(e.memmap.value, '/abs/map.txt');
  assert.deepEqual(e.modulePath.value, ['/etc/kexec/mods', '/boot/kernel']);
  assert.deepEqual(e.loaderConf, {value: 'loader.conf', source: 'flag'});
});

test('a flag value of the wrong type is a usage error naming the key', () => {
  assert.throws(() => mergeConfig({config: {}, source: null}, {pageSize: '12K'}), (err: unknown) =>
    err instanceof KexecError && err.code === 2 && err.reason === 'flag-value' && err.message === 'command line: "pageSize" must be a power of two of at least 4K (a number, or a string like "16K" or "0x4000"); got "12K"');
  assert.throws(() => mergeConfig({config: {}, source: null}, {profile: 'amd64-4G'}), /"profile" must be one of .*; got "amd64-4G" \(did you mean "amd64-4g"\?\)/);
});

test('a hand-built config with a bad value is reported against its source', () => {
  assert.throws(() => mergeConfig({config: {pageSize: 3}, source: FILE}), (err: unknown) =>
    err instanceof KexecError && err.reason === 'config-type' && err.message.startsWith(`${FILE}: "pageSize" must be`));
});
