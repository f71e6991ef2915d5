/**
 * Output hygiene (issue 13 items 7 and 9): secret-looking kernel environment values are redacted in text and
 * JSON unless --show-secrets; control characters from file names never reach the terminal raw; JSON output is
 * our own printer (oclif's colouriser overflowed the stack on a 10 MB value, exit 1 with an empty stdout) and the
 * memory-map picture handles 200,000 ranges (it spread them onto the stack with Math.max(...rows)); `load`'s
 * progress lines (listr2 on stderr) escape file names too.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {makeMemoryMap} from '../../src/memory/memory-map.js';
import {Range} from '../../src/memory/range.js';
import {renderMemoryPicture} from '../../src/render/memory-picture.js';
import {REDACTED, escapeControls, isSecretName, jsonDocument, redactJson, redactText} from '../../src/render/output-hygiene.js';
import {IN_PROCESS_SKIP, cli} from '../helpers/cli.js';
import {CLI_SKIP, expectExit, oneJson, runCli, sim, tempDir} from '../helpers/lifecycle-cli.js';

const KERNEL = 'examples/probe-kernel/build/amd64/kernel';
const KERNEL_PATH = join(process.cwd(), KERNEL);

test('secret-looking names: the documented list, and nothing else', () => {
  for (const n of ['kern.geom.eli.passphrase', 'PASSWORD', 'iscsi.chap_secret', 'hw.foo.key', 'geli_key', 'x-key', 'root_passwd']) assert.ok(isSecretName(n), n);
  for (const n of ['kernelname', 'keyboard', 'hw.keymap', 'vfs.root.mountfrom', 'key', 'monkey']) assert.ok(!isSecretName(n), n);
  assert.equal(redactText('env kern.geom.eli.passphrase=hunter2 boot_verbose=YES'), `env kern.geom.eli.passphrase=${REDACTED} boot_verbose=YES`);
  assert.deepEqual(redactJson({env: {'my.key': 'k', a: 'b'}, lines: ['x.password=p', 'y=z']}), {env: {'my.key': REDACTED, a: 'b'}, lines: [`x.password=${REDACTED}`, 'y=z']});
});

test('control characters are escaped; JSON printing takes a 10 MB value and 200k-element arrays', () => {
  assert.equal(escapeControls('a\x1b]0;pwn\x07b\u009bc\nd'), 'a\\x1b]0;pwn\\x07b\\x9bc\nd');
  const big = 'v'.repeat(10 << 20);
  const doc = jsonDocument(redactJson({value: big, rows: Array.from({length: 200_000}, (_, i) => i)}));
  assert.equal((JSON.parse(doc) as {value: string}).value.length, 10 << 20);
});

test('the memory-map picture draws 200,000 ranges', () => {
  const ranges = Array.from({length: 200_000}, (_, i) => ({range: new Range(BigInt(i) * 0x2000n, BigInt(i) * 0x2000n + 0x1000n), type: 'ram'}));
  const text = renderMemoryPicture(makeMemoryMap('many', ranges), [{mem: 0n, memsz: 0x1000n}]);
  assert.equal(text.split('\n').length, 200_001);
});

test('plan --json: secrets redacted unless --show-secrets; text output escapes a hostile file name', {skip: IN_PROCESS_SKIP}, async (t) => {
  const args = ['plan', '--json', '--env', 'kern.geom.eli.passphrase=hunter2', '--env', 'hw.disk.key=abc', KERNEL_PATH];
  const hidden = await cli(args);
  assert.equal(hidden.code, 0, hidden.stderr);
  const env = (JSON.parse(hidden.stdout) as {handoff: {env: Record<string, string>}}).handoff.env;
  assert.deepEqual([env['kern.geom.eli.passphrase'], env['hw.disk.key']], [REDACTED, REDACTED]);
  assert.doesNotMatch(hidden.stdout, /hunter2|"abc"/);
  const shown = await cli([...args, '--show-secrets']);
  assert.equal((JSON.parse(shown.stdout) as {handoff: {env: Record<string, string>}}).handoff.env['kern.geom.eli.passphrase'], 'hunter2');
  const dir = tempDir(t, 'kexec-hygiene-');
  const hostile = join(dir, 'k\x1b]0;owned\x07\x1b[2J');
  writeFileSync(hostile, 'not an ELF file');
  const r = await cli(['inspect', hostile]);
  assert.equal(r.code, 3);
  assert.ok(!r.stderr.includes('\x1b') && !r.stderr.includes('\x07'), 'no raw ESC or BEL');
  assert.match(r.stderr, /k\\x1b\]0;owned\\x07\\x1b\[2J/);
});

test('a 10 MB environment value: a clear refusal naming the kernel limit, JSON on stdout', {skip: IN_PROCESS_SKIP}, async (t) => {
  const dir = tempDir(t, 'kexec-hygiene-');
  const envFile = join(dir, 'kenv');
  writeFileSync(envFile, `big=${'x'.repeat(10 << 20)}\n`);
  const r = await cli(['plan', '--json', '--env-file', envFile, KERNEL_PATH]);
  // A kernel limit, refused at planning (exit 4) with the variable, where it came from and the limit.
  assert.equal(r.code, 4);
  const e = (JSON.parse(r.stdout) as {error: {reason: string; message: string}}).error;
  assert.equal(e.reason, 'kenv-too-long');
  assert.match(e.message, /^environment variable big \(.*kenv:1\): "name=value" is 10485764 bytes; the kernel drops strings over 257 /);
  const many = Array.from({length: 513}, (_, i) => `v${i}=1`).join('\n');
  writeFileSync(envFile, many);
  const r2 = await cli(['plan', '--json', '--env-file', envFile, KERNEL_PATH]);
  assert.equal((JSON.parse(r2.stdout) as {error: {reason: string}}).error.reason, 'kenv-too-many');
});

test('a 200,000-range vm.phys_segs map: plan --json exits 0', {skip: IN_PROCESS_SKIP, timeout: 120000}, async (t) => {
  const dir = tempDir(t, 'kexec-hygiene-');
  const blocks = ['\nSEGMENT 0:\n\nstart: 0x1000000\nend: 0x80000000\nfree list: 0x0\n'];
  for (let i = 1; i < 200_000; i++) {
    const s = 0x100000000 + i * 0x2000;
    blocks.push(`\nSEGMENT ${i}:\n\nstart: 0x${s.toString(16)}\nend: 0x${(s + 0x1000).toString(16)}\nfree list: 0x0\n`);
  }
  const map = join(dir, 'phys_segs');
  writeFileSync(map, blocks.join(''));
  const text = await cli(['plan', '--memmap', map, KERNEL_PATH]);
  assert.equal(text.code, 0, text.stderr.slice(0, 500));
  const json = await cli(['plan', '--json', '--memmap', map, KERNEL_PATH]);
  assert.equal(json.code, 0, json.stderr.slice(0, 500));
  assert.equal((JSON.parse(json.stdout) as {memoryMap: {ranges: unknown[]}}).memoryMap.ranges.length, 200_000);
});

test('sim boot report: the secret is staged but not printed', {skip: CLI_SKIP, timeout: 60000}, async (t) => {
  const state = join(tempDir(t, 'kexec-hygiene-'), 'state');
  expectExit(await runCli(['load', ...sim(state), '--env', 'kern.geom.eli.passphrase=hunter2', KERNEL_PATH]), 0);
  const report = expectExit(await runCli(['exec', '--yes', ...sim(state)]), 0);
  assert.match(report.stdout, /kern\.geom\.eli\.passphrase=<redacted>/);
  assert.doesNotMatch(report.stdout, /hunter2/);
  expectExit(await runCli(['load', ...sim(state), '--env', 'kern.geom.eli.passphrase=hunter2', KERNEL_PATH]), 0);
  const shown = oneJson<{lines: string[]}>(expectExit(await runCli(['exec', '--yes', ...sim(state), '--json', '--show-secrets']), 0));
  assert.ok(shown.lines.some((l) => l.includes('hunter2')));
});

test('load progress escapes a hostile file name, in the step titles and in the failed step', {skip: CLI_SKIP, timeout: 60000}, async (t) => {
  const dir = tempDir(t, 'kexec-hygiene-');
  const name = 'k\x1b]0;owned\x07\n\u2028x';
  const hostile = join(dir, name);
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const raw = /[\x07\x1b\u2028]/;
  writeFileSync(hostile, readFileSync(KERNEL_PATH));
  const ok = expectExit(await runCli(['load', ...sim(join(dir, 'state')), hostile]), 0);
  assert.ok(!raw.test(ok.stderr), `no raw ESC, BEL or U+2028 in progress:\n${ok.stderr}`);
  assert.match(ok.stderr, /Read .*k\\x1b\]0;owned\\x07\\n\\u2028x \(\d+\.\d KiB, ELF64\)$/m, 'the name, escaped, on one line');
  writeFileSync(hostile, 'not an ELF file');
  const bad = await runCli(['load', ...sim(join(dir, 'state')), hostile]);
  assert.equal(bad.code, 3);
  assert.ok(!raw.test(bad.stderr), `no raw control characters in the failure:\n${bad.stderr}`);
  assert.match(bad.stderr, /\[FAILED: .*k\\x1b\]0;owned\\x07\\n\\u2028x: not an ELF file/);
});
