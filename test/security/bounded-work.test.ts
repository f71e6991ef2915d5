/**
 * Work bounded by input size (issue 13 item 3): tiny hostile files are refused at once with a clear message,
 * never a hang or a heap blow-up. A 4 KiB ELF with two overlapping 1 TiB PT_LOADs, a 225 KB ELF with 4,000
 * identical PT_LOADs (one file offset shared by all, as the attacker wrote it), /dev/zero and a FIFO as every
 * kind of input, a 300-deep module chain, a config with 60,000 env entries. The time limits are hang guards
 * against the old behaviour (hours, 4.4 GB, forever), not benchmarks.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {KexecError} from '../../src/errors.js';
import {parseConfigText} from '../../src/config/parse-config.js';
import {planFiles} from '../../src/pipeline/plan-files.js';
import {ModuleTree, dep, planFails} from '../helpers/freebsd-deps-fixtures.js';
import {IN_PROCESS_SKIP, cli} from '../helpers/cli.js';
import {tempDir} from '../helpers/lifecycle-cli.js';

/** ELF64 EXEC (x86-64) whose PT_LOADs all map the same 16 file bytes: header, phdrs, data. */
function elfWithLoads(loads: readonly {paddr: bigint; memsz: bigint}[]): Uint8Array {
  const phoff = 64;
  const dataOff = phoff + loads.length * 56;
  const b = new Uint8Array(dataOff + 16).fill(1, dataOff);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 62, true); // EM_X86_64
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, loads[0]?.paddr ?? 0n, true);
  dv.setBigUint64(32, BigInt(phoff), true);
  dv.setUint16(52, 64, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, loads.length, true);
  loads.forEach((l, i) => {
    const at = phoff + i * 56;
    dv.setUint32(at, 1, true); // PT_LOAD
    dv.setUint32(at + 4, 5, true);
    dv.setBigUint64(at + 8, BigInt(dataOff), true);
    dv.setBigUint64(at + 16, l.paddr, true);
    dv.setBigUint64(at + 24, l.paddr, true);
    dv.setBigUint64(at + 32, 16n, true);
    dv.setBigUint64(at + 40, l.memsz, true);
    dv.setBigUint64(at + 48, 0x1000n, true);
  });
  return b;
}

async function refusedFast(path: string, code: number, message: RegExp): Promise<void> {
  const start = process.hrtime.bigint();
  const rss = process.memoryUsage().rss;
  let caught: unknown;
  await planFiles({image: path, modules: [], profile: 'amd64-4g'}).then(() => assert.fail('expected a refusal'), (e: unknown) => void (caught = e));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  assert.ok(caught instanceof KexecError, String(caught));
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, message);
  assert.ok(ms < 2000, `refused after ${ms.toFixed(0)} ms`);
  assert.ok(process.memoryUsage().rss - rss < 256 << 20, 'memory stays bounded');
}

test('two overlapping 1 TiB PT_LOADs and 4,000 identical PT_LOADs: refused in under 2 s', async (t) => {
  const dir = tempDir(t, 'kexec-bounded-');
  const tib = join(dir, 'tib.elf');
  writeFileSync(tib, elfWithLoads([{paddr: 0x100000n, memsz: 1n << 40n}, {paddr: 0x100000n, memsz: 1n << 40n}]));
  await refusedFast(tib, 4, /spans 3 RAM ranges/);
  const many = join(dir, 'many.elf');
  const bytes = elfWithLoads(Array.from({length: 4000}, () => ({paddr: 0x100000n, memsz: 0x1000n})));
  assert.ok(bytes.length < 230_000);
  writeFileSync(many, bytes);
  await refusedFast(many, 3, /4000 PT_LOAD program headers; kexec-ts plans images with at most 1024/);
});

test('/dev/zero and a FIFO as every kind of input: refused at once, naming the path', {skip: IN_PROCESS_SKIP, timeout: 60000}, async (t) => {
  const dir = tempDir(t, 'kexec-bounded-');
  const fifo = join(dir, 'fifo');
  if (spawnSync('mkfifo', [fifo]).status !== 0) return t.skip('mkfifo not available');
  const kernel = join(process.cwd(), 'examples/probe-kernel/build/amd64/kernel');
  for (const bad of ['/dev/zero', fifo]) {
    const cases: string[][] = [
      ['inspect', bad], ['plan', bad], ['plan', '--env-file', bad, kernel], ['plan', '--dtb', bad, kernel], ['plan', '--efi-map', bad, kernel],
      ['plan', '--smap', bad, kernel], ['plan', '--memmap', bad, kernel], ['plan', '--loader-conf', bad, kernel], ['plan', '--config', bad, kernel],
    ];
    for (const args of cases) {
      const r = await cli(args);
      assert.ok(r.code === 2 || r.code === 3, `${args.join(' ')}: exit ${r.code} ${r.stderr}`);
      assert.ok(r.stderr.includes(bad), `${args.join(' ')} names the path: ${r.stderr}`);
    }
  }
});

test('a 300-deep module dependency chain is refused with the documented limit', {timeout: 120000}, async () => {
  const tree = new ModuleTree();
  try {
    const kernel = tree.kernel();
    const dir = tree.dir('chain');
    for (let i = 0; i < 300; i++) tree.module('chain', {name: `m${i}`, version: 1, ...(i < 299 ? {depends: [dep(`m${i + 1}`, 1, 1, 1)]} : {})});
    const e = await planFails({image: kernel, modules: ['m0'], modulePath: dir});
    assert.equal(e.reason, 'too-many-modules');
    assert.match(e.message, /more than 256 files \(kernel and modules\)/);
  } finally {
    tree.remove();
  }
});

test('a config with 60,000 env entries parses in linear time; a duplicate key is still found', () => {
  const lines = ['backend: sim', 'env:'];
  for (let i = 0; i < 60_000; i++) lines.push(`  v${i}: 1`);
  const start = Date.now();
  const config = parseConfigText('big.yaml', `${lines.join('\n')}\n`);
  assert.ok(Date.now() - start < 20_000, 'the old quadratic duplicate-key check took two minutes');
  assert.equal(Object.keys(config?.env ?? {}).length, 60_000);
  assert.throws(() => parseConfigText('dup.yaml', 'env:\n  a: 1\n  b: 2\n  a: 3\n'), /dup\.yaml:4: syntax error: Map keys must be unique/);
});
