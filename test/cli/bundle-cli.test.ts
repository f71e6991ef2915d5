/**
 * The bundled CLI (bin/run.js running dist/kexec-ts.cjs as a vm.Script, scripts/bundle.mjs) against oclif's own
 * loading of dist/ (the in-process runner): the build changes how code is loaded (lazy stand-ins for yaml, crypto,
 * child_process, readline and oclif's globbing packages; worker threads required lazily) and patches three of
 * oclif's start-up costs (its engine check, a localeCompare sort, ejs for help strings without a tag). Each case
 * here goes through one of those paths in a real process and must give what oclif gives from dist/.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {buildElf} from '../fixtures/elf-builder.js';
import {cli} from '../helpers/cli.js';
import {runCliProcess} from '../helpers/cli-process.js';
import {CLI_ROOT, CLI_SKIP} from '../helpers/cli-root.js';
import {tempDir} from '../helpers/lifecycle-cli.js';

const MiB = 1 << 20;
const KERNEL = join(CLI_ROOT, 'examples/probe-kernel/build/amd64/kernel');
/** oclif wraps help at the terminal's width; a piped stdout is 80 columns in both runs. */
const COLUMNS = {OCLIF_COLUMNS: '80'};

test('bundled CLI: plan --json of a 40 MiB two-PT_LOAD ELF, digests computed on workers match', {skip: CLI_SKIP, timeout: 120_000}, async (t) => {
  const dir = tempDir(t, 'kexec-bundle-');
  const data = [1, 2].map((seed) => Uint8Array.from({length: 20 * MiB}, (_, i) => (i * seed * 13 + (i >> 9)) & 0xff));
  const bases = [0x1000000n, 0x4000000n];
  const file = join(dir, 'big.elf');
  writeFileSync(file, buildElf({type: 2, machine: 62, entry: bases[0], segments: data.map((d, i) => ({vaddr: bases[i] as bigint, data: d, align: 0x1000n}))}));
  const r = await runCliProcess(['plan', '--json', '--profile', 'flat-4g', file]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const plan = JSON.parse(r.stdout) as {segments: {mem: string; sha256: string}[]};
  assert.deepEqual(plan.segments.map((s) => s.mem), bases.map((b) => `0x${b.toString(16)}`));
  assert.deepEqual(plan.segments.map((s) => s.sha256), data.map((d) => createHash('sha256').update(d).digest('hex')));
});

test('bundled CLI: help and version read exactly as oclif prints them from dist/', {skip: CLI_SKIP, timeout: 120_000}, async () => {
  const cases = [['--help'], ['help'], ['-h'], ['plan', '--help'], ['load', '--help'], ['exec', '--help'], ['host', 'capture', '--help'], ['help', 'status'], ['--version']];
  for (const args of cases) {
    const [bundled, oclif] = [await runCliProcess(args, {env: COLUMNS}), await cli(args, {env: COLUMNS})];
    assert.equal(bundled.code, oclif.code, `kexec-ts ${args.join(' ')}: exit code`);
    assert.equal(bundled.stdout, oclif.stdout, `kexec-ts ${args.join(' ')}: stdout`);
    assert.ok(bundled.stdout.length > 0, `kexec-ts ${args.join(' ')} printed something`);
  }
  const root = (await runCliProcess(['--help'], {env: COLUMNS})).stdout;
  const commands = root.split('\nCOMMANDS\n')[1] ?? '';
  const listed = [...commands.matchAll(/^ {2}(\S+) {2,}/gm)].map((m) => m[1] as string);
  assert.deepEqual(listed, ['exec', 'help', 'init', 'inspect', 'load', 'plan', 'status', 'unload'], 'every command, in order');
});

test('bundled CLI: a YAML memory map (yaml loaded lazily) plans as from dist/, and a bad one fails the same way', {skip: CLI_SKIP, timeout: 120_000}, async (t) => {
  const dir = tempDir(t, 'kexec-bundle-');
  const map = join(dir, 'map.yaml');
  writeFileSync(map, 'ranges:\n  - {start: 0x0, end: 0x9f000, type: ram}\n  - {start: 0x100000, end: 0x40000000, type: ram}\n');
  const args = ['plan', '--json', '--memmap', map, KERNEL];
  const [bundled, oclif] = [await runCliProcess(args), await cli(args)];
  assert.equal(bundled.code, 0, bundled.stderr);
  assert.equal(bundled.stdout, oclif.stdout);
  assert.ok((JSON.parse(bundled.stdout) as {segments: unknown[]}).segments.length > 0);

  writeFileSync(map, 'ranges:\n  - {start: 0x0, end: [oops, type: ram}\n');
  const [bad, badOclif] = [await runCliProcess(args), await cli(args)];
  assert.equal(bad.code, 2, bad.stdout + bad.stderr);
  assert.equal(bad.code, badOclif.code);
  const error = (JSON.parse(bad.stdout) as {error: {reason: string; message: string}}).error;
  assert.equal(error.reason, 'bad-memory-map-file');
  assert.ok(error.message.startsWith(`${map}:2: syntax error`), error.message);
  assert.equal(bad.stdout, badOclif.stdout);
});
