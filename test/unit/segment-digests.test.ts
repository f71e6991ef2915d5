/**
 * Segment digests on worker threads (src/plan/segment-digests.ts, src/io/hash-pool.ts) are exactly the inline
 * ones (segmentSha256) for segments made of in-memory bytes, file ranges, gaps and zero fill, and a file that
 * changes before a worker reads it is refused with the one-line input error.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {appendFileSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {KexecError} from '../../src/errors.js';
import {FileBytes} from '../../src/io/file-bytes.js';
import {InputFile} from '../../src/io/input-file.js';
import {PARALLEL_HASH_MIN_BYTES, segmentDigests} from '../../src/plan/segment-digests.js';
import {segmentSha256} from '../../src/plan/segment-bytes.js';

function fixture(t: {after: (fn: () => void) => void}): {input: InputFile; path: string} {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-digests-'));
  t.after(() => rmSync(dir, {recursive: true, force: true}));
  const path = join(dir, 'data.bin');
  const b = Buffer.alloc(PARALLEL_HASH_MIN_BYTES + (3 << 20));
  for (let i = 0; i < b.length; i += 4093) b[i] = (i >> 12) & 0xff;
  writeFileSync(path, b);
  return {input: InputFile.open(path, {what: '', maxBytes: 2 ** 40}), path};
}

test('worker digests equal the inline digests, whatever the runs', async (t) => {
  const {input} = fixture(t);
  const half = Math.floor(input.size / 2);
  const segments = [
    {parts: [{offset: 0n, data: new FileBytes(input, 0, half)}], bufsz: BigInt(half), memsz: BigInt(half) + 0x3000n},
    {parts: [{offset: 0x10n, data: Uint8Array.from([1, 2, 3])}, {offset: 0x2000n, data: new FileBytes(input, half, input.size - half)}], bufsz: 0x2000n + BigInt(input.size - half), memsz: 0x2000n + BigInt(input.size - half) + 0x1000n},
    {parts: [], bufsz: 0n, memsz: 0x1000n},
  ];
  const parallel = await segmentDigests(segments, 2);
  assert.deepEqual(parallel, segments.map(segmentSha256));
  assert.notEqual(parallel[0], parallel[1]);
});

test('a file changed before the workers read it is refused as input-changed', async (t) => {
  const {input, path} = fixture(t);
  const segs = [0, 1].map((i) => ({parts: [{offset: 0n, data: new FileBytes(input, i * 4096, 4096)}], bufsz: 4096n, memsz: BigInt(PARALLEL_HASH_MIN_BYTES)}));
  appendFileSync(path, 'x');
  await assert.rejects(segmentDigests(segs, 2), (e: unknown) => e instanceof KexecError && e.code === 3 && e.reason === 'input-changed' && e.message.startsWith(`${path}: changed while kexec-ts was using it`));
});
