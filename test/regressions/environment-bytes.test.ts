/**
 * The kernel environment is bytes end to end (issue 11, bugs 2 and 3): the loader copies loader.conf bytes as
 * they are (stand/common/modinfo.c md_copyenv), so UTF-8 values reach the kernel as their UTF-8 bytes, and the
 * simulated machine walks the block byte by byte, so a non-ASCII value never hides the variables after it.
 * Checked through the CLI on the sim backend (load, then exec --json: the walker's view) and by decoding the
 * environment block of `plan --export` with the independent test decoder.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {encodeEnvironment} from '../../src/image/freebsd/boot-env.js';
import {IN_PROCESS_SKIP, cli} from '../helpers/cli.js';
import {readEnvironment, toPhys} from '../helpers/modinfo-decoder.js';
import {PhysicalMemory} from '../helpers/physical-memory.js';

const K = fileURLToPath(new URL('../../examples/probe-kernel/build/amd64/', import.meta.url));

function temp(t: {after: (fn: () => void) => void}): string {
  const d = mkdtempSync(join(tmpdir(), 'kexec-env-'));
  t.after(() => rmSync(d, {recursive: true, force: true}));
  return d;
}

test('encodeEnvironment writes UTF-8 bytes, sorted byte-wise, and refuses what the kernel cannot take', () => {
  const block = encodeEnvironment(new Map([['b', 'café €'], ['a.first', 'é']]));
  assert.deepEqual(Buffer.from(block), Buffer.concat([Buffer.from('a.first=é\0b=café €\0\0', 'utf8')]));
  assert.equal(Buffer.from(block).includes(Buffer.from([0xe2, 0x82, 0xac])), true, 'the euro sign is its three UTF-8 bytes');
  assert.throws(() => encodeEnvironment(new Map([['x', 'a\0b']])), /environment variable x: the value contains a NUL byte/);
  assert.throws(() => encodeEnvironment(new Map([['x=y', '1']])), /name "x=y" must be non-empty, without "="/);
});

test('a non-ASCII value keeps every later variable in the sim\'s boot report; values arrive byte for byte', {skip: IN_PROCESS_SKIP}, async (t) => {
  const state = temp(t);
  const args = ['--backend', 'sim', '--state-dir', state];
  const load = await cli(['load', ...args, '--profile', 'amd64-4g', '--module-path', K, '--env', 'a.first=é', '--env', 'b.euro=café €', '--env', 'z.last=1', join(K, 'kernel'), '--json']);
  assert.equal(load.code, 0, load.stdout + load.stderr);
  const exec = await cli(['exec', ...args, '--yes', '--json']);
  assert.equal(exec.code, 0, exec.stdout + exec.stderr);
  const env = (JSON.parse(exec.stdout) as {handoff: {env: Record<string, string>}}).handoff.env;
  assert.equal(env['a.first'], 'é');
  assert.equal(env['b.euro'], 'café €');
  assert.equal(env['z.last'], '1', 'the variable after the non-ASCII ones is there');
});

test('plan --export: the environment block decodes to the UTF-8 bytes of each value', {skip: IN_PROCESS_SKIP}, async (t) => {
  const dir = temp(t);
  const r = await cli(['plan', '--profile', 'amd64-4g', '--module-path', K, '--env', 'b.euro=café €', '--json', '--export', dir, join(K, 'kernel')]);
  assert.equal(r.code, 0, r.stderr);
  const {plan, memory} = PhysicalMemory.fromExport(dir);
  const h = plan.handoff as {envp: string; physOffset: string};
  const raw = memory.read(toPhys(BigInt(h.envp), BigInt(h.physOffset)), 4096);
  const end = Buffer.from(raw).indexOf(Buffer.from([0, 0]));
  assert.ok(Buffer.from(raw.subarray(0, end)).includes(Buffer.from('b.euro=café €', 'utf8')));
  assert.ok(readEnvironment(memory, toPhys(BigInt(h.envp), BigInt(h.physOffset))).vars.some(([k]) => k === 'b.euro'));
});
