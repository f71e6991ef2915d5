/**
 * The bundled CLI (bin/run.js running dist/kexec-ts.cjs as a vm.Script) on what only a large input exercises:
 * an ELF file over 32 MiB is parsed page by page, its two 20 MiB PT_LOADs stay in the file, and their segments
 * are hashed on worker threads (loaded lazily, which inside the bundle must not need a dynamic-import loader).
 * The digests are checked against SHA-256 computed here from the bytes written.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {buildElf} from '../fixtures/elf-builder.js';
import {CLI_BUILT, runCli} from '../helpers/corpus.js';

const MiB = 1 << 20;

test('bundled CLI: plan --json of a 40 MiB two-PT_LOAD ELF, digests computed on workers match', {skip: CLI_BUILT ? false : 'dist/ is not built (npm run build)', timeout: 120_000}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-bundle-'));
  t.after(() => rmSync(dir, {recursive: true, force: true}));
  const data = [1, 2].map((seed) => Uint8Array.from({length: 20 * MiB}, (_, i) => (i * seed * 13 + (i >> 9)) & 0xff));
  const bases = [0x1000000n, 0x4000000n];
  const file = join(dir, 'big.elf');
  writeFileSync(file, buildElf({type: 2, machine: 62, entry: bases[0], segments: data.map((d, i) => ({vaddr: bases[i] as bigint, data: d, align: 0x1000n}))}));
  const r = await runCli(['plan', '--json', '--profile', 'flat-4g', file]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const plan = JSON.parse(r.stdout) as {segments: {mem: string; sha256: string}[]};
  assert.deepEqual(plan.segments.map((s) => s.mem), bases.map((b) => `0x${b.toString(16)}`));
  assert.deepEqual(plan.segments.map((s) => s.sha256), data.map((d) => createHash('sha256').update(d).digest('hex')));
});
