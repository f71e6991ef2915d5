/**
 * Inputs larger than 4 GiB (issue 12): a sparse generic ELF image whose one PT_LOAD holds 4.5 GiB of file data
 * (marker bytes at the start, just past the 4 GiB offset, and at the end; holes elsewhere) is planned from its
 * file and staged on the sim backend. Its segment digest is checked against a hash computed apart from the code
 * under test (a read stream piped into SHA-256, then the zero fill), and the staged segment file is hashed the
 * same way. The growth of the process's peak RSS is bounded, so a regression to reading the file whole fails.
 * FreeBSD cannot preload a raw md_image this large (the kernel block must fit the KERNBASE window below 4 GiB on
 * amd64, one 1 GiB L2 table on arm64; see the md_image refusal test), so the >4 GiB raw bytes ride in an ELF.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {createReadStream, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {pipeline} from 'node:stream/promises';
import {SimBackend} from '../../src/backend/sim/index.js';
import {KexecError} from '../../src/errors.js';
import {makeMemoryMap} from '../../src/memory/memory-map.js';
import {Range} from '../../src/memory/range.js';
import {planFiles} from '../../src/pipeline/plan-files.js';
import {SPARSE_ELF_DATA_OFFSET, writeSparseElf, writeSparseRaw} from '../fixtures/sparse-image.js';
import {tempStateDir} from './sim-fixtures.js';

const GiB = 2 ** 30;
const FILESZ = 4.5 * GiB + 0x123;
const MEMSZ = FILESZ + 0x5000;
const PADDR = 0x1_0000_0000n;

/** SHA-256 of file[start, start + length) followed by `zeros` zero bytes, through a plain read stream. */
async function streamDigest(path: string, start: number, length: number, zeros: number): Promise<string> {
  const h = createHash('sha256');
  if (length > 0) await pipeline(createReadStream(path, {start, end: start + length - 1, highWaterMark: 1 << 20}), h, {end: false});
  const z = Buffer.alloc(1 << 20);
  for (let left = zeros; left > 0; left -= z.length) h.update(z.subarray(0, Math.min(z.length, left)));
  return h.digest('hex');
}

test('a sparse image with 4.5 GiB of file data plans and sim-loads with its digest matching an independent hash', {timeout: 600_000}, async (t) => {
  const dir = tempStateDir(t);
  const image = join(dir, 'big-sparse.elf');
  writeSparseElf(image, {paddr: PADDR, filesz: FILESZ, memsz: MEMSZ});
  const rssBefore = process.resourceUsage().maxRSS;

  const sim = new SimBackend({stateDir: join(dir, 'state'), memoryMap: makeMemoryMap('test map: 8 GiB above 4 GiB', [{range: new Range(PADDR, PADDR + 8n * BigInt(GiB)), type: 'ram'}])});
  const {plan} = await planFiles({image, modules: [], target: await sim.target()});
  assert.equal(plan.segments.length, 1);
  const seg = plan.segments[0] as (typeof plan.segments)[number];
  assert.equal(seg.mem, PADDR);
  assert.equal(seg.bufsz, BigInt(FILESZ));
  const memsz = Math.ceil(MEMSZ / 0x1000) * 0x1000;
  assert.equal(seg.memsz, BigInt(memsz));
  const expected = await streamDigest(image, SPARSE_ELF_DATA_OFFSET, FILESZ, memsz - FILESZ);
  assert.equal(seg.sha256, expected, 'planned digest = independent streaming hash of the file bytes plus zero fill');

  const staged = await sim.load(plan);
  assert.equal(staged.digest, plan.digest);
  const segFile = join(dir, 'state', 'current', 'segment-00.bin');
  assert.equal(statSync(segFile).size, FILESZ, 'the staged segment holds exactly bufsz bytes');
  assert.equal(await streamDigest(segFile, 0, FILESZ, memsz - FILESZ), expected, 'the staged bytes hash to the planned digest');
  assert.ok(statSync(segFile).blocks * 512 < 64 * 2 ** 20, 'the staged copy keeps the holes (all-zero runs are not written)');

  const grewMiB = (process.resourceUsage().maxRSS - rssBefore) / 1024;
  assert.ok(grewMiB < 256, `planning and staging 4.5 GiB grew peak RSS by ${grewMiB.toFixed(0)} MiB (the file was read whole?)`);
});

test('a 4.5 GiB md_image is refused with FreeBSD\'s reason on amd64 and arm64, whatever the memory map', async (t) => {
  const dir = tempStateDir(t);
  const img = join(dir, 'md.img');
  writeSparseRaw(img, 4.5 * GiB);
  const conf = join(dir, 'loader.conf');
  writeFileSync(conf, `md_load="YES"\nmd_type="md_image"\nmd_name="${img}"\n`);
  const huge = join(dir, 'map.json');
  writeFileSync(huge, JSON.stringify({ranges: [{start: '0x0', end: '0x1000000000', type: 'ram'}]}));
  for (const [arch, window] of [['amd64', '2 GiB KERNBASE window'], ['arm64', '1 GiB the arm64 kernel maps at boot']] as const) {
    const kernel = `examples/probe-kernel/build/${arch}/kernel`;
    await assert.rejects(
      planFiles({image: kernel, modules: [], loaderConf: [conf], memmap: huge}),
      (e: unknown) => e instanceof KexecError && e.code === 4 && e.reason === 'kernel-window' && e.message.includes(window) && e.message.includes(`${img} (md_image, 0x120000000 bytes)`),
    );
  }
});
